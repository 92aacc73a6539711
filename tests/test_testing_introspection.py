"""oauth_proxy.testing.IntrospectionEndpoint: each registered behaviour gives the authorizer's outcome, what it
records and counts, client credentials, HTTPS, and close() leaving no connection or thread behind."""
from __future__ import annotations

import threading

import pytest

import oauth_proxy
from oauth_proxy.testing import IntrospectionEndpoint, Reply, decide
from conftest import CLIENT_ID, CLIENT_SECRET, SESSION


@pytest.fixture
def phantom(oauth_proxy_factory):
    def make(endpoint, **overrides):
        settings = dict(introspection=endpoint, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                        introspection_timeout_ms=3000)
        settings.update(overrides)
        return oauth_proxy_factory(**settings)
    return make


def test_each_behaviour_gives_its_outcome(introspection_endpoint, phantom):
    jwt = introspection_endpoint.issue("active", {"sub": "alice", "scope": "orders"})
    introspection_endpoint.inactive("inactive")
    introspection_endpoint.fail("failing", 502)
    introspection_endpoint.register("garbage", Reply.garbage())
    introspection_endpoint.register("json-inactive", Reply.json({"active": False}))
    proxy = phantom(introspection_endpoint)
    outcomes = {token: decide(proxy.authorize, SESSION.rest_event(token=token))
                for token in ("active", "inactive", "failing", "garbage", "json-inactive", "never-registered")}
    assert outcomes["active"].status == 200 and outcomes["active"].token == f"Bearer {jwt}"
    assert outcomes["active"].response["principalId"] == "alice"
    assert {token: (d.status, d.reason) for token, d in outcomes.items() if token != "active"} == {
        "inactive": (401, "token_inactive"),
        "json-inactive": (401, "token_inactive"),
        "never-registered": (401, "token_inactive"),
        "failing": (500, "introspection_failed"),
        "garbage": (500, "introspection_failed"),
    }


def test_slow_beyond_the_timeout_fails(introspection_endpoint, phantom):
    introspection_endpoint.issue("slow", {"sub": "s"}, delay=30)
    decision = decide(phantom(introspection_endpoint, introspection_timeout_ms=300).authorize,
                      SESSION.rest_event(token="slow"))
    assert (decision.status, decision.reason) == (500, "introspection_failed")
    assert introspection_endpoint.calls_for("slow") == 1  # it did arrive; close() ends the wait


def test_requests_counts_and_the_reply_override(introspection_endpoint, phantom):
    introspection_endpoint.issue("a", {"sub": "a"})
    proxy = phantom(introspection_endpoint, introspection_cache_ttl=0)
    for _ in range(3):
        proxy.authorize(SESSION.rest_event(token="a"))
    with pytest.raises(oauth_proxy.Unauthorized):  # "b" is not registered: inactive
        proxy.authorize(SESSION.http_event(token="b"))
    assert introspection_endpoint.calls == 4
    assert (introspection_endpoint.calls_for("a"), introspection_endpoint.calls_for("b")) == (3, 1)
    assert introspection_endpoint.connections == 1  # the authorizer keeps its connection alive
    request = introspection_endpoint.requests[0]
    assert (request.method, request.path, request.token) == ("POST", IntrospectionEndpoint.path, "a")
    assert request.headers["accept"] == "application/jwt"
    introspection_endpoint.reply = Reply.failing()  # answers every token now
    with pytest.raises(oauth_proxy.IntrospectionError):
        proxy.authorize(SESSION.rest_event(token="a"))
    introspection_endpoint.reset()
    assert (introspection_endpoint.calls, introspection_endpoint.calls_for("a"), len(introspection_endpoint.requests),
            introspection_endpoint.connections) == (0, 0, 0, 0)


def test_history_bounds_the_records_not_the_counts(phantom):
    with IntrospectionEndpoint(history=2) as endpoint:
        endpoint.issue("t", {"sub": "t"})
        proxy = phantom(endpoint, introspection_cache_ttl=0)
        for _ in range(5):
            proxy.authorize(SESSION.rest_event(token="t"))
        assert (endpoint.calls, endpoint.calls_for("t"), len(endpoint.requests)) == (5, 5, 2)


def test_credentials_are_checked(oauth_proxy_factory):
    with IntrospectionEndpoint(credentials=("gateway client", "s3cret:&=")) as endpoint:
        endpoint.issue("t", {"sub": "t"})
        right = oauth_proxy_factory(introspection=endpoint)
        assert decide(right.authorize, SESSION.rest_event(token="t")).status == 200
        wrong = oauth_proxy_factory(introspection=endpoint, client_secret="s3cret")
        assert decide(wrong.authorize, SESSION.rest_event(token="t")).status == 500


def test_https_with_a_throwaway_ca(test_ca, phantom):
    with IntrospectionEndpoint(test_ca.server_context()) as endpoint:
        assert endpoint.url.startswith("https://127.0.0.1:")
        jwt = endpoint.issue("t", {"sub": "tls"})
        proxy = phantom(endpoint, introspection_ca_file=str(test_ca.ca_file))
        assert decide(proxy.authorize, SESSION.rest_event(token="t")).token == f"Bearer {jwt}"
        untrusting = phantom(endpoint)  # the system store does not know the throwaway CA
        assert decide(untrusting.authorize, SESSION.rest_event(token="t")).status == 500


def test_close_ends_kept_alive_connections_and_their_threads(phantom):
    before = threading.active_count()
    endpoint = IntrospectionEndpoint()
    endpoint.issue("t", {"sub": "t"})
    proxy = phantom(endpoint, introspection_cache_ttl=0)
    proxy.authorize(SESSION.rest_event(token="t"))
    assert threading.active_count() == before + 2  # the accept loop and the kept-alive connection
    endpoint.close()
    assert threading.active_count() == before
