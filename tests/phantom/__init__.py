"""Phantom token tests. A package, so that its conftest does not shadow tests/conftest.py."""
