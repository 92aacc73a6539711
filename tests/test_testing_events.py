"""oauth_proxy.testing.SpaSession: the events have API Gateway's shapes, and the authorizer answers each
variant (allowed, or each dropped or spoiled part) with its outcome and reason.

The key sets are those of AWS's documented REQUEST authorizer inputs ("Input to an API Gateway Lambda
authorizer", and the payload 2.0 format of "Working with AWS Lambda authorizers for HTTP APIs")."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import oauth_proxy
from oauth_proxy.testing import SPOIL, SpaSession, decide, make_jwt
from conftest import KEY, ORIGIN, PREFIX

REST_KEYS = {"type", "methodArn", "resource", "path", "httpMethod", "headers", "multiValueHeaders",
             "queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables",
             "requestContext"}
REST_CONTEXT_KEYS = {"resourceId", "resourcePath", "httpMethod", "extendedRequestId", "requestTime", "path",
                     "accountId", "protocol", "stage", "domainPrefix", "requestTimeEpoch", "requestId", "identity",
                     "domainName", "apiId"}
HTTP_KEYS = {"version", "type", "routeArn", "identitySource", "routeKey", "rawPath", "rawQueryString", "cookies",
             "headers", "requestContext"}
HTTP_CONTEXT_KEYS = {"accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey", "stage",
                     "time", "timeEpoch"}


@pytest.fixture
def session():
    return SpaSession(KEY, PREFIX, ORIGIN)


@pytest.fixture
def proxy():
    return oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                     encryption_key=KEY))


def test_rest_event_has_the_payload_1_shape(session):
    event = session.rest_event("POST", "/orders/7", resource="/orders/{id}", path_parameters={"id": "7"},
                               query={"page": "2"}, stage_variables={"upstream": "orders"})
    assert set(event) == REST_KEYS
    assert REST_CONTEXT_KEYS <= set(event["requestContext"])
    assert event["type"] == "REQUEST" and event["httpMethod"] == "POST"
    assert event["methodArn"] == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/orders/7"
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/orders/{id}"
    assert event["path"] == "/orders/7" and event["requestContext"]["path"] == "/prod/orders/7"
    assert event["pathParameters"] == {"id": "7"} and event["stageVariables"] == {"upstream": "orders"}
    assert event["queryStringParameters"] == {"page": "2"}
    assert event["multiValueQueryStringParameters"] == {"page": ["2"]}
    # API Gateway: `headers` holds the last value of each header, `multiValueHeaders` all of them.
    assert set(event["headers"]) == set(event["multiValueHeaders"])
    for name, values in event["multiValueHeaders"].items():
        assert event["headers"][name] == values[-1]
    assert event["headers"]["Origin"] == ORIGIN
    assert event["headers"][f"x-{PREFIX}-csrf"] == session.csrf
    assert event["headers"]["Cookie"] == f"{PREFIX}-at={session.at_cookie}; {PREFIX}-csrf={session.csrf_cookie}"
    json.dumps(event)  # what the Lambda runtime hands over is JSON


def test_rest_event_without_parameters_has_nulls(session):
    event = session.rest_event()
    assert event["httpMethod"] == "GET" and event["path"] == event["resource"] == "/orders"
    for key in ("queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables"):
        assert event[key] is None
    assert f"x-{PREFIX}-csrf" not in event["headers"]  # a GET carries no CSRF header


def test_http_event_has_the_payload_2_shape(session):
    event = session.http_event("DELETE", "/orders/7", resource="/orders/{id}", path_parameters={"id": "7"},
                               query={"page": "2"})
    assert HTTP_KEYS <= set(event)
    assert HTTP_CONTEXT_KEYS <= set(event["requestContext"])
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    assert event["routeArn"] == "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/DELETE/orders/7"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "DELETE /orders/{id}"
    assert event["requestContext"]["http"]["method"] == "DELETE"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/orders/7"
    assert event["rawQueryString"] == "page=2" and event["queryStringParameters"] == {"page": "2"}
    assert event["pathParameters"] == {"id": "7"}
    # Payload 2.0: lower-case header names, the cookies in their own list and not in a header.
    assert all(name == name.lower() for name in event["headers"])
    assert "cookie" not in event["headers"]
    assert event["cookies"] == [f"{PREFIX}-at={session.at_cookie}", f"{PREFIX}-csrf={session.csrf_cookie}"]
    assert event["headers"]["origin"] == ORIGIN and event["headers"][f"x-{PREFIX}-csrf"] == session.csrf
    json.dumps(event)


def test_http_event_route_key_and_absent_parts(session):
    event = session.http_event("GET", "/anything", route_key="$default", at_cookie=None, csrf_cookie=None)
    assert event["routeKey"] == "$default"
    assert "cookies" not in event and "queryStringParameters" not in event and "pathParameters" not in event
    assert session.http_event("GET", "/orders/1")["routeKey"] == "GET /orders/1"


def test_split_cookies_are_several_cookie_headers(session, proxy):
    event = session.rest_event("POST", "/orders", split_cookies=True)
    assert event["multiValueHeaders"]["Cookie"] == [f"{PREFIX}-at={session.at_cookie}",
                                                    f"{PREFIX}-csrf={session.csrf_cookie}"]
    assert event["headers"]["Cookie"] == f"{PREFIX}-csrf={session.csrf_cookie}"
    assert decide(proxy.authorize, event).status == 200


def test_extra_headers_add_and_remove(session):
    rest = session.rest_event("GET", "/orders", headers={"X-Trace": "1", "origin": None, "user-agent": "curl/8"})
    assert rest["headers"]["X-Trace"] == "1" and rest["multiValueHeaders"]["X-Trace"] == ["1"]
    assert "Origin" not in rest["headers"] and "Origin" not in rest["multiValueHeaders"]
    assert rest["headers"]["user-agent"] == "curl/8" and "User-Agent" not in rest["headers"]
    http = session.http_event("GET", "/orders", headers={"X-Trace": "1", "Cookie": "theme=dark; a=b"})
    assert http["headers"]["x-trace"] == "1" and http["cookies"] == ["theme=dark", "a=b"]


VARIANTS = [
    ("GET", {}, 200, None),
    ("POST", {}, 200, None),
    ("PUT", {}, 200, None),
    ("GET", {"origin": None}, 403, "missing_origin"),
    ("GET", {"origin": SPOIL}, 403, "untrusted_origin"),
    ("GET", {"origin": "https://www.example.com.evil.example"}, 403, "untrusted_origin"),
    ("POST", {"csrf_header": None}, 403, "csrf_header_missing"),
    ("PATCH", {"csrf_header": SPOIL}, 403, "csrf_mismatch"),
    ("DELETE", {"csrf_cookie": None}, 403, "csrf_cookie_missing"),
    ("POST", {"csrf_cookie": SPOIL}, 403, "csrf_decrypt_failed"),
    ("GET", {"at_cookie": None}, 401, "at_cookie_missing"),
    ("GET", {"at_cookie": SPOIL}, 401, "at_decrypt_failed"),
    ("GET", {"csrf_cookie": None, "csrf_header": None}, 200, None),  # GET needs no CSRF
]


@pytest.mark.parametrize("builder", ["rest_event", "http_event"])
@pytest.mark.parametrize("method, options, status, reason", VARIANTS,
                         ids=[f"{m}-{'-'.join(f'{k}={v!r}' for k, v in o.items()) or 'all'}" for m, o, _, _ in VARIANTS])
def test_the_authorizer_answers_each_variant(session, proxy, builder, method, options, status, reason):
    decision = decide(proxy.authorize, getattr(session, builder)(method, "/orders/1", **options))
    assert (decision.status, decision.reason) == (status, reason)
    if status == 200:
        assert decision.token == f"Bearer {session.token}"


def test_the_token_option_and_a_new_login(session, proxy):
    jwt = make_jwt({"sub": "alice", "scope": "orders"})
    assert decide(proxy.authorize, session.rest_event(token=jwt)).response["principalId"] == "alice"
    session.login("opaque-token-value")
    decision = decide(proxy.authorize, session.http_event("POST", "/orders"))
    assert decision.token == "Bearer opaque-token-value"
    assert oauth_proxy.decrypt_cookie(session.at_cookie, KEY) == "opaque-token-value"


def test_a_bearer_token_needs_allow_token(session):
    jwt = make_jwt({"sub": "service"})
    event = session.rest_event("POST", "/orders", origin=None, at_cookie=None, csrf_cookie=None, bearer=jwt)
    assert event["headers"]["Authorization"] == f"Bearer {jwt}"
    allowing = oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                         encryption_key=KEY, allow_token=True))
    assert decide(allowing.authorize, event).response["principalId"] == "service"
    strict = oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                       encryption_key=KEY))
    assert decide(strict.authorize, event).reason == "missing_origin"


def test_another_key_is_a_failed_decryption(proxy):
    other = SpaSession("11" * 32, PREFIX, ORIGIN)
    assert decide(proxy.authorize, other.rest_event()).reason == "at_decrypt_failed"


def test_make_jwt_carries_the_claims():
    import base64

    jwt = make_jwt({"sub": "a", "n": 1})
    header, payload, signature = jwt.split(".")
    assert json.loads(base64.urlsafe_b64decode(payload + "==")) == {"sub": "a", "n": 1}
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "RS256" and signature


def test_imports_stay_apart():
    """`import oauth_proxy` (every cold start) loads none of the test helpers, and they load no pytest."""
    code = ("import sys, oauth_proxy; assert 'oauth_proxy.testing' not in sys.modules; "
            "import oauth_proxy.testing; assert 'pytest' not in sys.modules, 'pytest'; "
            "assert 'oauth_proxy.testing.pytest_plugin' not in sys.modules")
    subprocess.run([sys.executable, "-I", "-c", code], check=True, cwd="/")


@pytest.mark.parametrize("log_format", [None, "JSON"])
def test_decide_reads_the_reason_in_either_log_format(monkeypatch, log_format):
    """With Lambda's JSON log format the denial's fields are attributes of the log record, not a JSON
    message; decide() (through DenialLog) reads the reason either way, and takes a 401's from the exception."""
    if log_format is None:
        monkeypatch.delenv("AWS_LAMBDA_LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", log_format)
    session = SpaSession(KEY, PREFIX, ORIGIN)
    proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                      encryption_key=KEY))
    forbidden = decide(proxy.authorize, session.rest_event("POST", "/orders", csrf_header=None))
    assert (forbidden.status, forbidden.reason) == (403, "csrf_header_missing")
    unauthorized = decide(proxy.authorize, session.rest_event("GET", "/orders", at_cookie=None))
    assert (unauthorized.status, unauthorized.reason) == (401, "at_cookie_missing")
