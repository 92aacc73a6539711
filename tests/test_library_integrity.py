"""What the library API guarantees to an authorizer built on it: allow() answers only with an Identity that this
proxy made for this request, an Identity cannot be changed or imitated, context keys are plain str, and every
denial is counted however many distinct reasons there are."""
from __future__ import annotations

import json

import pytest

import oauth_proxy
from conftest import CSRF, METHOD_ARN, ORIGIN, PREFIX, ROUTE_ARN, cookies, http_event, make_jwt, proxy, rest_event
from oauth_proxy.metrics import EmfWriter

JWT = make_jwt({"sub": "alice", "scope": "read", "tenant": "acme"})


def rest() -> dict:
    return rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies(JWT)})


def http() -> dict:
    return http_event("POST", {"origin": ORIGIN, f"x-{PREFIX}-csrf": CSRF}, cookies(JWT).split("; "))


# ---- allow() takes back only what this proxy made for this request ----------------------------------------


def test_allow_refuses_an_identity_of_another_proxy_even_with_the_same_configuration():
    ours, theirs = proxy(), proxy()
    identity = theirs.authenticate(rest())
    with pytest.raises(ValueError, match="another OAuthProxy"):
        ours.allow(rest(), identity)
    assert theirs.allow(rest(), identity)["principalId"] == "alice"


def test_allow_refuses_an_identity_of_a_proxy_that_would_not_have_allowed_the_request():
    """The other proxy trusts another origin and needs no scope: its Identity must not pass through ours."""
    lax = proxy(trusted_web_origins=["https://other.example"])
    strict = proxy(required_scopes=["admin"])
    event = rest_event("GET", {"Origin": "https://other.example", "Cookie": cookies(JWT)})
    identity = lax.authenticate(event)
    with pytest.raises(ValueError):
        strict.allow(event, identity)


@pytest.mark.parametrize("other_arn", [
    METHOD_ARN.replace("GET/orders/1", "DELETE/admin/users"),
    METHOD_ARN.replace("/prod/", "/test/"),
    METHOD_ARN + "/",
])
def test_allow_refuses_an_identity_made_for_another_method_arn(other_arn):
    p = proxy(context_claims="tenant")
    identity = p.authenticate(rest())
    with pytest.raises(ValueError, match="another request"):
        p.allow(dict(rest(), methodArn=other_arn), identity)
    # The same request in another dict (frameworks copy the event): what identifies it is its ARN.
    response = p.allow(json.loads(json.dumps(rest())), identity, {"n": 1})
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert response["context"] == {"token": f"Bearer {JWT}", "tenant": "acme", "n": 1}


def test_allow_refuses_an_identity_made_for_another_route_arn():
    p = proxy(http_api_response_format="iam")
    identity = p.authenticate(http())
    with pytest.raises(ValueError, match="another request"):
        p.allow(dict(http(), routeArn=ROUTE_ARN.replace("POST/orders", "DELETE/orders")), identity)
    # A REST event with the same text as the route ARN is another request's event too: the format decides
    # which ARN is read, and a REST event's methodArn is missing here.
    with pytest.raises(ValueError, match="another request"):
        p.allow(rest_event("GET", {}, arn=None), identity)
    assert p.allow(dict(http()), identity)["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_allow_refuses_an_event_without_its_arn():
    p = proxy()
    identity = p.authenticate(rest())
    for event in (rest_event("GET", {}, arn=None), dict(rest(), methodArn=7), {}, None):
        with pytest.raises(ValueError, match="another request"):
            p.allow(event, identity)


# ---- Identity is immutable and cannot be imitated ----------------------------------------------------------


def test_identity_is_immutable():
    """No attribute can be set, added or deleted, there is no __dict__, and the type itself cannot be changed:
    a replaced getter would make every Identity, including those allow() is handed, say something else."""
    identity = proxy().authenticate(rest())
    for name in ("token", "principal", "resource", "source", "claims", "scopes"):
        with pytest.raises(AttributeError):
            setattr(identity, name, "forged")
        with pytest.raises(AttributeError):
            object.__setattr__(identity, name, "forged")
        with pytest.raises(AttributeError):
            delattr(identity, name)
    with pytest.raises(AttributeError):
        identity.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(identity, "__dict__")
    with pytest.raises(TypeError):
        oauth_proxy.Identity.token = property(lambda self: "forged")  # type: ignore[method-assign, assignment]
    with pytest.raises(TypeError):
        oauth_proxy.Identity.__repr__ = lambda self: "forged"  # type: ignore[method-assign, assignment]
    with pytest.raises(TypeError):
        del oauth_proxy.Identity.principal
    assert identity.token == JWT and identity.principal == "alice" and "forged" not in repr(identity)
    # Nor can one be made outside authenticate(), directly or through a subclass.
    with pytest.raises(TypeError):
        type("Forged", (oauth_proxy.Identity,), {})
    with pytest.raises(TypeError):
        oauth_proxy.Identity()
    with pytest.raises(TypeError):
        oauth_proxy.Identity.__new__(oauth_proxy.Identity)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        object.__new__(oauth_proxy.Identity)


# ---- context keys ------------------------------------------------------------------------------------------


class Key(str):
    """A str subclass whose equality lies: a key the authorizer checks may not be the key that is sent."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return hash("token")


@pytest.mark.parametrize("key", [Key("tenant"), Key("token"), type("Plain", (str,), {})("tenant")])
def test_context_keys_must_be_exactly_str(key):
    p = proxy()
    identity = p.authenticate(rest())
    with pytest.raises(TypeError, match="context keys must be str"):
        p.allow(rest(), identity, {key: "acme"})
    assert p.allow(rest(), identity, {"tenant": "acme"})["context"]["tenant"] == "acme"


# ---- every denial is counted -------------------------------------------------------------------------------


def _denied_total(lines: str) -> int:
    return json.loads(lines.splitlines()[0])["Denied"]


def test_denials_past_the_reason_cap_are_counted_under_other():
    metered = proxy(metrics=True)
    event = rest()
    for n in range(40):
        metered.deny(event, reason=f"caller_reason_{n:02d}")
    metered.authorize(rest_event("GET", {"Cookie": cookies(JWT)}))  # missing_origin, a 41st reason
    taken = metered._take_metrics()
    denied = taken["denied"]
    assert sum(denied.values()) == 41
    named = {reason: count for reason, count in denied.items() if reason != "other"}
    assert len(named) == 32 and set(named.values()) == {1}
    assert denied["other"] == 41 - 32
    assert _denied_total(EmfWriter("OAuthProxy", phantom=False).lines(taken)) == 41


def test_a_reason_already_counted_is_not_moved_to_other():
    metered = proxy(metrics=True)
    event = rest()
    for n in range(32):
        metered.deny(event, reason=f"r{n}")
    metered.deny(event, reason="r5")
    metered.deny(event, reason="r32")
    denied = metered._take_metrics()["denied"]
    assert denied["r5"] == 2 and denied["other"] == 1 and "r32" not in denied
    assert sum(denied.values()) == 34
    assert metered._take_metrics()["denied"] == {}


def test_a_caller_reason_named_other_and_the_overflow_add_up():
    metered = proxy(metrics=True)
    event = rest()
    metered.deny(event, reason="other")
    for n in range(31):
        metered.deny(event, reason=f"r{n}")
    metered.deny(event, reason="overflow_a")
    metered.deny(event, reason="overflow_b")
    denied = metered._take_metrics()["denied"]
    assert denied["other"] == 3 and sum(denied.values()) == 34
