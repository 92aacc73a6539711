"""Phantom token tests (issue 3). A package, so that its conftest does not shadow tests/conftest.py."""
