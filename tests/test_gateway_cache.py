"""oauth_proxy.testing.gateway_cache: API Gateway's authorizer result cache as a model, and the identity
sources that make caching safe for each topology and API type (hand-written here; the rendered deployment
descriptions are checked in tests/deploy/test_deploy_cache.py)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from oauth_proxy.testing.gateway_cache import (AuthorizerSpec, Gateway, GatewayConfig, Request, Route,
                                               arn_matches, policy_allows)

from gateway_cache_cases import (CSRF_HEADER, EVIL, ORIGIN, FakeClock, build, cookie_header, describe,
                                  first_violation, proxy, steps)

READS = ("GET",)
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def rest(reads: List[str], writes: List[str], read_ttl: int = 300, write_ttl: int = 300) -> GatewayConfig:
    specs = [AuthorizerSpec("reads", reads, read_ttl), AuthorizerSpec("writes", writes, write_ttl)]
    routes = [Route(m, "/api/{proxy+}", "reads" if m in READS else "writes") for m in READS + WRITES]
    return GatewayConfig("REST", routes, specs)


def http(reads: List[str], writes: List[str], read_ttl: int = 300, write_ttl: int = 300) -> GatewayConfig:
    specs = [AuthorizerSpec("reads", reads, read_ttl, True), AuthorizerSpec("writes", writes, write_ttl, True)]
    routes = [Route(m, "/api/{proxy+}", "reads" if m in READS else "writes") for m in READS + WRITES]
    return GatewayConfig("HTTP", routes, specs)


REST_READS = ["method.request.header.Cookie", "method.request.header.Origin", "context.httpMethod"]
REST_WRITES = REST_READS + [f"method.request.header.{CSRF_HEADER}"]
HTTP_READS = ["$request.header.Cookie", "$request.header.Origin", "$context.httpMethod", "$context.routeKey"]
HTTP_WRITES = HTTP_READS + [f"$request.header.{CSRF_HEADER}"]
VERSION_REST = "method.request.header.token-handler-version"
VERSION_HTTP = "$request.header.token-handler-version"

# (API, settings of the authorizer): the topologies. Same-origin reads carry no Origin header, so the reads
# authorizer there cannot hold the Origin and does not cache.
SAFE = {
    "rest-cross-origin": (rest(REST_READS, REST_WRITES), {}),
    "rest-same-origin": (rest(["method.request.header.Cookie"], REST_WRITES, read_ttl=0),
                         {"require_origin": "writes"}),
    "rest-route-scopes": (rest(REST_READS, REST_WRITES), {"route_scopes": "DELETE /api/{proxy+}=admin"}),
    "http-cross-origin": (http(HTTP_READS, HTTP_WRITES), {"http_api_response_format": "simple"}),
    "http-same-origin": (http(["$request.header.Cookie"], HTTP_WRITES, read_ttl=0),
                         {"require_origin": "writes"}),
    "http-route-scopes": (http(HTTP_READS, HTTP_WRITES), {"route_scopes": "DELETE /api/{proxy+}=admin"}),
    # CSRF_MODE=header: every method carries token-handler-version, and both authorizers key on it.
    "rest-header-mode": (rest(REST_READS + [VERSION_REST], REST_READS + [VERSION_REST]), {"csrf_mode": "header"}),
    "http-header-mode": (http(HTTP_READS + [VERSION_HTTP], HTTP_READS + [VERSION_HTTP]), {"csrf_mode": "header"}),
}

# Each misses one input of the decision; the property must find a request that proves it.
UNSAFE = {
    "cookie-only": (rest(["method.request.header.Cookie"], ["method.request.header.Cookie"]), {}),
    "no-csrf-header": (rest(REST_READS, REST_READS), {}),
    "no-origin": (rest(["method.request.header.Cookie", "context.httpMethod"], REST_WRITES), {}),
    "same-origin-reads-cached": (rest(["method.request.header.Cookie", "context.httpMethod"], REST_WRITES),
                                 {"require_origin": "writes"}),
    "http-one-authorizer-for-all": (
        GatewayConfig("HTTP", [Route(m, "/api/{proxy+}", "all") for m in READS + WRITES],
                      [AuthorizerSpec("all", ["$request.header.Cookie", "$request.header.Origin"], 300, True)]),
        {}),
    "header-mode-keyed-like-double-submit": (rest(REST_READS, REST_WRITES), {"csrf_mode": "header"}),
}


@pytest.mark.parametrize("name", sorted(SAFE))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=steps)
def test_no_cached_answer_allows_what_the_authorizer_refuses(name: str, sequence: List[Dict[str, Any]]) -> None:
    config, options = SAFE[name]
    violation = first_violation(config, proxy(**options), sequence)
    assert violation is None, (violation, describe(sequence))


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_a_key_missing_an_input_is_caught(name: str) -> None:
    config, options = UNSAFE[name]
    authorizer = proxy(**options)
    found = find(steps, lambda seq: first_violation(config, authorizer, seq) is not None,
                 settings=settings(max_examples=5000, deadline=None, database=None, derandomize=True,
                                   phases=[Phase.generate]))
    assert first_violation(config, authorizer, found) is not None


def test_cookie_only_key_lets_a_post_without_csrf_header_through() -> None:
    """The concrete case the docs describe: a GET caches an Allow that a forged POST then reuses."""
    config, _ = UNSAFE["cookie-only"]
    authorizer = proxy()
    post = {"user": "alice", "with_csrf_cookie": True, "tamper": False, "method": "POST", "origin": "trusted",
            "csrf_header": "right", "path": "/api/orders", "advance": 0}
    forged = dict(post, origin="untrusted", csrf_header="absent")
    violation = first_violation(config, authorizer, [post, forged])
    assert violation is not None and violation[0] == 1
    gateway = Gateway(config, authorizer.authorize, FakeClock())
    assert gateway.handle(build(post)).allowed
    answer = gateway.handle(build(forged))
    assert answer.allowed and answer.cached and not gateway.alone(build(forged)).allowed


def test_http_route_scopes_need_the_route_key_in_the_key() -> None:
    """Simple answers carry no resource: without $context.routeKey (or the method) in the key, bob's Allow for
    a POST serves his DELETE, which ROUTE_SCOPES refuses him."""
    authorizer = proxy(route_scopes="DELETE /api/{proxy+}=admin")
    post = {"user": "bob", "with_csrf_cookie": True, "tamper": False, "method": "POST", "origin": "trusted",
            "csrf_header": "right", "path": "/api/orders", "advance": 0}
    delete = dict(post, method="DELETE")
    unsafe = http(HTTP_READS[:2], HTTP_WRITES[:2] + [HTTP_WRITES[-1]])
    assert first_violation(unsafe, authorizer, [post, delete]) is not None
    assert first_violation(SAFE["http-route-scopes"][0], authorizer, [post, delete]) is None


def alice(method: str = "GET", path: str = "/api/orders", **extra: str) -> Request:
    headers = {"Cookie": cookie_header("alice", True, False) or "", "Origin": ORIGIN, **extra}
    return Request(method, path, headers)


def test_missing_identity_source_is_401_without_calling_the_authorizer() -> None:
    gateway = Gateway(rest(REST_READS, REST_WRITES), proxy().authorize, FakeClock())
    answer = gateway.handle(Request("GET", "/api/orders", {"Origin": ORIGIN}))
    assert (answer.status, answer.invoked, gateway.invocations) == (401, False, 0)
    answer = gateway.handle(alice("POST"))  # no CSRF header: an identity source of the writes authorizer
    assert (answer.status, answer.invoked) == (401, False)
    answer = gateway.handle(alice(Origin=""))  # present but empty counts as missing
    assert (answer.status, answer.invoked) == (401, False)


def test_ttl_runs_on_the_injected_clock() -> None:
    clock = FakeClock()
    gateway = Gateway(rest(REST_READS, REST_WRITES, read_ttl=60), proxy().authorize, clock)
    assert gateway.handle(alice()).invoked
    clock.now += 59
    second = gateway.handle(alice())
    assert second.allowed and second.cached and not second.invoked
    clock.now += 1
    assert gateway.handle(alice()).invoked
    assert gateway.invocations == 2
    gateway.flush()
    assert gateway.handle(alice()).invoked


def test_ttl_zero_calls_the_authorizer_every_time() -> None:
    gateway = Gateway(rest(REST_READS, REST_WRITES, read_ttl=0), proxy().authorize, FakeClock())
    for _ in range(3):
        assert gateway.handle(alice()).invoked
    assert gateway.invocations == 3


def test_rest_policy_is_evaluated_against_each_later_method_arn() -> None:
    """With ROUTE_SCOPES the Allow names the request's own method ARN: a cached answer serves that ARN only,
    and another path under the same key is refused by the cached policy (the authorizer is not called)."""
    gateway = Gateway(rest(REST_READS, REST_WRITES), proxy(route_scopes="DELETE /api/{proxy+}=admin").authorize,
                      FakeClock())
    assert gateway.handle(alice(path="/api/orders/1")).allowed
    again = gateway.handle(alice(path="/api/orders/1"))
    assert again.allowed and again.cached
    other = gateway.handle(alice(path="/api/orders/2"))
    assert (other.status, other.cached, other.invoked) == (403, True, False)
    # Without ROUTE_SCOPES the Allow covers the whole stage (.../dev/*), so it serves every path.
    gateway = Gateway(rest(REST_READS, REST_WRITES), proxy().authorize, FakeClock())
    gateway.handle(alice(path="/api/orders/1"))
    assert gateway.handle(alice(path="/api/orders/2")).cached


def test_http_simple_answer_applies_to_every_route_of_its_authorizer() -> None:
    config = GatewayConfig("HTTP", [Route("GET", "/api/orders", "a"), Route("GET", "/api/admin", "a")],
                           [AuthorizerSpec("a", ["$request.header.Cookie", "$request.header.Origin"], 300, True)])
    gateway = Gateway(config, proxy(route_scopes="GET /api/admin=nobody-has-this").authorize, FakeClock())
    assert gateway.handle(alice(path="/api/orders")).allowed
    admin = gateway.handle(alice(path="/api/admin"))
    assert admin.allowed and admin.cached  # the authorizer would refuse it: the routeKey is not in the key
    assert not gateway.alone(alice(path="/api/admin")).allowed


def test_http_default_route_catches_unmatched_paths() -> None:
    config = GatewayConfig("HTTP", [Route("GET", "/api/orders", None), Route("ANY", "$default", "a")],
                           [AuthorizerSpec("a", ["$request.header.Cookie"], 0, True)])
    assert config.route_for(Request("POST", "/anything")).key == "$default"  # type: ignore[union-attr]
    assert config.route_for(Request("GET", "/api/orders")).key == "GET /api/orders"  # type: ignore[union-attr]


def test_untrusted_origin_is_denied_and_the_deny_is_cached_only_under_its_own_key() -> None:
    gateway = Gateway(rest(REST_READS, REST_WRITES), proxy().authorize, FakeClock())
    assert gateway.handle(alice(Origin=EVIL)).status == 403
    assert gateway.handle(alice()).allowed


def test_iam_wildcards_as_api_gateway_evaluates_them() -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2/dev/GET/api/orders"
    assert arn_matches("arn:aws:execute-api:us-east-1:123456789012:a1b2/dev/*", arn)
    assert arn_matches("arn:aws:execute-api:us-east-1:123456789012:a1b2/dev/???/api/orders", arn)
    assert not arn_matches("arn:aws:execute-api:us-east-1:123456789012:a1b2/dev/??/api/orders", arn)
    assert arn_matches("arn:aws:execute-api:*:*:a1b2/*/GET/*", arn)
    assert not arn_matches("arn:aws:execute-api:us-east-1:123456789012:a1b2/dev/POST/*", arn)
    assert not arn_matches("arn:aws:execute-api:us-east-1:123456789012:a1b2/dev/GET/api/order[s]", arn)
    allow = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*"}
    deny = {"Effect": "Deny", "Action": "execute-api:*", "Resource": [arn]}
    assert policy_allows({"Statement": [allow]}, arn)
    assert not policy_allows({"Statement": [allow, deny]}, arn)
    assert not policy_allows({"Statement": [dict(allow, Action="s3:GetObject")]}, arn)
    assert not policy_allows(None, arn)


def test_unknown_identity_source_fails_loudly() -> None:
    config = GatewayConfig("REST", [Route("GET", "/x", "a")], [AuthorizerSpec("a", ["context.identity.sourceIp"], 60)])
    with pytest.raises(ValueError, match="not modelled"):
        Gateway(config, proxy().authorize).handle(Request("GET", "/x"))


def test_request_repr_hides_header_values() -> None:
    assert "example-at" not in repr(alice()) and "Cookie" in repr(alice())
