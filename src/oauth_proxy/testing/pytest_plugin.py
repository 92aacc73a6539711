"""The oauth-proxy pytest plugin: fixtures for testing with SpaSession and IntrospectionEndpoint.

Registered through the `pytest11` entry point, so installing oauth-proxy makes these fixtures available to
every test (`pytest -p no:oauth_proxy` turns the plugin off):

- `oauth_proxy_key`: a random 64-hex encryption key, one per test session.
- `oauth_proxy_origin` (`https://www.example.com`) and `oauth_proxy_cookie_prefix` (`example`): override
  these fixtures in your conftest.py to use your own.
- `oauth_proxy_cookie_format` (`v1`) and `oauth_proxy_csrf_mode` (`double-submit`): COOKIE_FORMAT and
  CSRF_MODE; override them (e.g. `v2` and `header` for Curity's 2024 OAuth Agents) and the fixtures below follow.
- `spa_session`: a SpaSession with that key, prefix, origin, cookie format and CSRF mode (a fresh login per
  test).
- `oauth_proxy_config`: the matching oauth_proxy.Config.
- `oauth_proxy_factory`: `oauth_proxy_factory(**config_overrides)` -> OAuthProxy; pass
  `introspection=endpoint` to turn phantom tokens on against an IntrospectionEndpoint.
- `introspection_endpoint`: an IntrospectionEndpoint (HTTP) closed after the test.
- `oauth_proxy_denials`: a DenialLog collecting the denial lines logged during the test (`.reasons`).
"""
from __future__ import annotations

import secrets
from typing import Any, Callable, Dict, Iterator, Optional

import pytest

from ..config import Config
from ..proxy import OAuthProxy
from .decision import DenialLog
from .events import SpaSession
from .introspection import IntrospectionEndpoint

CLIENT_ID = "oauth-proxy-test-client"
CLIENT_SECRET = "oauth-proxy-test-secret"


@pytest.fixture(scope="session")
def oauth_proxy_key() -> str:
    """A random 64-hex AES-256 key: the OAuth Agent's cookie key in the tests of this session."""
    return secrets.token_hex(32)


@pytest.fixture
def oauth_proxy_origin() -> str:
    """The SPA's origin (TRUSTED_WEB_ORIGINS). Override the fixture to use your own."""
    return "https://www.example.com"


@pytest.fixture
def oauth_proxy_cookie_prefix() -> str:
    """The OAuth Agent's cookie name prefix (COOKIE_NAME_PREFIX). Override the fixture to use your own."""
    return "example"


@pytest.fixture
def oauth_proxy_cookie_format() -> str:
    """The OAuth Agent's cookie generation (COOKIE_FORMAT): `v1`, or `v2` for Curity's 2024 agents."""
    return "v1"


@pytest.fixture
def oauth_proxy_csrf_mode() -> str:
    """CSRF_MODE: `double-submit`, or `header` (the token-handler-version header of Curity's 2024 agents)."""
    return "double-submit"


@pytest.fixture
def spa_session(oauth_proxy_key: str, oauth_proxy_cookie_prefix: str, oauth_proxy_origin: str,
                oauth_proxy_cookie_format: str, oauth_proxy_csrf_mode: str) -> SpaSession:
    """The browser after a login: `spa_session.rest_event("GET", "/orders")`, `.http_event(...)`."""
    return SpaSession(oauth_proxy_key, oauth_proxy_cookie_prefix, oauth_proxy_origin,
                      cookie_format=oauth_proxy_cookie_format, csrf_mode=oauth_proxy_csrf_mode)


@pytest.fixture
def oauth_proxy_config(oauth_proxy_key: str, oauth_proxy_cookie_prefix: str, oauth_proxy_origin: str,
                       oauth_proxy_cookie_format: str, oauth_proxy_csrf_mode: str) -> Config:
    """A Config trusting the SPA's origin, with the session's key, prefix, cookie format and CSRF mode, and
    all else default."""
    return Config(trusted_web_origins=[oauth_proxy_origin], cookie_name_prefix=oauth_proxy_cookie_prefix,
                  encryption_key=oauth_proxy_key, cookie_format=oauth_proxy_cookie_format,
                  csrf_mode=oauth_proxy_csrf_mode)


@pytest.fixture
def oauth_proxy_factory(oauth_proxy_key: str, oauth_proxy_cookie_prefix: str, oauth_proxy_origin: str,
                        oauth_proxy_cookie_format: str, oauth_proxy_csrf_mode: str) -> Callable[..., OAuthProxy]:
    """`oauth_proxy_factory(**overrides)` -> OAuthProxy: the keywords of Config over the fixtures' defaults.
    `introspection=endpoint` also sets use_phantom_token, introspection_url and the client credentials
    for that IntrospectionEndpoint (its `credentials`, when set)."""

    def make(*, introspection: Optional[IntrospectionEndpoint] = None, **overrides: Any) -> OAuthProxy:
        settings: Dict[str, Any] = dict(trusted_web_origins=[oauth_proxy_origin],
                                        cookie_name_prefix=oauth_proxy_cookie_prefix, encryption_key=oauth_proxy_key,
                                        cookie_format=oauth_proxy_cookie_format, csrf_mode=oauth_proxy_csrf_mode)
        if introspection is not None:
            client_id, client_secret = introspection.credentials or (CLIENT_ID, CLIENT_SECRET)
            settings.update(use_phantom_token=True, introspection_url=introspection.url,
                            client_id=client_id, client_secret=client_secret)
        settings.update(overrides)
        return OAuthProxy(Config(**settings))

    return make


@pytest.fixture
def introspection_endpoint() -> Iterator[IntrospectionEndpoint]:
    """An IntrospectionEndpoint on loopback: `.issue(token, claims)`, `.url`, `.calls`."""
    endpoint = IntrospectionEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def oauth_proxy_denials() -> Iterator[DenialLog]:
    """The denial lines the authorizer logs during the test: `oauth_proxy_denials.reasons`."""
    with DenialLog() as log:
        yield log
