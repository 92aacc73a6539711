"""Fixtures for the verified-JWT tests: a loopback JWKS endpoint and proxies that verify against it."""
from __future__ import annotations

import pytest

from conftest import config as base_config
from verified_jwt.jwks_support import AUDIENCE, ISSUER, JwksEndpoint

import oauth_proxy


@pytest.fixture
def jwks_endpoint():
    endpoint = JwksEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def verifying(jwks_endpoint):
    """verifying(**overrides) -> OAuthProxy with ALLOW_TOKEN and JWKS_URL at the loopback endpoint."""

    def make(**overrides):
        settings = dict(allow_token=True, jwks_url=jwks_endpoint.url, jwt_issuer=ISSUER, jwt_audience=[AUDIENCE],
                        introspection_timeout_ms=2000)
        settings.update(overrides)
        return oauth_proxy.OAuthProxy(base_config(**settings))

    return make
