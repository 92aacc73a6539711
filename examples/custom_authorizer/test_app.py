"""Tests of the custom authorizer in app.py, as you would write them for an authorizer of your own.

Needs pytest and the oauth-proxy-authorizer package (its pytest plugin gives the fixtures spa_session,
oauth_proxy_key, oauth_proxy_origin, oauth_proxy_cookie_prefix and oauth_proxy_denials). Run from this folder:

    python -m pytest test_app.py
"""
import importlib
import sys
from pathlib import Path

import pytest

import oauth_proxy
from oauth_proxy.testing import SPOIL, decide, make_jwt

ACME = make_jwt({"sub": "alice", "tenant": "acme", "scope": "openid orders"})


@pytest.fixture
def app(monkeypatch, oauth_proxy_key, oauth_proxy_origin, oauth_proxy_cookie_prefix):
    """app.py imported afresh for each test: it builds its OAuthProxy from the environment at import, so the
    environment is set first, with the values the spa_session fixture encrypts its cookies for."""
    monkeypatch.setenv("TRUSTED_WEB_ORIGINS", oauth_proxy_origin)
    monkeypatch.setenv("COOKIE_NAME_PREFIX", oauth_proxy_cookie_prefix)
    monkeypatch.setenv("ENCRYPTION_KEY", oauth_proxy_key)
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.delitem(sys.modules, "app", raising=False)
    return importlib.import_module("app")


@pytest.mark.parametrize("payload", ["rest", "http"])
def test_the_tenant_reaches_the_upstream(app, spa_session, payload):
    spa_session.login(ACME)
    event = getattr(spa_session, f"{payload}_event")("POST", "/acme/orders")

    allowed = decide(app.handler, event)  # a Lambda handler(event, context): decide passes a fake context

    assert allowed.status == 200
    assert allowed.token == f"Bearer {ACME}"
    assert allowed.response["context"]["tenant"] == "acme"


@pytest.mark.parametrize("payload", ["rest", "http"])
def test_another_tenants_path_is_refused(app, spa_session, payload):
    spa_session.login(ACME)
    event = getattr(spa_session, f"{payload}_event")("GET", "/globex/orders")
    denied = decide(app.handler, event)
    assert (denied.status, denied.reason) == (403, "tenant_mismatch")


def test_the_token_handler_checks_still_run(app, spa_session, oauth_proxy_denials):
    assert decide(app.handler, spa_session.rest_event("POST", "/acme/orders", csrf_header=None)).status == 403
    assert decide(app.handler, spa_session.rest_event("GET", "/acme/orders", origin=SPOIL)).status == 403
    assert decide(app.handler, spa_session.rest_event("GET", "/acme/orders", at_cookie=None)).status == 401
    assert oauth_proxy_denials.reasons == ["csrf_header_missing", "untrusted_origin", "at_cookie_missing"]


def test_no_cookie_raises_unauthorized_for_lambda(app, spa_session):
    with pytest.raises(oauth_proxy.Unauthorized):  # Lambda reports it, and API Gateway answers 401
        app.handler(spa_session.rest_event("GET", "/acme/orders", at_cookie=None), None)
