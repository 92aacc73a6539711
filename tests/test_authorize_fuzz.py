"""Structured fuzzing of OAuthProxy.authorize with hypothesis: valid events of both payload versions with
random parts replaced by values of any type (JSON types, and the ones JSON cannot produce), random
headers, huge values, and events that are not dicts at all. Whatever comes in, the authorizer answers with
a well-formed dict or raises Unauthorized (IntrospectionError only with phantom tokens on), never crashes,
never leaks the token into a denial, and keeps working afterwards.

No deadlines (timing thresholds are not tested here); HYPOTHESIS_EXAMPLES scales the run (default 200)."""
from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fault_server as fs
import oauth_proxy
from oauth_proxy import _core
from conftest import CSRF, OLD_KEY, OPAQUE, ORIGIN, PREFIX, cookies, http_event, make_jwt, proxy, rest_event

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

JWT = make_jwt({"sub": "fuzz-user", "scope": "read write", "exp": 4102444800})


class Text(str):
    """A str subclass: PyUnicode_Check accepts it, so the C code must cope with it like a str."""


class Number(int):
    pass


def huge(char: str, size: int) -> str:
    return char * size


scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**64, max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40) | st.binary(max_size=20)
    | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
    | st.text(max_size=20).map(Text) | st.integers(-5, 5).map(Number)
    | st.sampled_from([huge("a", 70_000), huge("é", 40_000), huge(";", 70_000), "\x00", "", " ", "2.0", "*"])
    | st.builds(object)
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=10) | st.integers() | st.none(), inner, max_size=4),
    max_leaves=10,
)
header_names = st.sampled_from(["Origin", "origin", "ORIGIN", "Cookie", "cookie", "Authorization", "authorization",
                                f"x-{PREFIX}-csrf", f"X-{PREFIX.upper()}-CSRF", "Content-Type"]) | st.text(max_size=12)
header_values = (
    st.sampled_from([ORIGIN, ORIGIN.upper(), "https://evil.example", CSRF, f"Bearer {JWT}", f"bearer {OPAQUE}",
                     "Bearer ", "Bearer", cookies(), cookies(JWT), cookies(key=OLD_KEY),
                     f"{PREFIX}-at={huge('A', 17_000)}", f"{PREFIX}-csrf={huge('A', 17_000)}",
                     f"{PREFIX}-at=; {PREFIX}-at", huge("x=y;", 17_000)])
    | anything
)
headers = st.dictionaries(header_names, header_values, max_size=6) | anything


def base_events():
    cookie = cookies(JWT)
    events = [
        rest_event(headers={"Origin": ORIGIN, "Cookie": cookie}),
        rest_event(method="POST", headers={"Origin": ORIGIN, "Cookie": cookie, f"x-{PREFIX}-csrf": CSRF}),
        rest_event(headers={"origin": ORIGIN}, multi={"Cookie": cookie.split("; ")}),
        http_event(headers={"origin": ORIGIN, f"x-{PREFIX}-csrf": CSRF}, cookie_list=cookie.split("; ")),
        http_event(method="GET", headers={"authorization": f"Bearer {JWT}"}),
    ]
    for event in events:  # the route ROUTE_SCOPES reads
        event.update({"routeKey": "POST /orders"} if "routeArn" in event else {"resource": "/orders/{id}"})
    return events


# Places in an event that a mutation may replace, as key paths.
PATHS = [
    ("version",), ("type",), ("methodArn",), ("routeArn",), ("httpMethod",), ("path",), ("rawPath",),
    ("headers",), ("multiValueHeaders",), ("cookies",), ("requestContext",), ("requestContext", "http"),
    ("requestContext", "http", "method"), ("headers", "Origin"), ("headers", "origin"), ("headers", "Cookie"),
    ("headers", f"x-{PREFIX}-csrf"), ("headers", "authorization"), ("multiValueHeaders", "Cookie"),
    ("cookies", 0), ("cookies", 1), ("resource",), ("routeKey",),
]


def set_path(event, path, value):
    target = event
    for step in path[:-1]:
        if isinstance(target, dict) and isinstance(target.get(step), (dict, list)):
            target = target[step]
        elif isinstance(target, list) and isinstance(step, int) and step < len(target):
            target = target[step]
        else:
            return
    last = path[-1]
    if isinstance(target, dict):
        target[last] = value
    elif isinstance(target, list) and isinstance(last, int) and last < len(target):
        target[last] = value


@st.composite
def mutated_events(draw):
    event = copy.deepcopy(draw(st.sampled_from(base_events())))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "replace", "delete", "headers", "extra"]))
        if kind == "replace":
            set_path(event, draw(st.sampled_from(PATHS)), draw(anything | header_values))
        elif kind == "delete":
            event.pop(draw(st.sampled_from(sorted(event))), None)
        elif kind == "headers":
            event[draw(st.sampled_from(["headers", "multiValueHeaders"]))] = draw(headers)
        else:
            event[draw(st.text(max_size=10))] = draw(anything)
    return event


PROXIES = {}
PHANTOM = hasattr(_core.Authorizer, "_enable_phantom")
CONFIGS = ["default", "allow token", "scopes", "iam", "library"] + (["phantom"] if PHANTOM else [])
SERVERS = []


def configured(name: str):
    if name not in PROXIES:
        options = {
            "default": {},
            "allow token": {"allow_token": True},
            # Scopes, route scopes and context claims come from the cookie's token here: with ALLOW_TOKEN they
            # need a verified bearer token (JWKS_URL), which tests/verified_jwt fuzzes.
            "scopes": {"required_scopes": ["read"]},
            "iam": {"http_api_response_format": "iam", "previous_encryption_keys": [OLD_KEY]},
            "library": {"route_scopes": "GET /orders/{id}=read; * /orders/*=write; * /*=admin",
                        "context_claims": "sub,scope,exp,absent", "require_origin": "writes"},
        }.get(name)
        if name == "phantom":
            # A flapping endpoint: JWTs, failures and inactive answers in turn.
            server = fs.FaultServer(fs.sequence(fs.answer(200, JWT.encode()), fs.answer(503, b""),
                                                fs.answer(204, b""), fs.garbage))
            SERVERS.append(server)
            options = {"allow_token": True, "use_phantom_token": True, "introspection_url": server.url,
                       "client_id": "fuzz", "client_secret": "fuzz-secret", "introspection_timeout_ms": 2000,
                       "introspection_cache_ttl": 0}
        PROXIES[name] = proxy(log_level="CRITICAL", **options)
    return PROXIES[name]


@pytest.fixture(autouse=True, scope="module")
def close_servers():
    yield
    for server in SERVERS:
        server.close()


def check_outcome(p, event, phantom: bool = False):
    try:
        response = p.authorize(event)
    except oauth_proxy.Unauthorized as error:
        assert str(error) == "Unauthorized"
        return "401"
    except oauth_proxy.IntrospectionError:
        assert phantom, "IntrospectionError without phantom tokens"
        return "500"
    assert isinstance(response, dict)
    if "isAuthorized" in response:
        assert set(response) <= {"isAuthorized", "context"}
        if not response["isAuthorized"]:
            assert set(response) == {"isAuthorized"}
            return "403"
        assert response["context"]["token"].startswith("Bearer ")
        return "allow"
    statement = response["policyDocument"]["Statement"][0]
    assert statement["Action"] == "execute-api:Invoke"
    assert isinstance(statement["Resource"], str)
    if statement["Effect"] == "Deny":
        assert response["principalId"] == "anonymous" and "context" not in response
        return "403"
    assert statement["Effect"] == "Allow" and response["context"]["token"].startswith("Bearer ")
    return "allow"


def still_works(p):
    event = rest_event(headers={"Origin": ORIGIN, "Cookie": cookies(JWT)})
    event["resource"] = "/orders/{id}"
    response = p.authorize(event)
    assert response["principalId"] == "fuzz-user"


@SETTINGS
@given(event=mutated_events(), which=st.sampled_from(CONFIGS))
def test_mutated_events_give_a_response_or_unauthorized(event, which):
    p = configured(which)
    check_outcome(p, event, phantom=which == "phantom")
    if which != "phantom":  # the flapping endpoint decides the phantom outcome
        still_works(p)


@SETTINGS
@given(event=anything | st.dictionaries(st.sampled_from([p[0] for p in PATHS]) | st.text(max_size=8), anything))
def test_arbitrary_values_as_events_give_a_response_or_unauthorized(event):
    p = configured("default")
    check_outcome(p, event)
    still_works(p)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_logger_that_raises_does_not_change_the_outcome():
    class Broken(logging.Handler):
        def emit(self, record):
            raise RuntimeError("broken log sink")

    p = proxy(log_level="DEBUG")
    handler = Broken()
    logger = logging.getLogger("oauth_proxy")
    logger.addHandler(handler)
    try:
        # the C side reports the callback's error as unraisable and still answers
        assert check_outcome(p, rest_event(headers={"Origin": "https://evil.example"})) == "403"
    finally:
        logger.removeHandler(handler)


def test_an_event_mutated_by_the_denial_logger_is_safe():
    """The denial callback runs Python code in the middle of authorize; if it empties the event, the C
    side must not be reading strings it took from that event any more."""
    p = proxy(log_level="DEBUG")

    class Clearing(logging.Handler):
        def emit(self, record):
            event.clear()

    handler = Clearing()
    logger = logging.getLogger("oauth_proxy")
    logger.addHandler(handler)
    try:
        for make in (lambda: rest_event(headers={"Origin": "https://evil.example", "Cookie": cookies()}),
                     lambda: rest_event(method="POST", headers={"Origin": ORIGIN, "Cookie": cookies()}),
                     lambda: rest_event(headers={"Origin": ORIGIN, "Cookie": f"{PREFIX}-at=nope"})):
            event = make()
            try:
                check_outcome(p, event)
            except oauth_proxy.Unauthorized:
                pass
    finally:
        logger.removeHandler(handler)
    still_works(p)


@pytest.mark.parametrize("size", [64 * 1024, 64 * 1024 + 1, 1 << 20])
def test_huge_cookie_headers_are_refused_or_ignored_by_size(size):
    p = configured("default")
    ours = cookies(JWT)
    filler = "u=" + "v" * max(0, size - len(ours) - 4)
    outcome = check_outcome(p, rest_event(headers={"Origin": ORIGIN, "Cookie": f"{filler}; {ours}"}))
    assert outcome == ("allow" if len(filler) + 2 + len(ours) <= 64 * 1024 else "403")


@SETTINGS
@given(event=mutated_events(), which=st.sampled_from(["default", "iam", "library"]))
def test_authenticate_and_the_builders_agree_with_authorize(event, which):
    p = configured(which)
    expected = check_outcome(p, event)
    try:
        identity = p.authenticate(event)
    except oauth_proxy.Forbidden as error:
        outcome = "403"
        assert error.status == 403 and isinstance(error.reason, str)
    except oauth_proxy.Unauthorized as error:
        outcome = "401"
        assert error.status == 401 and isinstance(error.reason, str)
    else:
        outcome = "allow"
        assert p.allow(event, identity) == p.authorize(event)
        assert isinstance(identity.claims, Mapping) and isinstance(identity.scopes, frozenset)
    assert outcome == expected
    assert isinstance(p.deny(event), dict)
    still_works(p)
