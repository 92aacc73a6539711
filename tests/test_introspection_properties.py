"""How an introspection answer (HTTP 200) becomes an outcome, against a Python reading of the phantom exchange's rules:
a JWT (three base64url segments whose payload is a JSON object) is used; an empty body or JSON with
"active": false is a 401; anything else, JSON "active": true included, is a 500. Bodies come from
hypothesis: JWT-shaped text, JSON objects with `active` of any type, and byte edits of both.

Known, deliberate difference from Python's json module: a duplicated "active" member is ambiguous and
fails (500), where json.loads would take the last one. Members are matched by their decoded name; generated
names use no escapes."""
from __future__ import annotations

import base64
import json
import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import oauth_proxy

import fault_server as fs
from conftest import KEY, ORIGIN, PREFIX, b64url


EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class Endpoint:
    """One loopback endpoint for the whole module; each example sets the body it answers with."""

    def __init__(self) -> None:
        self.body = b""
        self.server = fs.FaultServer(lambda server, conn: fs.answer(200, self.body, "application/json")(server, conn))


@pytest.fixture(scope="module")
def endpoint():
    e = Endpoint()
    e.proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(
        trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY, allow_token=True,
        use_phantom_token=True, introspection_url=e.server.url, client_id="c", client_secret="s",
        introspection_cache_ttl=0, introspection_timeout_ms=5000, log_level="CRITICAL"))
    yield e
    e.server.close()


class Members(list):
    """A JSON object as the list of its members, duplicates kept (json's object_pairs_hook)."""


def strict_json(data: bytes):
    """(True, value) for strict RFC 8259 JSON, else (False, None)."""
    try:
        text = data.decode("utf-8")

        def refuse(name):
            raise ValueError(name)

        return True, json.loads(text, parse_constant=refuse, object_pairs_hook=Members)
    except (ValueError, RecursionError):
        return False, None


def has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, tuple):  # a member: name, value
        return has_lone_surrogate(value[0]) or has_lone_surrogate(value[1])
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def expected(body: bytes):
    """The outcome the exchange's rules ask for, or None where the two readings may differ by design."""
    text = body.strip(b" \t\r\n")
    if not text:
        return "401"
    if re.fullmatch(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", text):
        payload = text.split(b".")[1]
        try:
            raw = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
            canonical = b64url(raw).encode() == payload
        except ValueError:
            return "500"
        ok, value = strict_json(raw)
        if ok and has_lone_surrogate(value):
            return None
        return "allow" if canonical and ok and _is_object(value) else "500"
    ok, value = strict_json(text)
    if not ok or not _is_object(value):
        return "500"
    if has_lone_surrogate(value):
        return None
    actives = [v for k, v in value if k == "active"]
    return "401" if len(actives) == 1 and actives[0] is False else "500"  # not 0, which == False


def _is_object(value) -> bool:
    return isinstance(value, Members)


def outcome(proxy, token: str = "opaque-introspection-property") -> str:
    try:
        proxy.authorize({"methodArn": "arn:aws:execute-api:r:1:api/stage/GET/x", "httpMethod": "GET",
                         "headers": {"Authorization": f"Bearer {token}"}})
    except oauth_proxy.Unauthorized:
        return "401"
    except oauth_proxy.IntrospectionError:
        return "500"
    return "allow"


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=6)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(alphabet="abcxyz", max_size=6), inner, max_size=3), max_leaves=8)


@st.composite
def bodies(draw):
    kind = draw(st.sampled_from(["active", "jwt", "text"]))
    if kind == "active":
        members = draw(st.lists(st.tuples(st.sampled_from(["active", "sub", "scope", "x"]), json_values), max_size=4))
        if draw(st.booleans()):  # the usual inactive answer, among other members
            members.insert(draw(st.integers(0, len(members))), ("active", False))
        body = ("{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in members) + "}").encode()
    elif kind == "jwt":
        claims = draw(json_values)
        body = f"{b64url(b'{}')}.{b64url(json.dumps(claims).encode())}.{draw(st.text(alphabet=B64, min_size=1, max_size=8))}".encode()
    else:
        body = draw(st.binary(max_size=40))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from([b"", b" ", b".", b",", b"}", b"\"", b"\xa1", b"\\u", b"a"])) + body[at + 1:]
    if draw(st.booleans()):
        body = draw(st.sampled_from([b"", b" ", b"\r\n"])) + body + draw(st.sampled_from([b"", b"\n", b"\t "]))
    return body


@SETTINGS
@given(body=bodies())
@example(body=b"")
@example(body=b" \r\n")
@example(body=b'{"active":false}')
@example(body=b'{"active":true}')
@example(body=b'{"active":false,"active":false}')
@example(body=b'{"active":"false"}')
@example(body=b'{"active":0}')
@example(body=b'{"active":false}x')
@example(body=b'{"active":false,"\xa1":1}')
@example(body=b'[{"active":false}]')
@example(body=b"eyJ9.e30.c2ln")
@example(body=b"a.b.c")
def test_introspection_answer_outcomes_follow_the_rules(endpoint, body):
    want = expected(body)
    if want is None:
        return
    endpoint.body = body
    assert outcome(endpoint.proxy) == want, body
