"""Constants and event builders shared by the phantom token tests."""

from __future__ import annotations

import oauth_proxy

KEY = "4c7ae3f3b4e54a1d9ab5d0b3a1f0e2d3c4b5a6978877665544332211ffeeddcc"
ORIGIN = "https://www.example.com"
PREFIX = "example"
CLIENT_ID = "api-gateway-client"
CLIENT_SECRET = "Pr0xy-S3cret!value"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders"



def bearer_event(token: str) -> dict:
    """A REST API (payload 1.0) event carrying the opaque token as a bearer token."""
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {token}"},
        "multiValueHeaders": None,
    }


def cookie_event(token: str) -> dict:
    """A browser request: the opaque token inside the encrypted -at cookie."""
    cookie = oauth_proxy.encrypt_cookie(token, KEY)
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "httpMethod": "GET",
        "headers": {"Origin": ORIGIN, "Cookie": f"{PREFIX}-at={cookie}"},
        "multiValueHeaders": None,
    }
