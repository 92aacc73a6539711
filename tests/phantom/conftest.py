"""Fixtures for the phantom token tests: oauth_proxy.testing's IntrospectionEndpoint, over HTTP and HTTPS."""

from __future__ import annotations

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET
from oauth_proxy.testing import IntrospectionEndpoint


@pytest.fixture
def server(introspection_endpoint):
    """The plugin's endpoint (HTTP); tests set `server.reply` or register tokens."""
    return introspection_endpoint


@pytest.fixture
def tls_server(test_ca):
    endpoint = IntrospectionEndpoint(test_ca.server_context())
    yield endpoint
    endpoint.close()


@pytest.fixture
def make_proxy(oauth_proxy_factory):
    """make_proxy(url, **config overrides) -> OAuthProxy with phantom tokens and bearer tokens on."""

    def make(url: str, **overrides):
        settings = dict(allow_token=True, use_phantom_token=True, introspection_url=url, client_id=CLIENT_ID,
                        client_secret=CLIENT_SECRET, introspection_timeout_ms=2000)
        settings.update(overrides)
        return oauth_proxy_factory(**settings)

    return make
