"""The library API: authenticate() -> Identity, the allow()/deny() builders and Forbidden, for REST
(payload 1.0) and HTTP API (payload 2.0) events."""
from __future__ import annotations

import copy
import math
import pickle
import re

import pytest

import fault_server as fs
import oauth_proxy
from conftest import (CSRF, OLD_KEY, OPAQUE, ORIGIN, PREFIX, ROUTE_ARN, cookies, http_event, make_jwt, proxy,
                      rest_event, spa_headers)

WILDCARD = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
ROUTE_WILDCARD = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/*"
JWT = make_jwt({"sub": "alice", "scope": "openid  orders:read orders:write", "exp": 4102444800})


def rest(method="GET", token=JWT, **headers):
    return rest_event(method, spa_headers(method, token=token, **headers))


def http(method="GET", token=JWT, headers=None):
    base = {"origin": ORIGIN}
    if method not in ("GET", "HEAD", "OPTIONS"):
        base[f"x-{PREFIX}-csrf"] = CSRF
    base.update(headers or {})
    return http_event(method, base, cookies(token).split("; "))


FORMATS = {"rest": rest, "http": http}


# ---- denials: every reason code, both payload formats ----------------------------------------------------

def _denial_events(make):
    """reason -> (status, event) for one payload format."""
    v2 = make is http

    def event(method="GET", origin=ORIGIN, jar=None, csrf_header=CSRF, arn=True):
        headers = {"origin" if v2 else "Origin": origin} if origin is not None else {}
        if method not in ("GET", "HEAD", "OPTIONS") and csrf_header is not None:
            headers[f"x-{PREFIX}-csrf"] = csrf_header
        jar = cookies(JWT) if jar is None else jar
        if v2:
            ev = http_event(method, headers, [c for c in jar.split("; ") if c])
            if not arn:
                del ev["routeArn"]
        else:
            headers["Cookie"] = jar
            ev = rest_event(method, headers, arn=rest_event()["methodArn"] if arn else None)
        return ev

    return {
        "missing_origin": (403, event(origin=None)),
        "untrusted_origin": (403, event(origin="https://evil.example")),
        "csrf_cookie_missing": (403, event("POST", jar=cookies(JWT, csrf=None))),
        "csrf_header_missing": (403, event("POST", csrf_header=None)),
        "csrf_mismatch": (403, event("PUT", csrf_header="not-the-csrf-value")),
        "csrf_decrypt_failed": (403, event("DELETE", jar=cookies(JWT, key=OLD_KEY))),
        "at_cookie_missing": (401, event(jar="theme=dark")),
        "at_decrypt_failed": (401, event(jar=cookies(JWT, key=OLD_KEY))),
        "insufficient_scope": (403, event()),
        "bad_event": (403, event(arn=False)),
    }


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("reason", sorted(_denial_events(rest)))
def test_every_denial_reason_through_authenticate(fmt, reason, denials):
    status, event = _denial_events(FORMATS[fmt])[reason]
    authorizer = proxy(required_scopes="admin") if reason == "insufficient_scope" else proxy()
    expected = oauth_proxy.Unauthorized if status == 401 else oauth_proxy.Forbidden
    with pytest.raises(expected) as caught:
        authorizer.authenticate(event)
    assert caught.value.reason == reason
    assert caught.value.status == status
    assert str(caught.value) == ("Unauthorized" if status == 401 else "Forbidden")
    assert denials.reasons == [reason]  # the denial line is written as by authorize
    assert denials.lines[0]["status"] == status


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_authorize_gives_the_same_reasons_as_authenticate(fmt, denials):
    for reason, (status, event) in _denial_events(FORMATS[fmt]).items():
        authorizer = proxy(required_scopes="admin") if reason == "insufficient_scope" else proxy()
        if status == 401:
            with pytest.raises(oauth_proxy.Unauthorized) as caught:
                authorizer.authorize(event)
            assert str(caught.value) == "Unauthorized" and caught.value.reason == reason
        else:
            response = authorizer.authorize(event)
            assert response.get("isAuthorized", False) is False and "context" not in response
    assert denials.reasons == list(_denial_events(FORMATS[fmt]))


def test_denial_types_are_distinct_and_carry_class_statuses():
    assert oauth_proxy.Forbidden.status == 403 and oauth_proxy.Unauthorized.status == 401
    assert oauth_proxy.IntrospectionError.status == 500
    assert not issubclass(oauth_proxy.Forbidden, oauth_proxy.Unauthorized)
    assert not issubclass(oauth_proxy.Unauthorized, oauth_proxy.Forbidden)
    assert oauth_proxy.Forbidden().reason is None


@pytest.fixture
def phantom_servers():
    servers = {"good": fs.FaultServer(fs.answer(200, JWT.encode())),
               "inactive": fs.FaultServer(fs.answer(204, b"")),
               "failing": fs.FaultServer(fs.answer(503, b"busy", "text/plain"))}
    yield servers
    for server in servers.values():
        server.close()


def _phantom(server, **overrides):
    return proxy(use_phantom_token=True, introspection_url=server.url, client_id="c", client_secret="s",
                 introspection_timeout_ms=5000, **overrides)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_phantom_outcomes_through_authenticate(fmt, phantom_servers, denials):
    event = FORMATS[fmt](token=OPAQUE)
    identity = _phantom(phantom_servers["good"]).authenticate(event)
    assert identity.token == JWT and identity.principal == "alice"
    assert identity.claims["sub"] == "alice"
    with pytest.raises(oauth_proxy.Unauthorized) as inactive:
        _phantom(phantom_servers["inactive"]).authenticate(event)
    assert (inactive.value.reason, inactive.value.status) == ("token_inactive", 401)
    with pytest.raises(oauth_proxy.IntrospectionError) as failed:
        _phantom(phantom_servers["failing"]).authenticate(event)
    assert failed.value.status == 500 and failed.value.reason == "introspection_failed"
    assert denials.reasons == ["token_inactive", "introspection_failed"]


# ---- the Identity ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_identity_of_a_jwt_cookie(fmt):
    identity = proxy().authenticate(FORMATS[fmt]("POST"))
    assert isinstance(identity, oauth_proxy.Identity)
    assert identity.token == JWT  # no "Bearer "
    assert identity.principal == "alice"
    assert identity.scopes == frozenset({"openid", "orders:read", "orders:write"})
    assert identity.source == "cookie"
    assert identity.resource == (WILDCARD if fmt == "rest" else ROUTE_WILDCARD)
    assert dict(identity.claims) == {"sub": "alice", "scope": "openid  orders:read orders:write", "exp": 4102444800}


def test_identity_of_an_opaque_token_has_no_claims():
    authorizer = proxy()
    identity = authorizer.authenticate(rest(token=OPAQUE))
    assert identity.token == OPAQUE
    assert identity.principal == authorizer.authorize(rest(token=OPAQUE))["principalId"]
    assert identity.principal.startswith("sha256:")
    assert dict(identity.claims) == {} and identity.scopes == frozenset()


def test_identity_of_a_bearer_token():
    identity = proxy(allow_token=True).authenticate(rest_event("POST", {"Authorization": f"Bearer {JWT}"}))
    assert identity.source == "bearer" and identity.token == JWT and identity.principal == "alice"


def test_claims_of_every_json_type():
    claims = {"sub": "bob", "text": "h\u00e9llo \"quoted\" \U0001F600", "int": -42, "big": 2 ** 70, "float": 1.25,
              "exp_form": 1e3, "yes": True, "no": False, "nothing": None, "array": [1, "two", [3.5], {"k": None}],
              "object": {"nested": {"deep": [True]}}, "empty_array": [], "empty_object": {}}
    identity = proxy().authenticate(rest(token=make_jwt(claims)))
    got = identity.claims
    assert got["text"] == claims["text"]
    assert got["int"] == -42 and type(got["int"]) is int
    assert got["big"] == 2 ** 70 and type(got["big"]) is int
    assert got["float"] == 1.25 and type(got["float"]) is float
    assert got["exp_form"] == 1000.0 and type(got["exp_form"]) is float
    assert got["yes"] is True and got["no"] is False and got["nothing"] is None
    assert got["array"] == (1, "two", (3.5,), {"k": None})  # arrays are tuples
    assert got["object"]["nested"]["deep"] == (True,)
    assert got["empty_array"] == () and dict(got["empty_object"]) == {}
    assert set(got) == set(claims)


def test_claims_of_a_payload_the_c_scanner_refuses_are_empty():
    # Python's json would read NaN; the C scanner says this is no JWT, and it stays the authority.
    import base64
    payload = base64.urlsafe_b64encode(b'{"sub":"x","n":NaN}').rstrip(b"=").decode()
    identity = proxy().authenticate(rest(token=f"eyJhbGciOiJub25lIn0.{payload}.c2ln"))
    assert dict(identity.claims) == {} and identity.principal.startswith("sha256:")


def test_identity_is_immutable():
    identity = proxy().authenticate(rest(token=make_jwt({"sub": "a", "roles": ["x"], "meta": {"k": "v"}})))
    for name in ("token", "principal", "claims", "scopes", "source", "resource"):
        with pytest.raises(AttributeError):
            setattr(identity, name, "changed")
        with pytest.raises(AttributeError):
            delattr(identity, name)
    with pytest.raises(AttributeError):
        identity.extra = 1
    with pytest.raises(TypeError):
        identity.claims["sub"] = "mallory"
    with pytest.raises(TypeError):
        identity.claims["meta"]["k"] = "changed"
    with pytest.raises(AttributeError):
        identity.claims["roles"].append("admin")
    with pytest.raises(AttributeError):
        identity.scopes.add("admin")
    assert identity.claims is identity.claims  # made once
    with pytest.raises(TypeError):
        oauth_proxy.Identity()
    with pytest.raises(TypeError):
        class Sub(oauth_proxy.Identity):  # noqa: F841 - not subclassable either
            pass


def test_identity_never_shows_or_copies_its_token():
    identity = proxy().authenticate(rest())
    assert JWT not in repr(identity) and JWT not in str(identity)
    assert "alice" in repr(identity)
    for clone in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError):
            clone(identity)


# ---- allow() ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,response_format", [("rest", "simple"), ("http", "simple"), ("http", "iam")])
def test_allow_without_context_equals_authorize(fmt, response_format):
    authorizer = proxy(http_api_response_format=response_format)
    event = FORMATS[fmt]("POST")
    assert authorizer.allow(event, authorizer.authenticate(event)) == authorizer.authorize(event)
    assert authorizer.allow(event, authorizer.authenticate(event), None) == authorizer.authorize(event)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_allow_adds_context_values(fmt):
    authorizer = proxy()
    event = FORMATS[fmt]()
    identity = authorizer.authenticate(event)
    response = authorizer.allow(event, identity, {"tenant": "acme", "level": 3, "ratio": 0.5, "admin": False})
    assert response["context"] == {"token": f"Bearer {JWT}", "tenant": "acme", "level": 3, "ratio": 0.5,
                                   "admin": False}
    if fmt == "http":
        assert response["isAuthorized"] is True
    else:
        assert response["principalId"] == "alice"
        assert response["policyDocument"]["Statement"][0]["Resource"] == WILDCARD


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, b"bytes", object(), (1,), {1}])
def test_allow_refuses_context_values_api_gateway_cannot_take(value):
    authorizer = proxy()
    event = rest()
    with pytest.raises(TypeError) as caught:
        authorizer.allow(event, authorizer.authenticate(event), {"fine": "x", "bad_key": value})
    assert "bad_key" in str(caught.value)
    assert repr(value) not in str(caught.value) or value is None


def test_allow_refuses_other_context_mistakes():
    authorizer = proxy()
    event = rest()
    identity = authorizer.authenticate(event)
    with pytest.raises(ValueError, match="token"):
        authorizer.allow(event, identity, {"token": "Bearer something-else"})
    with pytest.raises(TypeError, match="keys must be str"):
        authorizer.allow(event, identity, {1: "x"})
    with pytest.raises(TypeError, match="mapping"):
        authorizer.allow(event, identity, ["tenant", "acme"])
    for number in (math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            authorizer.allow(event, identity, {"n": number})
    with pytest.raises(TypeError, match="Identity"):
        authorizer.allow(event, {"token": JWT, "principal": "alice"})
    with pytest.raises(TypeError):
        authorizer.allow(event)
    with pytest.raises(TypeError):
        authorizer.allow(event, identity, {}, "extra")
    with pytest.raises(TypeError):
        authorizer.allow(event, identity, contxt={})
    assert authorizer.allow(event=event, identity=identity, context={"x": "y"})["context"]["x"] == "y"


# ---- deny() -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,response_format,expected", [
    ("rest", "simple", {"principalId": "anonymous", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": WILDCARD}]}}),
    ("http", "simple", {"isAuthorized": False}),
    ("http", "iam", {"principalId": "anonymous", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ROUTE_WILDCARD}]}}),
])
def test_deny_in_the_events_format_and_logged(fmt, response_format, expected, denials):
    authorizer = proxy(http_api_response_format=response_format)
    assert authorizer.deny(FORMATS[fmt](), reason="tenant_mismatch") == expected
    assert denials.reasons == ["tenant_mismatch"]
    assert denials.lines[0]["status"] == 403
    # without a reason, nothing is logged: the answer to a Forbidden that authenticate has logged already
    assert authorizer.deny(FORMATS[fmt]()) == expected
    assert authorizer.deny(FORMATS[fmt](), None) == expected
    assert denials.reasons == ["tenant_mismatch"]


def test_deny_of_a_malformed_event_names_no_resource():
    response = proxy().deny({"httpMethod": "GET"}, "custom")
    assert response["policyDocument"]["Statement"][0]["Resource"] == "*"
    assert proxy().deny("not an event", "custom")["principalId"] == "anonymous"


@pytest.mark.parametrize("reason", ["", "has space", "x" * 65, JWT, "quote\"", 42, b"bytes"])
def test_deny_reason_must_be_a_reason_code(reason, denials):
    with pytest.raises(ValueError, match="reason code"):
        proxy().deny(rest(), reason=reason)
    assert denials.reasons == []


def test_http_api_route_arn_is_used_by_allow_and_deny():
    authorizer = proxy(http_api_response_format="iam")
    event = http()
    assert event["routeArn"] == ROUTE_ARN
    allow = authorizer.allow(event, authorizer.authenticate(event))
    assert allow["policyDocument"]["Statement"][0]["Resource"] == ROUTE_WILDCARD


# The page whose table lists every public name, one row each.
API_PAGE = "docs/library.md"


def test_every_public_name_is_exported_and_documented():
    from conftest import REPO
    page = (REPO / API_PAGE).read_text(encoding="utf-8")
    api = page[page.index("## Every public name"):]
    api = api[:api.index("\n## ", 1)]
    documented = set(re.findall(r"^\| `(\w+)", api, re.MULTILINE))
    for name in oauth_proxy.__all__:
        assert hasattr(oauth_proxy, name)
    assert documented == set(oauth_proxy.__all__), f"{API_PAGE}'s table and oauth_proxy.__all__ differ"
    assert {"Identity", "Forbidden"} <= set(oauth_proxy.__all__)
