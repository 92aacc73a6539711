"""Fixtures for the phantom token tests: real introspection servers on loopback."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from introspection_server import IntrospectionServer  # noqa: E402
from tls_ca import TestCA  # noqa: E402

import oauth_proxy  # noqa: E402

from phantom_support import CLIENT_ID, CLIENT_SECRET, KEY, ORIGIN, PREFIX  # noqa: E402


@pytest.fixture
def server():
    s = IntrospectionServer()
    yield s
    s.close()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def tls_server(test_ca):
    s = IntrospectionServer(test_ca.server_context())
    yield s
    s.close()


@pytest.fixture
def make_proxy():
    """make_proxy(url, **config overrides) -> OAuthProxy with phantom tokens on."""

    def make(url: str, **overrides) -> oauth_proxy.OAuthProxy:
        settings = dict(
            trusted_web_origins=[ORIGIN],
            cookie_name_prefix=PREFIX,
            encryption_key=KEY,
            allow_token=True,
            use_phantom_token=True,
            introspection_url=url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            introspection_timeout_ms=2000,
        )
        settings.update(overrides)
        return oauth_proxy.OAuthProxy(oauth_proxy.Config(**settings))

    return make
