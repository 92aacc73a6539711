"""A local authorization demo: a throwaway key, cookies as Curity's OAuth Agent would issue them, and a
handful of SPA requests through the authorizer, with the outcome of each and why."""
from __future__ import annotations

import logging
import secrets
from typing import Any, Callable, Dict, List, Tuple

from ._core import encrypt_cookie
from .config import Config
from .errors import Unauthorized
from .proxy import OAuthProxy

ORIGIN = "https://www.example.com"
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/{method}/orders"
# A JWT as the OAuth Agent would hold it (unsigned demo token: the API behind the gateway verifies it).
DEMO_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRlbW8ifQ."
    "eyJzdWIiOiJkZW1vLXVzZXIiLCJzY29wZSI6Im9wZW5pZCBvcmRlcnMiLCJleHAiOjQxMDI0NDQ4MDB9."
    "c2lnbmF0dXJl"
)


class _LastReason(logging.Handler):
    reason = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        start = message.find('"reason":"')
        self.reason = message[start + 10 : message.index('"', start + 10)] if start >= 0 else ""


def run_demo() -> int:
    key = secrets.token_hex(32)
    proxy = OAuthProxy(Config(trusted_web_origins=[ORIGIN], cookie_name_prefix="example", encryption_key=key))
    at_cookie = encrypt_cookie(DEMO_JWT, key)
    csrf_token = secrets.token_urlsafe(32)
    csrf_cookie = encrypt_cookie(csrf_token, key)
    cookies = f"example-at={at_cookie}; example-csrf={csrf_cookie}"

    def event(method: str, **headers: str) -> Dict[str, Any]:
        return {
            "type": "REQUEST",
            "methodArn": ARN.format(method=method),
            "httpMethod": method,
            "path": "/orders",
            "headers": {k.replace("_", "-"): v for k, v in headers.items()},
        }

    scenarios: List[Tuple[str, Callable[[], Dict[str, Any]]]] = [
        ("GET with the cookies", lambda: event("GET", Origin=ORIGIN, Cookie=cookies)),
        ("POST with the CSRF header", lambda: event("POST", Origin=ORIGIN, Cookie=cookies, **{"x-example-csrf": csrf_token})),
        ("POST without the CSRF header", lambda: event("POST", Origin=ORIGIN, Cookie=cookies)),
        ("GET from another origin", lambda: event("GET", Origin="https://evil.example", Cookie=cookies)),
        ("GET without cookies", lambda: event("GET", Origin=ORIGIN)),
        ("GET with a tampered cookie", lambda: event("GET", Origin=ORIGIN, Cookie=f"example-at={at_cookie[:-2]}AA")),
    ]

    catcher = _LastReason()
    logger = logging.getLogger("oauth_proxy")
    logger.addHandler(catcher)
    logger.propagate = False
    print("oauth-proxy demo: a throwaway key, cookies encrypted as the OAuth Agent does, six SPA requests\n")
    print(f"{'request':32} {'outcome':9} detail")
    print(f"{'-' * 32} {'-' * 9} {'-' * 40}")
    try:
        for title, make in scenarios:
            catcher.reason = ""
            try:
                response = proxy.authorize(make())
            except Unauthorized:
                print(f"{title:32} {'401':9} {catcher.reason}")
                continue
            if catcher.reason:
                print(f"{title:32} {'403':9} {catcher.reason}")
            else:
                token = response["context"]["token"]
                print(f"{title:32} {'allow':9} principal {response['principalId']}, upstream gets "
                      f"Authorization: {token[:24]}...")
    finally:
        logger.removeHandler(catcher)
        logger.propagate = True
    print("\nThe upstream API sees the JWT in the Authorization header; the browser only ever held cookies.")
    return 0
