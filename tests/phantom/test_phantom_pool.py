"""Concurrent introspection misses each get a connection of their own (INTROSPECTION_POOL_SIZE), so they do
not queue behind one another inside one timeout.

No timing thresholds: the endpoint answers only once `width` requests are in flight at the same time (a
barrier), so a call completes only if the proxy really runs that many transfers at once. With one shared
connection, as before the pool, the barrier never fills and every call times out."""
from __future__ import annotations

import threading
import time

import pytest

import oauth_proxy
from conftest import bearer_event
from oauth_proxy.testing import Reply, make_jwt

GENEROUS_TIMEOUT_MS = 20_000
BARRIER_SECONDS = 30  # longer than the timeout: a barrier that never fills shows up as an IntrospectionError


def concurrent_endpoint(server, width: int) -> None:
    """Holds each request until `width` requests wait together, then answers each with a JWT naming its token."""
    barrier = threading.Barrier(width)

    def reply(req):
        try:
            barrier.wait(BARRIER_SECONDS)
        except threading.BrokenBarrierError:
            return Reply(503)
        token = req.body.decode().split("=", 1)[1]
        return Reply.jwt(make_jwt({"sub": token, "exp": int(time.time()) + 600}))

    server.reply = reply


def run_threads(proxy, count: int) -> list:
    """count threads, one opaque token each (every call a cache miss); their outcomes in thread order."""
    outcomes = [None] * count
    start = threading.Barrier(count)

    def call(n):
        start.wait()
        try:
            outcomes[n] = proxy.authorize(bearer_event(f"token-{n}"))["principalId"]
        except oauth_proxy.IntrospectionError as exc:
            outcomes[n] = f"IntrospectionError: {exc}"

    threads = [threading.Thread(target=call, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_six_concurrent_misses_complete_together(server, make_proxy):
    concurrent_endpoint(server, 6)
    proxy = make_proxy(server.url, introspection_pool_size=6, introspection_timeout_ms=GENEROUS_TIMEOUT_MS)
    assert run_threads(proxy, 6) == [f"token-{n}" for n in range(6)]
    assert server.connections == 6


def test_more_threads_than_connections_take_turns_on_the_pool(server, make_proxy):
    """Six threads, two connections: the endpoint sees two transfers at a time, never more, and all complete."""
    concurrent_endpoint(server, 2)
    proxy = make_proxy(server.url, introspection_pool_size=2, introspection_timeout_ms=GENEROUS_TIMEOUT_MS)
    assert run_threads(proxy, 6) == [f"token-{n}" for n in range(6)]
    assert server.connections == 2
    assert server.calls == 6


def test_the_default_pool_serves_concurrent_misses(server, make_proxy):
    default = oauth_proxy.Config(trusted_web_origins=["https://a.example"], cookie_name_prefix="p",
                                 encryption_key="00" * 32).introspection_pool_size
    concurrent_endpoint(server, default)
    proxy = make_proxy(server.url, introspection_timeout_ms=GENEROUS_TIMEOUT_MS)
    assert run_threads(proxy, default) == [f"token-{n}" for n in range(default)]


def test_calls_one_after_another_keep_to_one_connection(server, make_proxy):
    """Lambda sends one request at a time: the pool then holds one connection, reused."""
    server.reply = Reply.jwt(make_jwt({"sub": "alice", "exp": int(time.time()) + 600}))
    proxy = make_proxy(server.url, introspection_pool_size=8, introspection_cache_ttl=0)
    for n in range(20):
        proxy.authorize(bearer_event(f"token-{n}"))
    assert server.connections == 1


@pytest.mark.parametrize("size", [0, 65])
def test_pool_size_is_bounded(size, make_proxy, server):
    with pytest.raises(oauth_proxy.ConfigError, match="INTROSPECTION_POOL_SIZE"):
        make_proxy(server.url, introspection_pool_size=size)
