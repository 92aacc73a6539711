"""Deployment checks: packaging, the Lambda artifact, the gateway emulator."""
