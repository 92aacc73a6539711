"""REQUIRE_ORIGIN: `always`, or `writes` for same-origin deployments,
where browsers send no Origin header on GET and HEAD."""
from __future__ import annotations

import pytest

import oauth_proxy
from conftest import CSRF, ORIGIN, PREFIX, config, cookies, http_event, make_jwt, proxy, rest_event

JWT = make_jwt({"sub": "erin"})
READS = ["GET", "HEAD", "OPTIONS", "get"]
WRITES = ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"]


def event(fmt: str, method: str, origin=None) -> dict:
    csrf = {} if method.upper() in ("GET", "HEAD", "OPTIONS") else {f"x-{PREFIX}-csrf": CSRF}
    if fmt == "rest":
        headers = {"Cookie": cookies(JWT), **csrf}
        if origin is not None:
            headers["Origin"] = origin
        return rest_event(method, headers)
    headers = dict(csrf)
    if origin is not None:
        headers["origin"] = origin
    return http_event(method, headers, cookies(JWT).split("; "))


def outcome(authorizer, ev) -> str:
    try:
        authorizer.authenticate(ev)
    except oauth_proxy.Forbidden as denied:
        return denied.reason
    return "allow"


@pytest.mark.parametrize("fmt", ["rest", "http"])
@pytest.mark.parametrize("method", READS + WRITES)
def test_always_needs_an_origin_on_every_method(fmt, method):
    for authorizer in (proxy(), proxy(require_origin="always")):
        assert outcome(authorizer, event(fmt, method)) == "missing_origin"
        assert outcome(authorizer, event(fmt, method, ORIGIN)) == "allow"


@pytest.mark.parametrize("fmt", ["rest", "http"])
@pytest.mark.parametrize("method", READS)
def test_writes_lets_reads_without_origin_through(fmt, method):
    authorizer = proxy(require_origin="writes")
    assert outcome(authorizer, event(fmt, method)) == "allow"
    assert outcome(authorizer, event(fmt, method, ORIGIN)) == "allow"
    # a present Origin must still be trusted
    assert outcome(authorizer, event(fmt, method, "https://evil.example")) == "untrusted_origin"
    response = authorizer.authorize(event(fmt, method))
    assert response.get("isAuthorized", True) is True and response["context"]["token"] == f"Bearer {JWT}"


@pytest.mark.parametrize("fmt", ["rest", "http"])
@pytest.mark.parametrize("method", WRITES)
def test_writes_still_needs_a_trusted_origin_on_other_methods(fmt, method, denials):
    authorizer = proxy(require_origin="writes")
    assert outcome(authorizer, event(fmt, method)) == "missing_origin"
    assert outcome(authorizer, event(fmt, method, "https://evil.example")) == "untrusted_origin"
    assert outcome(authorizer, event(fmt, method, ORIGIN)) == "allow"
    assert denials.reasons == ["missing_origin", "untrusted_origin"]


def test_writes_still_needs_the_cookie():
    authorizer = proxy(require_origin="writes")
    with pytest.raises(oauth_proxy.Unauthorized) as caught:
        authorizer.authorize(rest_event("GET", {"Cookie": "theme=dark"}))
    assert caught.value.reason == "at_cookie_missing"


def test_config_values():
    assert config().require_origin == "always"
    assert config(require_origin=" Writes ").require_origin == "writes"
    env = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": "a" * 64,
           "REQUIRE_ORIGIN": "writes"}
    assert oauth_proxy.Config.from_env(env).require_origin == "writes"
    for bad in ("never", "", "reads", 1):
        with pytest.raises(oauth_proxy.ConfigError, match="REQUIRE_ORIGIN"):
            config(require_origin=bad)
