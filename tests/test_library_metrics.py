"""METRICS=true for authorizers of one's own: the counts of authenticate + allow/deny, and
OAuthProxy.emit_metrics writing them as one EMF line (handler.handler's own line is tested in
test_handler.py and test_lambda_runtime.py)."""
from __future__ import annotations

import json

import pytest

from conftest import ORIGIN, cookies, make_jwt, proxy, rest_event

JWT = make_jwt({"sub": "alice", "tenant": "acme"})


def event() -> dict:
    return rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies(JWT)})


def test_reasons_of_the_caller_are_kept_after_their_strings_are_gone():
    """deny(event, reason) with a str built at run time: the counters keep a copy of the reason, not a
    pointer into a str that is freed right after the call."""
    metered = proxy(metrics=True)
    for n in range(3):
        metered.deny(event(), reason="tenant_" + str(n) * 3)
    metered.deny(event(), reason="tenant_" + "1" * 3)
    assert metered._take_metrics()["denied"] == {"tenant_000": 1, "tenant_111": 2, "tenant_222": 1}


def test_an_allow_that_fails_is_not_counted():
    metered = proxy(metrics=True)
    identity = metered.authenticate(event())
    with pytest.raises(TypeError):
        metered.allow(event(), identity, {"bad": None})
    assert metered._take_metrics()["allowed"] == 0
    metered.allow(event(), identity, {"tenant": "acme"})
    assert metered._take_metrics()["allowed"] == 1


def test_emit_metrics_writes_one_emf_line_with_the_counts_since_the_last(capsys):
    metered = proxy(metrics=True, metrics_namespace="Custom/Authorizer")
    ev = event()
    metered.allow(ev, metered.authenticate(ev))
    metered.deny(ev, reason="tenant_mismatch")

    class Context:
        aws_request_id = "lambda-1"

    metered.emit_metrics(ev, Context())
    (line,) = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Custom/Authorizer"
    assert (emf["Allowed"], emf["Denied"], emf["Reason"]) == (1, 1, "tenant_mismatch")
    assert emf["awsRequestId"] == "lambda-1" and emf["apiRequestId"] == ev["requestContext"]["requestId"]
    metered.emit_metrics(ev, Context())
    assert json.loads(capsys.readouterr().out)["Allowed"] == 0  # the counts were taken by the first line


def test_emit_metrics_writes_nothing_when_metrics_are_off(capsys):
    plain = proxy()
    plain.authorize(event())
    plain.emit_metrics(event(), None)
    assert capsys.readouterr().out == ""
