"""The phantom token step: what each introspection answer does to the request (POST token=..., Accept: application/jwt)."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse

import pytest

import oauth_proxy
from oauth_proxy.testing import Reply, make_jwt
from conftest import CLIENT_ID, CLIENT_SECRET, SESSION, bearer_event, cookie_event, free_port

OPAQUE = "_0XBPWQQ_2e7c9b6a-4f1d-4c8e-9a1b-opaque"


def a_jwt(sub="alice", scope="read write", ttl=600, **extra):
    claims = {"sub": sub, "scope": scope, "exp": int(time.time()) + ttl, **extra}
    return make_jwt(claims)


def test_jwt_replaces_the_token(server, make_proxy):
    jwt = a_jwt()
    server.reply = Reply.jwt(jwt)
    result = make_proxy(server.url).authorize(bearer_event(OPAQUE))
    assert result["context"]["token"] == f"Bearer {jwt}"
    assert result["principalId"] == "alice"
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert OPAQUE not in repr(result)


@pytest.mark.parametrize(
    "token, event",
    [("op+aque/tok~en.x_y-z==", bearer_event), ("cookie token & more=+/%;", cookie_event)],
    ids=["bearer", "cookie"],
)
def test_request_is_rfc7662_asking_for_a_jwt(server, make_proxy, token, event):
    server.reply = Reply.jwt(a_jwt())
    make_proxy(server.url).authorize(event(token))
    (req,) = server.requests
    assert req.method == "POST"
    assert req.path == "/oauth/v2/oauth-introspect"
    assert req.headers["accept"] == "application/jwt"
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(req.body.decode("ascii"), strict_parsing=True) == {"token": [token]}
    scheme, _, value = req.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(value, validate=True).decode("ascii").partition(":")
    assert urllib.parse.unquote_plus(user) == CLIENT_ID
    assert urllib.parse.unquote_plus(password) == CLIENT_SECRET


def test_cookie_token_is_exchanged(server, make_proxy):
    jwt = a_jwt(sub="bob")
    server.reply = Reply.jwt(jwt)
    result = make_proxy(server.url).authorize(cookie_event(OPAQUE))
    assert result["context"]["token"] == f"Bearer {jwt}"
    assert result["principalId"] == "bob"
    assert server.requests[0].body == b"token=" + urllib.parse.quote_plus(OPAQUE).encode()


def test_credentials_are_form_urlencoded_before_basic(server, make_proxy):
    """RFC 6749 2.3.1: a ':' inside the client id must not split the Basic pair."""
    client_id = "client:id with space/é"
    secret = "p@ss:w/rd+&=%?#~*"
    server.reply = Reply.jwt(a_jwt())
    make_proxy(server.url, client_id=client_id, client_secret=secret).authorize(bearer_event(OPAQUE))
    value = server.requests[0].headers["authorization"].split(" ", 1)[1]
    pair = base64.b64decode(value, validate=True).decode("ascii")
    assert pair.count(":") == 1
    user, password = pair.split(":")
    assert urllib.parse.unquote_plus(user) == client_id
    assert urllib.parse.unquote_plus(password) == secret
    assert " " not in pair and "@" not in pair and "/" not in pair


def test_jwt_body_with_trailing_newline(server, make_proxy):
    jwt = a_jwt()
    server.reply = Reply(200, jwt.encode() + b"\r\n", "application/jwt")
    result = make_proxy(server.url).authorize(bearer_event(OPAQUE))
    assert result["context"]["token"] == f"Bearer {jwt}"


def test_required_scopes_use_the_jwt(server, make_proxy):
    server.reply = Reply.jwt(a_jwt(scope="read orders:write"))
    proxy = make_proxy(server.url, required_scopes=["orders:write"])
    assert proxy.authorize(bearer_event(OPAQUE))["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    server.reply = Reply.jwt(a_jwt(scope="read"))
    denied = make_proxy(server.url, required_scopes=["orders:write"]).authorize(bearer_event("other"))
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denied["principalId"] == "anonymous"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(204),
        Reply(200),
        Reply(200, b"  \r\n"),
        Reply.json({"active": False}),
        Reply.json({"active": False, "client_id": "x", "nested": [1, {"a": None}], "n": -1.5e3}),
    ],
    ids=["204", "empty-200", "blank-200", "active-false", "active-false-more"],
)
def test_inactive_token_is_401(server, make_proxy, reply):
    server.reply = reply
    with pytest.raises(oauth_proxy.Unauthorized) as info:
        make_proxy(server.url).authorize(bearer_event(OPAQUE))
    assert str(info.value) == "Unauthorized"


@pytest.mark.parametrize(
    "reply",
    [
        Reply.json({"active": True, "sub": "alice"}),
        Reply.json({"active": "false"}),
        Reply.json({"active": False}, status=500),
        Reply.json({"active": False}, status=201),
        Reply(200, b'{"active": false, "active": true}'),
        Reply(200, b'{"active": false'),
        Reply(200, b"not a jwt"),
        Reply(200, b"a.b"),
        Reply(200, b"a.b.c.d"),
        Reply(200, b"eyJhbGciOiJub25lIn0.e30"),
        Reply(200, b"eyJhbGciOiJub25lIn0.bm90anNvbg.c2ln"),
        Reply(500, b"boom"),
        Reply(503),
        Reply(401),
        Reply(400, b'{"error":"invalid_client"}'),
    ],
    ids=[
        "active-true", "active-string", "500-json", "201", "duplicate-active", "truncated-json", "text", "two-segments",
        "four-segments", "no-signature", "payload-not-json", "500", "503", "401", "400",
    ],
)
def test_unexpected_answer_is_introspection_error(server, make_proxy, reply):
    server.reply = reply
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(server.url).authorize(bearer_event(OPAQUE))


def test_slow_server_times_out(server, make_proxy):
    server.reply = Reply(200, a_jwt().encode(), "application/jwt", delay=30)
    proxy = make_proxy(server.url, introspection_timeout_ms=500)
    started = time.monotonic()
    with pytest.raises(oauth_proxy.IntrospectionError):
        proxy.authorize(bearer_event(OPAQUE))
    # Only "it did not hang": a generous bound, not a timing threshold.
    assert time.monotonic() - started < 0.5 + 5


def test_abrupt_close_is_introspection_error(server, make_proxy):
    server.reply = Reply(abort=True)
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(server.url).authorize(bearer_event(OPAQUE))


def test_refused_connection_is_introspection_error(make_proxy):
    url = f"http://127.0.0.1:{free_port()}/introspect"
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(url).authorize(bearer_event(OPAQUE))


def test_redirect_is_not_followed(server, make_proxy):
    def reply(req):
        if req.path == "/elsewhere":
            return Reply.jwt(a_jwt())
        return Reply(302, headers={"Location": server.base_url + "/elsewhere"})

    server.reply = reply
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(server.url).authorize(bearer_event(OPAQUE))
    assert [r.path for r in server.requests] == ["/oauth/v2/oauth-introspect"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_is_introspection_error(server, make_proxy, chunked):
    body = ("eyJ" + "A" * (70 * 1024) + ".e30.c2ln").encode()
    server.reply = Reply(200, body, "application/jwt", chunked=chunked)
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(server.url).authorize(bearer_event(OPAQUE))


def test_large_jwt_under_the_cap_is_accepted(server, make_proxy):
    jwt = a_jwt(padding="p" * (40 * 1024))
    assert len(jwt) < 64 * 1024
    server.reply = Reply(200, jwt.encode(), "application/jwt", chunked=True)
    result = make_proxy(server.url).authorize(bearer_event(OPAQUE))
    assert result["context"]["token"] == f"Bearer {jwt}"


def test_proxy_recovers_after_failures(server, make_proxy):
    proxy = make_proxy(server.url, introspection_cache_ttl=0)
    for bad in [Reply(abort=True), Reply(500), Reply(200, b"x" * 70000)]:
        server.reply = bad
        with pytest.raises(oauth_proxy.IntrospectionError):
            proxy.authorize(bearer_event(OPAQUE))
    jwt = a_jwt()
    server.reply = Reply.jwt(jwt)
    assert proxy.authorize(bearer_event(OPAQUE))["context"]["token"] == f"Bearer {jwt}"


@pytest.mark.parametrize(
    "reply, error, reason, status",
    [
        (Reply(204), oauth_proxy.Unauthorized, "token_inactive", 401),
        (Reply.json({"active": False}), oauth_proxy.Unauthorized, "token_inactive", 401),
        (Reply(500), oauth_proxy.IntrospectionError, "introspection_failed", 500),
        (Reply(abort=True), oauth_proxy.IntrospectionError, "introspection_failed", 500),
    ],
    ids=["204", "active-false", "500", "abort"],
)
def test_denials_are_logged_with_their_reason(server, make_proxy, caplog, reply, error, reason, status):
    server.reply = reply
    with pytest.raises(error):
        make_proxy(server.url).authorize(bearer_event(OPAQUE))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "oauth_proxy"]
    assert [(line["reason"], line["status"]) for line in lines] == [(reason, status)]


@pytest.mark.parametrize("reply, detail", [(Reply(503), "HTTP status 503"),
                                           (Reply(abort=True), "connection closed by the server (curl error")])
def test_an_introspection_failure_line_says_what_failed(server, make_proxy, caplog, reply, detail):
    server.reply = reply
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(server.url).authorize(bearer_event(OPAQUE))
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "oauth_proxy"]
    assert line["reason"] == "introspection_failed" and line["detail"].startswith(detail)


def test_introspection_error_message_says_what_failed(server, make_proxy):
    server.reply = Reply(503)
    with pytest.raises(oauth_proxy.IntrospectionError) as info:
        make_proxy(server.url).authorize(bearer_event(OPAQUE))
    assert str(info.value) == "token introspection failed: HTTP status 503"


def test_configured_from_the_environment(server):
    from conftest import KEY, ORIGIN, PREFIX

    jwt = a_jwt(sub="env")
    server.reply = Reply.jwt(jwt)
    env = {
        "TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY,
        "ALLOW_TOKEN": "true", "USE_PHANTOM_TOKEN": "TRUE", "INTROSPECTION_URL": f" {server.url} ",
        "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET, "INTROSPECTION_TIMEOUT_MS": "1500",
        "INTROSPECTION_CACHE_TTL": "60", "INTROSPECTION_CACHE_SIZE": "8",
    }
    proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config.from_env(env))
    for _ in range(2):
        assert proxy.authorize(bearer_event(OPAQUE))["principalId"] == "env"
    assert server.calls == 1


@pytest.mark.parametrize("response_format", ["simple", "iam"])
def test_http_api_payload_2_gets_the_jwt(server, make_proxy, response_format):
    jwt = a_jwt(sub="carol")
    server.reply = Reply.jwt(jwt)
    event = SESSION.http_event("GET", "/orders", token=OPAQUE, csrf_cookie=None)
    result = make_proxy(server.url, http_api_response_format=response_format).authorize(event)
    assert result["context"]["token"] == f"Bearer {jwt}"
    if response_format == "simple":
        assert result["isAuthorized"] is True
    else:
        assert result["principalId"] == "carol"
    assert server.requests[0].body == b"token=" + urllib.parse.quote_plus(OPAQUE).encode()
