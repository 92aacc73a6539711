"""With ROUTE_SCOPES the policy's Resource is the request's own method or route ARN, where API Gateway reads
`*` and `?` as wildcards: a request whose ARN holds one is a bad event, never an Allow for a pattern."""
from __future__ import annotations

import pytest

import oauth_proxy
from test_route_scopes import API, FORMATS, allowed, event, token

from conftest import proxy


def with_arn(fmt: str, method: str, arn_tail: str, jwt: str) -> dict:
    ev = event(fmt, method, "/orders/{id}", jwt)
    stage = "prod" if fmt == "rest" else "$default"
    ev["methodArn" if fmt == "rest" else "routeArn"] = f"{API}/{stage}/{method}{arn_tail}"
    return ev


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("tail", ["/orders/*", "/orders/?", "/*", "/orders/1*", "/orders/%2A/x?y"])
def test_wildcard_in_the_arn_is_a_bad_event_under_route_scopes(fmt, tail, denials):
    authorizer = proxy(route_scopes="GET /orders/{id}=orders:read")
    response = authorizer.authorize(with_arn(fmt, "GET", tail, token("orders:read")))
    assert not response.get("isAuthorized", False)
    if "policyDocument" in response:
        (statement,) = response["policyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Resource"] == "*"
    with pytest.raises(oauth_proxy.Forbidden) as caught:
        authorizer.authenticate(with_arn(fmt, "GET", tail, token("orders:read")))
    assert caught.value.reason == "bad_event"
    assert denials.reasons == ["bad_event", "bad_event"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_request_without_a_wildcard_is_allowed_for_its_own_arn(fmt):
    authorizer = proxy(route_scopes="GET /orders/{id}=orders:read", http_api_response_format="iam")
    ev = with_arn(fmt, "GET", "/orders/1", token("orders:read"))
    response = authorizer.authorize(ev)
    (statement,) = response["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == ev["methodArn" if fmt == "rest" else "routeArn"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_route_scopes_the_api_wide_wildcard_is_unchanged(fmt):
    ev = with_arn(fmt, "GET", "/orders/*", token())
    assert allowed(proxy(), ev)


def test_deny_names_no_pattern_from_the_request():
    authorizer = proxy(route_scopes="GET /orders/{id}=orders:read")
    (statement,) = authorizer.deny(with_arn("rest", "GET", "/orders/*", token()))["policyDocument"]["Statement"]
    assert statement["Resource"] == "*"
