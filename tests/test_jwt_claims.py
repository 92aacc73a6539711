"""The C scan of JWT claims (sub for the principal, scope for REQUIRED_SCOPES) agrees with json.loads on
what is valid JSON and treats anything else as an opaque token."""
from __future__ import annotations

import json

import pytest

from conftest import b64url, proxy, rest_event, spa_headers


def jwt_from_payload(payload: bytes) -> str:
    return f"eyJhbGciOiJub25lIn0.{b64url(payload)}.c2ln"


def principal_of(token: str) -> str:
    return proxy().authorize(rest_event("GET", spa_headers(token=token)))["principalId"]


def scope_allows(token: str, required: str) -> bool:
    response = proxy(required_scopes=required).authorize(rest_event("GET", spa_headers(token=token)))
    return "context" in response


PAYLOADS = [
    b'{"sub":"alice"}',
    b' \n{ "sub" : "alice" , "scope" : "a b" } \t',
    b'{"sub":"first","sub":"last"}',
    b'{"sub":"x","sub":5}',
    b'{"\\u0073ub":"escaped-key"}',
    b'{"sub":"\\u00e9\\ud83d\\ude00\\n\\"\\\\\\/"}',
    b'{"nested":{"sub":"inner","a":[1,{"b":[true,false,null]}]},"sub":"outer"}',
    b'{"exp":1.5e9,"sub":"n","x":-0.25E-3,"y":[]}',
    '{"sub":"caf\u00e9 \u4e2d\u6587"}'.encode(),
    b'{"sub":""}',
    b'{}',
]

NOT_JSON_OBJECTS = [
    b'["sub","alice"]',
    b'"alice"',
    b'{"sub":"alice"',
    b'{"sub":"alice"}}',
    b'{"sub":"alice",}',
    b"{'sub':'alice'}",
    b'{"sub":"a\x01"}',
    b'{"sub":"\\ud800"}',
    b'{"sub":"\\udc00x"}',
    b'{"sub":"\\x41"}',
    b'{"sub":"\xff"}',
    b'{"sub":"\xc0\xaf"}',
    b'{"sub":01}',
    b'{"sub":"a"} x',
    b'{"a":' + b"[" * 100 + b"]" * 100 + b',"sub":"deep"}',
    b'{"a":tru}',
    b'{"a":1.}',
    b'{"a":-}',
    b'',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_principal_agrees_with_json_loads(payload):
    claims = json.loads(payload)
    sub = claims.get("sub")
    principal = principal_of(jwt_from_payload(payload))
    if isinstance(sub, str) and sub:
        assert principal == sub
    else:
        assert principal.startswith("sha256:")


@pytest.mark.parametrize("payload", NOT_JSON_OBJECTS)
def test_payloads_that_are_not_json_objects_make_an_opaque_token(payload):
    try:
        parsed = json.loads(payload)
        # Python accepts lone surrogates and deep nesting; we refuse both (fail closed), never the reverse.
        assert not isinstance(parsed, dict) or "\\ud800" in payload.decode() or "\\udc00" in payload.decode() or b"[[[" in payload
    except ValueError:
        pass
    assert principal_of(jwt_from_payload(payload)).startswith("sha256:")
    assert not scope_allows(jwt_from_payload(payload), "x")


def test_nesting_up_to_the_limit_is_fine():
    payload = b'{"a":' + b"[" * 60 + b"]" * 60 + b',"sub":"ok"}'
    assert principal_of(jwt_from_payload(payload)) == "ok"


@pytest.mark.parametrize("token", [
    "a.b", "a.b.c.d", ".e30.x", "e30..x", "eyJ.e30=.x", "e30.e30.x",  # e30 = "{}" only for the last one
])
def test_jwt_shape(token):
    principal = principal_of(token)
    assert principal.startswith("sha256:")


def test_last_duplicate_scope_decides():
    token = jwt_from_payload(b'{"scope":"admin","scope":"read"}')
    assert scope_allows(token, "read") and not scope_allows(token, "admin")
    token = jwt_from_payload(b'{"scope":"admin","scope":null}')
    assert not scope_allows(token, "admin")


def test_scope_with_escapes_and_tabs():
    token = jwt_from_payload(b'{"scope":"read\\u0020write\\tadmin"}')
    # RFC 6749 separates scopes by a space only: "write<TAB>admin" is one (odd) word, not two.
    assert scope_allows(token, "read") and not scope_allows(token, "write") and not scope_allows(token, "admin")


def test_empty_signature_still_counts_as_a_jwt():
    payload = b64url(b'{"sub":"s"}')
    token = f"eyJhbGciOiJub25lIn0.{payload}."
    assert principal_of(token) == "s"
