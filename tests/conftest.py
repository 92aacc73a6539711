"""Shared fixtures: keys, cookies and API Gateway events of both payload versions."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import settings

import oauth_proxy

# CI decides whether a submission lands: there the property tests run a fixed set of examples, so a green
# run stays green. Developers' runs keep exploring new ones (and the long runs of HARDENING.md).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors" / "curity-v1.json"

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"
OLD_KEY = "4e4636356d65563e4c73233847503e3b21436e6f7629724950526f4b5e2e4e50"
ORIGIN = "https://www.example.com"
PREFIX = "example"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/1"
ROUTE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/POST/orders"
OPAQUE = "42665300-efe8-419d-be52-07b53e208f46"
CSRF = "pQguFsD6hFjnyYjaeC5KyijcWS6AvkJHiUmY7dLUsuTKsLAITLiJHVqsCdQpaGYO"


def b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict, header: Optional[dict] = None) -> str:
    head = header or {"alg": "RS256", "kid": "test"}
    return f"{b64url(json.dumps(head).encode())}.{b64url(json.dumps(claims).encode())}.c2lnbmF0dXJl"


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
    event = {"type": "REQUEST", "httpMethod": method, "path": "/orders/1", "headers": headers,
             "multiValueHeaders": multi}
    if arn is not None:
        event["methodArn"] = arn
    return event


def http_event(method: str = "POST", headers: Optional[dict] = None, cookie_list: Optional[list] = None,
               arn: Optional[str] = ROUTE_ARN) -> dict:
    event = {"version": "2.0", "type": "REQUEST", "rawPath": "/orders", "headers": headers,
             "cookies": cookie_list, "requestContext": {"http": {"method": method, "path": "/orders"}}}
    if arn is not None:
        event["routeArn"] = arn
    return event


def spa_headers(method: str = "GET", token: str = OPAQUE, **extra) -> dict:
    headers = {"Origin": ORIGIN, "Cookie": cookies(token)}
    if method not in ("GET", "HEAD", "OPTIONS"):
        headers[f"x-{PREFIX}-csrf"] = CSRF
    headers.update(extra)
    return headers


class Denials(logging.Handler):
    """Collects the JSON denial lines of the oauth_proxy logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list = []
        self.raw: list = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.raw.append(message)
        self.lines.append(json.loads(message))

    @property
    def reasons(self) -> list:
        return [line["reason"] for line in self.lines]


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
    handler = Denials()
    logger = logging.getLogger("oauth_proxy")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
