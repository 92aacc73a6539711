"""The introspection cache: keyed by a hash of the opaque token, bounded in size and time."""

from __future__ import annotations

import time

import pytest

import oauth_proxy
from oauth_proxy.testing import Reply, make_jwt
from conftest import bearer_event


def jwt_for(sub, exp=None):
    return make_jwt({"sub": sub, "exp": exp if exp is not None else int(time.time()) + 600})


def by_token(req):
    """Answers with a JWT whose sub is the token that was sent."""
    token = req.body.decode().split("=", 1)[1]
    return Reply.jwt(jwt_for(token))


def principal(proxy, token):
    return proxy.authorize(bearer_event(token))["principalId"]


def test_cache_hit_makes_one_call(server, make_proxy):
    server.reply = by_token
    proxy = make_proxy(server.url)
    first = proxy.authorize(bearer_event("tok-a"))
    second = proxy.authorize(bearer_event("tok-a"))
    assert first == second
    assert server.calls == 1


def test_two_tokens_two_calls(server, make_proxy):
    server.reply = by_token
    proxy = make_proxy(server.url)
    assert principal(proxy, "tok-a") == "tok-a"
    assert principal(proxy, "tok-b") == "tok-b"
    assert principal(proxy, "tok-a") == "tok-a"
    assert principal(proxy, "tok-b") == "tok-b"
    assert server.calls == 2


def test_ttl_zero_disables_the_cache(server, make_proxy):
    server.reply = by_token
    proxy = make_proxy(server.url, introspection_cache_ttl=0)
    for _ in range(3):
        assert principal(proxy, "tok-a") == "tok-a"
    assert server.calls == 3


def test_entry_expires_at_the_jwt_exp(server, make_proxy):
    exp = int(time.time()) + 2
    server.reply = Reply.jwt(jwt_for("alice", exp))
    proxy = make_proxy(server.url, introspection_cache_ttl=300)
    principal(proxy, "tok-a")
    principal(proxy, "tok-a")
    assert server.calls == 1
    while time.time() < exp + 0.2:  # past exp, far inside the TTL
        time.sleep(0.1)
    server.reply = Reply.jwt(jwt_for("alice"))
    principal(proxy, "tok-a")
    assert server.calls == 2


def test_entry_expires_after_the_ttl(server, make_proxy):
    server.reply = by_token
    proxy = make_proxy(server.url, introspection_cache_ttl=1)
    principal(proxy, "tok-a")
    principal(proxy, "tok-a")
    assert server.calls == 1
    time.sleep(1.3)
    principal(proxy, "tok-a")
    assert server.calls == 2


def test_an_already_expired_jwt_is_not_cached(server, make_proxy):
    server.reply = Reply.jwt(jwt_for("alice", int(time.time()) - 10))
    proxy = make_proxy(server.url)
    principal(proxy, "tok-a")
    principal(proxy, "tok-a")
    assert server.calls == 2


def test_least_recently_used_is_evicted(server, make_proxy):
    server.reply = by_token
    proxy = make_proxy(server.url, introspection_cache_size=2)
    principal(proxy, "a")
    principal(proxy, "b")  # cache: b a
    principal(proxy, "a")  # hit; cache: a b
    assert server.calls == 2
    principal(proxy, "c")  # evicts b; cache: c a
    assert server.calls == 3
    principal(proxy, "a")  # still there
    assert server.calls == 3
    principal(proxy, "b")  # was evicted
    assert server.calls == 4


def test_cache_size_zero_keeps_nothing(server, make_proxy):
    server.reply = by_token
    proxy = make_proxy(server.url, introspection_cache_size=0)
    principal(proxy, "a")
    principal(proxy, "a")
    assert server.calls == 2


@pytest.mark.parametrize(
    "reply, error",
    [
        (Reply(204), oauth_proxy.Unauthorized),
        (Reply.json({"active": False}), oauth_proxy.Unauthorized),
        (Reply(500), oauth_proxy.IntrospectionError),
        (Reply(abort=True), oauth_proxy.IntrospectionError),
    ],
    ids=["204", "active-false", "500", "abort"],
)
def test_failures_and_inactive_results_are_not_cached(server, make_proxy, reply, error):
    server.reply = reply
    proxy = make_proxy(server.url)
    for _ in range(2):
        with pytest.raises(error):
            proxy.authorize(bearer_event("tok-a"))
    calls = server.calls
    server.reply = by_token
    assert principal(proxy, "tok-a") == "tok-a"
    assert server.calls == calls + 1


def test_each_proxy_has_its_own_cache(server, make_proxy):
    server.reply = by_token
    principal(make_proxy(server.url), "a")
    principal(make_proxy(server.url), "a")
    assert server.calls == 2
