#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/ from the Curity interop vectors (tests/vectors/curity-v1.json,
or the path given as the first argument). The seeds are committed, so CI and the fuzz
script need neither this script nor the vectors; run it again when the vectors change."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_VECTORS = HERE.parent / "tests" / "vectors" / "curity-v1.json"
# Curity's second cookie generation (no version byte); cookie_decrypt reads these with the generation bits set.
V2_VECTORS = HERE.parent / "tests" / "vectors" / "curity-v2.json"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# fuzz_route_match.c's alphabets: index -> character
_PATH = {"/": 0, "a": 1, "b": 2, ".": 5, "\0": 4}
_METHOD = {"G": 0, "E": 1, "T": 2, "g": 3, "e": 4, "t": 5, "P": 6, "O": 7, "S": 8, "p": 9, "o": 10, "s": 11}
_RULE_METHODS = {"*": 0, "GET": 1, "POST": 2, "GE": 3, "DELETE": 4}


def _route_input(rules: list, requests: list) -> bytes:
    """fuzz_route_match.c's input: rules as (method, prefix, path), requests as (method, path)."""
    out = bytearray([len(rules)])
    for method, prefix, path in rules:
        out += bytes([_RULE_METHODS[method], 1 if prefix else 0, len(path)]) + bytes(_PATH[c] for c in path)
    for method, path in requests:
        out += bytes([len(method)]) + bytes(_METHOD[c] for c in method)
        out += bytes([len(path)]) + bytes(_PATH[c] for c in path)
    return bytes(out)


def route_match_seeds() -> dict:
    """ROUTE_SCOPES shapes: exact before prefix, a method before `*`, the root prefix, near misses."""
    return {
        "orders": _route_input(
            [("POST", False, "/a"), ("*", True, "/a"), ("GET", True, ""), ("*", False, "/b/a")],
            [("POST", "/a"), ("post", "/a/b"), ("GET", "/ab"), ("GET", "/"), ("PO", "/b/a"), ("GET", "")]),
        "root-only": _route_input([("*", True, "")], [("GET", "/"), ("GET", "a"), ("", "")]),
        "dots-and-slashes": _route_input(
            [("GE", True, "/a/"), ("DELETE", False, "/a/../b")],
            [("GE", "/a//"), ("ge", "/a/"), ("Get", "/a/../b")]),
    }


def main() -> int:
    vectors = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VECTORS).read_text(encoding="utf-8"))
    seeds: dict = {name: {} for name in ("b64url", "cookie_header", "cookie_decrypt", "jwt_claims", "utf8",
                                         "request_checks", "introspect_body", "token_cache",
                                         "route_match")}
    cases = [("valid", i, case) for i, case in enumerate(vectors["valid"])]
    cases += [("invalid", i, case) for i, case in enumerate(vectors["invalid"])]
    for kind, i, case in cases:
        cookie = case["cookie"].encode()
        seeds["b64url"][f"{kind}-{i}"] = cookie
        seeds["cookie_decrypt"][f"{kind}-{i}"] = b"\x00" + cookie  # even first byte: a wire value
        seeds["cookie_header"][f"{kind}-{i}"] = b"example-at=" + cookie + b"; theme=dark; example-csrf=" + cookie
        if kind == "valid":
            plain = case["plaintext"].encode()
            seeds["cookie_decrypt"][f"plain-{i}"] = b"\x01" + plain  # odd first byte: a plaintext
            seeds["utf8"][f"plain-{i}"] = plain
            if plain.count(b".") == 2:  # a JWT: whole, and its payload JSON alone
                seeds["jwt_claims"][f"token-{i}"] = b"\x00" + plain
                seeds["jwt_claims"][f"payload-{i}"] = b"\x01" + b64url_decode(plain.split(b".")[1].decode())
    v2 = json.loads(V2_VECTORS.read_text(encoding="utf-8"))
    for kind in ("valid", "invalid"):
        for i, case in enumerate(v2[kind]):
            cookie = case["cookie"].encode()
            seeds["cookie_decrypt"][f"v2-{kind}-{i}"] = b"\x02" + cookie  # a wire value read as v2
            seeds["cookie_decrypt"][f"both-{kind}-{i}"] = b"\x04" + cookie  # ... as v1 or v2
            if kind == "valid":
                seeds["cookie_decrypt"][f"v2-plain-{i}"] = b"\x03" + case["plaintext"].encode()  # encrypted as v2
    seeds["cookie_header"].update({
        "blanks": b" a = b ;\tc=d\t; =e; f; g=; ;; h=i=j ",
        "http2-split": b"example-at=x",
        "empty": b"",
    })
    seeds["jwt_claims"].update({
        "escapes": b'\x01{"sub":"a\\u00e9\\uD83D\\uDE00\\n\\"","scope":"read write","exp":1.5e9}',
        "nested": b'\x01{"x":[{"y":[1,2,{"z":null}]},true,false],"sub":"u","sub":7}',
        "numbers": b'\x01{"exp":-0.0e-0,"a":0,"b":-12.34E+5,"scope":""}',
    })
    # request_checks: Authorization header or method, NUL, granted scopes or CSRF plaintext, NUL, required scopes
    seeds["request_checks"].update({
        "bearer": b"Bearer abc.def-ghi_~+/==\0read write\0read",
        "spaces": b"bearer   x\0a b  c\0c a",
        "post": b"POST\0csrf\0",
        "options": b"OPTIONS\0OPTIONS\0 ",
        "handler-version": b"1\0" + b"1\0",
    })
    # introspect_body: what an introspection endpoint answers with
    seeds["introspect_body"].update({
        "inactive": b'{"active":false}',
        "active": b'{"active":true,"sub":"x","n":[1,2.5e3,{"a":null}]}',
        "jwt": b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    })
    # token_cache: capacity byte, then (operation, token) pairs
    seeds["token_cache"].update({
        "mixed": b"\x03\x00\x01\x00\x02\x01\x01\x00\x03\x00\x04\x02\x01\x01\x02",
        "replace": b"\x07\x00\x00\x00\x01\x08\x00\x01\x00",
    })
    seeds["route_match"].update(route_match_seeds())
    seeds["utf8"].update({"mixed": "aé€😀\U0010ffff".encode(), "surrogate": b"\xed\xa0\x80", "overlong": b"\xc0\xaf"})
    for target, files in seeds.items():
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
