"""oauth_proxy.testing.decide() with a Lambda handler handler(event, context), as well as with authorize(event)."""
from __future__ import annotations

import pytest

from conftest import KEY, ORIGIN, PREFIX, SESSION
from oauth_proxy.lambda_handler import make_handler
from oauth_proxy.testing import DenialLog, LambdaContext, decide

ENV = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY}


@pytest.fixture(scope="module")
def lambda_handler():
    """The handler handler.py exposes on Lambda, built from this environment: it takes (event, context)."""
    return make_handler(ENV)


def test_a_lambda_handler_is_called_with_a_context(lambda_handler):
    allowed = decide(lambda_handler, SESSION.rest_event("GET", "/orders"))
    assert allowed.status == 200 and allowed.token == f"Bearer {SESSION.token}"
    assert decide(lambda_handler, SESSION.rest_event("GET", "/orders", origin="https://evil.example")).reason == \
        "untrusted_origin"
    denied = decide(lambda_handler, SESSION.http_event("GET", "/orders", at_cookie=None))
    assert (denied.status, denied.reason) == (401, "at_cookie_missing")


def test_the_context_carries_a_request_id_into_the_denial_line(lambda_handler):
    with DenialLog() as log:
        decision = decide(lambda_handler, SESSION.rest_event("POST", "/orders", csrf_header=None),
                          LambdaContext("8f5c2a1e-0000-4000-8000-000000000001"))
    assert decision.reason == "csrf_header_missing"
    assert log.lines[-1]["awsRequestId"] == "8f5c2a1e-0000-4000-8000-000000000001"


def test_a_handler_of_ones_own_gets_a_fresh_lambda_context():
    seen = []

    def handler(event, context):
        seen.append(context)
        return {"isAuthorized": True, "context": {"token": "Bearer x"}}

    assert decide(handler, SESSION.http_event()).allowed
    assert decide(handler, SESSION.http_event()).allowed
    first, second = seen
    assert first.aws_request_id != second.aws_request_id
    assert len(first.aws_request_id) == 36 and first.get_remaining_time_in_millis() > 0


def test_one_argument_callables_get_no_context(lambda_handler):
    calls = []

    def authorize(event, extra=None):  # a second, optional parameter that is not a context
        calls.append(extra)
        return lambda_handler(event, None)

    assert decide(authorize, SESSION.rest_event()).allowed
    assert decide(lambda event: lambda_handler(event, None), SESSION.rest_event()).allowed
    assert calls == [None]


def test_authorize_itself_still_works(oauth_proxy_factory, spa_session):
    proxy = oauth_proxy_factory()
    assert decide(proxy.authorize, spa_session.rest_event("GET", "/orders")).allowed
