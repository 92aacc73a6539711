"""Shared fixtures: keys, cookies and API Gateway events of both payload versions.

The events come from oauth_proxy.testing (the public test helpers, whose pytest plugin is loaded too); the
functions here keep the short forms the suite was written with: fixed keys and values, and raw headers
dropped into an otherwise complete event, for tests that craft hostile or unusual headers."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import settings

import oauth_proxy
from oauth_proxy.testing import DenialLog, SpaSession, make_jwt  # noqa: F401 - make_jwt: the tests import it from here

# CI decides whether a submission lands: there the property tests run a fixed set of examples, so a green
# run stays green. Developers' runs keep exploring new ones (and the long runs of HARDENING.md).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors" / "curity-v1.json"
_function_folder: list = []


def function_folder() -> str:
    """A folder holding only a copy of handler.py, as Lambda's /var/task holds the function. handler.py is
    not installed with the package, and the repository root cannot go on the path (its oauth_proxy/ has no
    compiled core), so a child interpreter that imports handler gets this folder in PYTHONPATH."""
    if not _function_folder:
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="oauth-proxy-function-")
        atexit.register(shutil.rmtree, folder, True)
        shutil.copy(REPO / "handler.py", folder)
        _function_folder.append(folder)
    return _function_folder[0]

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"
OLD_KEY = "4e4636356d65563e4c73233847503e3b21436e6f7629724950526f4b5e2e4e50"
ORIGIN = "https://www.example.com"
PREFIX = "example"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/1"
ROUTE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/POST/orders"
OPAQUE = "42665300-efe8-419d-be52-07b53e208f46"
CLIENT_ID = "api-gateway-client"
CLIENT_SECRET = "Pr0xy-S3cret!value"
CSRF = "pQguFsD6hFjnyYjaeC5KyijcWS6AvkJHiUmY7dLUsuTKsLAITLiJHVqsCdQpaGYO"


# The browser of the fixed-value tests: KEY, PREFIX, ORIGIN, the OPAQUE token and the CSRF value.
SESSION = SpaSession(KEY, PREFIX, ORIGIN, token=OPAQUE, csrf=CSRF)


def b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="session")
def oauth_proxy_key() -> str:
    """The plugin's fixtures (spa_session, oauth_proxy_factory...) use the suite's fixed key."""
    return KEY


@pytest.fixture(scope="session")
def vectors() -> dict:
    with open(VECTORS, encoding="utf-8") as stream:
        return json.load(stream)


def config(**overrides) -> oauth_proxy.Config:
    values = dict(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY)
    values.update(overrides)
    return oauth_proxy.Config(**values)


def proxy(**overrides) -> oauth_proxy.OAuthProxy:
    return oauth_proxy.OAuthProxy(config(**overrides))


def cookies(token: str = OPAQUE, csrf: Optional[str] = CSRF, key: str = KEY) -> str:
    parts = [f"{PREFIX}-at={oauth_proxy.encrypt_cookie(token, key)}"]
    if csrf is not None:
        parts.append(f"{PREFIX}-csrf={oauth_proxy.encrypt_cookie(csrf, key)}")
    return "; ".join(parts)


def rest_event(method: str = "GET", headers: Optional[dict] = None, multi: Optional[dict] = None,
               arn: Optional[str] = METHOD_ARN) -> dict:
    """A payload 1.0 event for /orders/1 whose headers are exactly `headers` and `multi` (None included)."""
    event = SESSION.rest_event(method, "/orders/1")
    event.update(headers=headers, multiValueHeaders=multi)
    del event["methodArn"]
    if arn is not None:
        event["methodArn"] = arn
    return event


def http_event(method: str = "POST", headers: Optional[dict] = None, cookie_list: Optional[list] = None,
               arn: Optional[str] = ROUTE_ARN) -> dict:
    """A payload 2.0 event for /orders whose headers and cookies are exactly `headers` and `cookie_list`."""
    event = SESSION.http_event(method, "/orders")
    event.update(headers=headers, cookies=cookie_list)
    del event["routeArn"]
    if arn is not None:
        event["routeArn"] = arn
    return event


def bearer_event(token: str) -> dict:
    """A REST API (payload 1.0) GET carrying `token` as a bearer token, and neither origin nor cookies."""
    return SESSION.rest_event("GET", "/orders", origin=None, at_cookie=None, csrf_cookie=None, bearer=token)


def cookie_event(token: str) -> dict:
    """A browser's GET: the token inside the encrypted -at cookie (and no CSRF cookie)."""
    return SESSION.rest_event("GET", "/orders", token=token, csrf_cookie=None)


def free_port() -> int:
    """A loopback port with nothing listening (for 'connection refused')."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spa_headers(method: str = "GET", token: str = OPAQUE, **extra) -> dict:
    headers = {"Origin": ORIGIN, "Cookie": cookies(token)}
    if method not in ("GET", "HEAD", "OPTIONS"):
        headers[f"x-{PREFIX}-csrf"] = CSRF
    headers.update(extra)
    return headers


Denials = DenialLog


@pytest.fixture(autouse=True)
def keep_log_level():
    """Every OAuthProxy sets the shared oauth_proxy logger's level (LOG_LEVEL); no test leaves its level
    to the next one."""
    logger = logging.getLogger("oauth_proxy")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture
def denials():
    handler = DenialLog().attach()
    yield handler
    handler.detach()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory):
    """A throwaway certificate authority and a certificate for 127.0.0.1 (tests/tls_ca.py)."""
    from tls_ca import TestCA

    return TestCA(tmp_path_factory.mktemp("ca"))
