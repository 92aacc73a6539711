"""ROUTE_SCOPES: per-route scopes on top of REQUIRED_SCOPES, every precedence rule in
both payload formats, the per-route policy Resource, and the configuration's errors."""
from __future__ import annotations

import pytest

import oauth_proxy
from conftest import CSRF, ORIGIN, PREFIX, config, cookies, http_event, make_jwt, proxy, rest_event, spa_headers

API = "arn:aws:execute-api:eu-west-1:123456789012:abc123"


def token(*scopes: str) -> str:
    return make_jwt({"sub": "carol", "scope": " ".join(scopes)})


def event(fmt: str, method: str, path: str, jwt: str) -> dict:
    """A request to the route whose template is `path`."""
    arn_path = path.replace("{", "").replace("}", "")
    if fmt == "rest":
        ev = rest_event(method, spa_headers(method, token=jwt), arn=f"{API}/prod/{method}{arn_path}")
        ev["resource"] = path
        return ev
    headers = {"origin": ORIGIN}
    if method not in ("GET", "HEAD", "OPTIONS"):
        headers[f"x-{PREFIX}-csrf"] = CSRF
    ev = http_event(method, headers, cookies(jwt).split("; "), arn=f"{API}/$default/{method}{arn_path}")
    ev["routeKey"] = path if path == "$default" else f"{method} {path}"
    return ev


def allowed(authorizer, ev) -> bool:
    response = authorizer.authorize(ev)
    if "isAuthorized" in response:
        return response["isAuthorized"]
    return response["policyDocument"]["Statement"][0]["Effect"] == "Allow"


FORMATS = ["rest", "http"]

RULES = ("GET /orders/{id}=orders:read; * /orders/{id}=orders:any; GET /orders/*=prefix:get; "
         "* /orders/*=prefix:any; * /orders/{id}/items/*=items; * /*=root")


@pytest.mark.parametrize("fmt", FORMATS)
def test_exact_path_beats_any_prefix(fmt, denials):
    authorizer = proxy(route_scopes=RULES)
    # GET /orders/{id}: the exact entry for GET applies, not GET /orders/* nor /*
    assert allowed(authorizer, event(fmt, "GET", "/orders/{id}", token("orders:read")))
    assert not allowed(authorizer, event(fmt, "GET", "/orders/{id}", token("prefix:get", "prefix:any", "root")))
    # an exact path with `*` still beats a prefix naming the method
    assert allowed(authorizer, event(fmt, "DELETE", "/orders/{id}", token("orders:any")))
    assert not allowed(authorizer, event(fmt, "DELETE", "/orders/{id}", token("prefix:any", "root")))
    assert denials.reasons == ["insufficient_scope"] * 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_longer_prefix_beats_shorter(fmt):
    authorizer = proxy(route_scopes=RULES)
    assert allowed(authorizer, event(fmt, "GET", "/orders/{id}/items/{item}", token("items")))
    assert not allowed(authorizer, event(fmt, "GET", "/orders/{id}/items/{item}", token("prefix:get", "root")))
    assert allowed(authorizer, event(fmt, "PUT", "/orders/{id}/notes", token("prefix:any")))
    assert not allowed(authorizer, event(fmt, "PUT", "/orders/{id}/notes", token("root")))
    assert allowed(authorizer, event(fmt, "GET", "/customers", token("root")))
    assert not allowed(authorizer, event(fmt, "GET", "/customers", token("prefix:any")))


@pytest.mark.parametrize("fmt", FORMATS)
def test_named_method_beats_star(fmt):
    authorizer = proxy(route_scopes=RULES)
    assert allowed(authorizer, event(fmt, "GET", "/orders/{id}/notes", token("prefix:get")))
    assert not allowed(authorizer, event(fmt, "GET", "/orders/{id}/notes", token("prefix:any")))
    assert allowed(authorizer, event(fmt, "POST", "/orders/{id}/notes", token("prefix:any")))
    assert not allowed(authorizer, event(fmt, "POST", "/orders/{id}/notes", token("prefix:get")))
    # the entry order in the variable does not matter
    reversed_rules = proxy(route_scopes="; ".join(reversed(RULES.split("; "))))
    assert allowed(reversed_rules, event(fmt, "GET", "/orders/{id}/notes", token("prefix:get")))
    assert not allowed(reversed_rules, event(fmt, "GET", "/orders/{id}/notes", token("prefix:any")))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_matching_entry_needs_only_required_scopes(fmt, denials):
    only_orders = "GET /orders=orders:read"
    assert allowed(proxy(route_scopes=only_orders), event(fmt, "GET", "/customers", token()))
    assert allowed(proxy(route_scopes=only_orders), event(fmt, "POST", "/orders", token()))
    required = proxy(route_scopes=only_orders, required_scopes="openid")
    assert not allowed(required, event(fmt, "POST", "/orders", token("orders:read")))
    assert allowed(required, event(fmt, "POST", "/orders", token("openid")))
    assert denials.reasons == ["insufficient_scope"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_matching_entry_adds_to_required_scopes(fmt):
    authorizer = proxy(route_scopes="GET /orders=orders:read orders:list", required_scopes="openid")
    assert allowed(authorizer, event(fmt, "GET", "/orders", token("openid", "orders:read", "orders:list")))
    assert not allowed(authorizer, event(fmt, "GET", "/orders", token("orders:read", "orders:list")))
    assert not allowed(authorizer, event(fmt, "GET", "/orders", token("openid", "orders:read")))
    assert not allowed(authorizer, event(fmt, "GET", "/orders", "an-opaque-token"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_prefix_covers_itself_and_below_but_not_siblings(fmt):
    authorizer = proxy(route_scopes="* /admin/*=admin")
    assert not allowed(authorizer, event(fmt, "GET", "/admin", token()))
    assert not allowed(authorizer, event(fmt, "GET", "/admin/{proxy+}", token()))
    assert allowed(authorizer, event(fmt, "GET", "/admin/{proxy+}", token("admin")))
    assert allowed(authorizer, event(fmt, "GET", "/administrators", token()))


@pytest.mark.parametrize("fmt", FORMATS)
def test_methods_match_whatever_their_case(fmt):
    authorizer = proxy(route_scopes="get /orders=orders:read")
    ev = event(fmt, "GET", "/orders", token())
    if fmt == "rest":
        ev["httpMethod"] = "get"
    else:
        ev["requestContext"]["http"]["method"] = "get"
    assert not allowed(authorizer, ev)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_policy_resource_is_the_requests_own_arn(fmt):
    authorizer = proxy(route_scopes="* /orders/*=orders:read", http_api_response_format="iam")
    ok = event(fmt, "GET", "/orders/{id}", token("orders:read"))
    arn = ok["methodArn" if fmt == "rest" else "routeArn"]
    assert authorizer.authorize(ok)["policyDocument"]["Statement"][0]["Resource"] == arn
    identity = authorizer.authenticate(ok)
    assert identity.resource == arn
    assert authorizer.allow(ok, identity)["policyDocument"]["Statement"][0]["Resource"] == arn
    assert authorizer.deny(ok, "custom")["policyDocument"]["Statement"][0]["Resource"] == arn
    refused = event(fmt, "GET", "/orders/{id}", token())
    assert authorizer.authorize(refused)["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke", "Effect": "Deny", "Resource": refused["methodArn" if fmt == "rest" else "routeArn"]}
    # unset, the resource stays the API-wide wildcard
    plain = proxy(http_api_response_format="iam").authorize(ok)
    assert plain["policyDocument"]["Statement"][0]["Resource"].endswith("/*")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_route_is_a_bad_event_when_route_scopes_are_set(fmt, denials):
    ev = event(fmt, "GET", "/orders", token("orders:read"))
    del ev["resource" if fmt == "rest" else "routeKey"]
    assert allowed(proxy(), ev)
    assert not allowed(proxy(route_scopes="GET /orders=orders:read"), ev)
    with pytest.raises(oauth_proxy.Forbidden) as caught:
        proxy(route_scopes="GET /orders=orders:read").authenticate(ev)
    assert caught.value.reason == "bad_event"
    assert denials.reasons == ["bad_event", "bad_event"]


def test_http_api_default_route():
    authorizer = proxy(route_scopes="* $default=catchall")
    assert not allowed(authorizer, event("http", "GET", "$default", token()))
    assert allowed(authorizer, event("http", "GET", "$default", token("catchall")))
    # /* covers every route, $default included: a catch-all entry must not miss the catch-all route.
    assert not allowed(proxy(route_scopes="* /*=root"), event("http", "GET", "$default", token()))
    assert allowed(proxy(route_scopes="* /*=root"), event("http", "GET", "$default", token("root")))
    assert not allowed(proxy(route_scopes="POST /*=root"), event("http", "POST", "$default", token()))


def test_insufficient_route_scope_through_authenticate():
    with pytest.raises(oauth_proxy.Forbidden) as caught:
        proxy(route_scopes="GET /orders=orders:read").authenticate(event("rest", "GET", "/orders", token()))
    assert (caught.value.reason, caught.value.status) == ("insufficient_scope", 403)


# ---- configuration ----------------------------------------------------------------------------------------

def test_config_keeps_a_canonical_form():
    cfg = config(route_scopes=" get /orders/{id}=a  b ; ; * /admin/*=admin;")
    assert cfg.route_scopes == ("GET /orders/{id}=a b", "* /admin/*=admin")
    assert config(route_scopes=["GET /a=x", "* /b/*=y"]).route_scopes == ("GET /a=x", "* /b/*=y")
    env = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": "a" * 64,
           "ROUTE_SCOPES": "GET /a=x;* /b/*=y"}
    assert oauth_proxy.Config.from_env(env).route_scopes == ("GET /a=x", "* /b/*=y")
    assert config().route_scopes == ()
    rebuilt = config(**{"route_scopes": cfg.route_scopes})
    assert rebuilt == cfg


@pytest.mark.parametrize("entry", [
    "GET /orders",                    # no scopes
    "GET /orders=",                   # empty scope list
    "/orders=read",                   # no method
    "GET orders=read",                # not a path
    "GET /orders/*/items=read",       # * inside the path
    "GET /orders*=read",              # * not after a slash
    "ANY /orders=read",               # API Gateway's ANY: write *
    "G3T /orders=read",
    "\u00df /orders=read",          # upper-cases to SS, still not a method
    "GET /orders extra=read",
])
def test_malformed_entries_are_config_errors_naming_them(entry):
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        config(route_scopes=f"* /ok=fine; {entry}")
    assert "ROUTE_SCOPES" in str(caught.value) and entry in str(caught.value)


def test_repeated_routes_are_config_errors():
    with pytest.raises(oauth_proxy.ConfigError, match="repeats"):
        config(route_scopes="GET /a=x; get /a=y")
