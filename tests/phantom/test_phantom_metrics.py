"""METRICS=true: the counts the C authorizer keeps for the phantom path, and their EMF lines."""
from __future__ import annotations

import json
import time

import pytest

import oauth_proxy
from conftest import bearer_event
from oauth_proxy.metrics import EmfWriter
from oauth_proxy.testing import Reply, make_jwt


def test_cache_hits_misses_calls_and_latency_are_counted(server, make_proxy):
    server.reply = Reply.jwt(make_jwt({"sub": "alice", "exp": int(time.time()) + 600}))
    proxy = make_proxy(server.url, metrics=True)
    for token in ("one", "one", "two", "one"):
        proxy.authorize(bearer_event(token))
    taken = proxy._take_metrics()
    assert taken["allowed"] == 4 and taken["denied"] == {}
    assert (taken["introspection_calls"], taken["cache_misses"], taken["cache_hits"]) == (2, 2, 2)
    assert len(taken["introspection_latency_ms"]) == 2 and all(ms > 0 for ms in taken["introspection_latency_ms"])
    # Read and reset: the next invocation starts from zero.
    assert proxy._take_metrics() == {"allowed": 0, "denied": {}, "introspection_calls": 0,
                                     "introspection_latency_ms": [], "cache_hits": 0, "cache_misses": 0}


def test_failures_and_inactive_tokens_are_denials_by_reason(server, make_proxy):
    proxy = make_proxy(server.url, metrics=True, introspection_cache_ttl=0)
    server.reply = Reply(503)
    with pytest.raises(oauth_proxy.IntrospectionError):
        proxy.authorize(bearer_event("a"))
    server.reply = Reply(204)
    with pytest.raises(oauth_proxy.Unauthorized):
        proxy.authorize(bearer_event("b"))
    taken = proxy._take_metrics()
    assert taken["denied"] == {"introspection_failed": 1, "token_inactive": 1}
    assert taken["introspection_calls"] == 2 and taken["allowed"] == 0


def test_metrics_are_off_unless_asked_for(server, make_proxy):
    proxy = make_proxy(server.url)
    server.reply = Reply.jwt(make_jwt({"sub": "alice"}))
    proxy.authorize(bearer_event("x"))
    assert proxy._take_metrics() is None


def test_emf_lines_for_the_phantom_path():
    writer = EmfWriter("OAuthProxy", phantom=True)
    taken = {"allowed": 0, "denied": {"introspection_failed": 1}, "introspection_calls": 1,
             "introspection_latency_ms": [12.5], "cache_hits": 0, "cache_misses": 1}
    (line,) = writer.lines(taken, {"requestContext": {"requestId": 'id "quoted"'}}).splitlines()
    document = json.loads(line)
    assert document["IntrospectionLatency"] == [12.5] and document["Reason"] == "introspection_failed"
    assert document["apiRequestId"] == 'id "quoted"' and document["awsRequestId"] is None
    names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["Allowed", "Denied", "IntrospectionCalls", "CacheHits", "CacheMisses", "IntrospectionLatency"]
    assert document["_aws"]["CloudWatchMetrics"][0]["Metrics"][-1]["Unit"] == "Milliseconds"


def test_several_reasons_between_two_reads_make_one_object_per_reason():
    writer = EmfWriter("OAuthProxy", phantom=False)
    taken = {"allowed": 3, "denied": {"missing_origin": 2, "csrf_mismatch": 1}, "introspection_calls": 0,
             "introspection_latency_ms": [], "cache_hits": 0, "cache_misses": 0}
    documents = [json.loads(line) for line in writer.lines(taken).splitlines()]
    assert (documents[0]["Allowed"], documents[0]["Denied"], "Reason" in documents[0]) == (3, 3, False)
    assert [(d["Reason"], d["Denied"]) for d in documents[1:]] == [("missing_origin", 2), ("csrf_mismatch", 1)]
    assert writer.lines(None) == ""
