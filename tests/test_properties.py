"""Property tests (hypothesis) of the C core against independent references: the cookie format against the
`cryptography` package's AES-GCM, the Cookie header parser against a naive Python parser, and the JWT claims
scanner against the json module. Every check is observed through the public API (encrypt_cookie,
decrypt_cookie, OAuthProxy.authorize), as users get it.

No deadlines: hypothesis' per-example deadline is a timing threshold, and shared machines are noisy.
HYPOTHESIS_EXAMPLES scales the number of examples (default 200) for longer runs."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from contextlib import contextmanager
from typing import List, Optional, Tuple

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import oauth_proxy
from conftest import KEY, OLD_KEY, ORIGIN, PREFIX, b64url, make_jwt, proxy, rest_event, http_event

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Any text that can be UTF-8 encoded (lone surrogates cannot, so a Python str holding one is no plaintext).
utf8_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)
keys = st.binary(min_size=32, max_size=32).map(bytes.hex) | st.binary(min_size=32, max_size=32).map(
    lambda raw: raw.hex().upper()
)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independent_encrypt(plaintext: bytes, key_hex: str) -> str:
    iv = os.urandom(12)
    return b64url(b"\x01" + iv + AESGCM(bytes.fromhex(key_hex)).encrypt(iv, plaintext, None))


@contextmanager
def denial_reasons():
    """The reason codes of the denials logged inside the block."""
    reasons: List[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reasons.append(json.loads(record.getMessage())["reason"])

    handler = Catch(level=logging.DEBUG)
    logger = logging.getLogger("oauth_proxy")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)  # proxies made elsewhere may have set it higher
    try:
        yield reasons
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# ---- the cookie format -------------------------------------------------------------------------------


@SETTINGS
@given(plaintext=utf8_text, key=keys)
def test_encrypt_decrypt_round_trip_for_any_key_and_plaintext(plaintext, key):
    cookie = oauth_proxy.encrypt_cookie(plaintext, key)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cookie)
    assert oauth_proxy.decrypt_cookie(cookie, key) == plaintext
    # and an independent AES-GCM opens it too: the format, not just our own inverse
    raw = b64url_decode(cookie)
    assert raw[0] == 1 and len(raw) == 1 + 12 + len(plaintext.encode()) + 16
    assert AESGCM(bytes.fromhex(key)).decrypt(raw[1:13], raw[13:], None) == plaintext.encode()


@SETTINGS
@given(plaintext=st.binary(min_size=0, max_size=300), key=keys)
@example(plaintext=b"\xed\xa0\x80", key=KEY)  # a UTF-8 encoded surrogate
@example(plaintext=b"\xf4\x90\x80\x80", key=KEY)  # above U+10FFFF
@example(plaintext=b"\x00", key=KEY)
def test_independent_cookies_decrypt_exactly_when_the_plaintext_is_utf8(plaintext, key):
    cookie = independent_encrypt(plaintext, key)
    try:
        expected: Optional[str] = plaintext.decode("utf-8") if plaintext else None  # Python's decoder is strict
    except UnicodeDecodeError:
        expected = None
    if expected is None:
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(cookie, key)
    else:
        assert oauth_proxy.decrypt_cookie(cookie, key) == expected


@SETTINGS
@given(plaintext=utf8_text, data=st.data())
def test_any_single_byte_change_fails_to_decrypt(plaintext, data):
    raw = bytearray(b64url_decode(oauth_proxy.encrypt_cookie(plaintext, KEY)))
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    raw[position] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(oauth_proxy.CookieDecryptionError):
        oauth_proxy.decrypt_cookie(b64url(bytes(raw)), KEY)


@SETTINGS
@given(plaintext=utf8_text, data=st.data())
def test_any_single_character_change_fails_to_decrypt(plaintext, data):
    cookie = oauth_proxy.encrypt_cookie(plaintext, KEY)
    position = data.draw(st.integers(0, len(cookie) - 1), label="position")
    replacement = data.draw(st.characters(blacklist_categories=("Cs",)).filter(lambda c: c != cookie[position]))
    for tampered in (cookie[:position] + replacement + cookie[position + 1:],  # replaced
                     cookie[:position] + cookie[position + 1:],  # dropped
                     cookie[:position] + replacement + cookie[position:]):  # inserted
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(tampered, KEY)


@SETTINGS
@given(text=st.text(alphabet=ALPHABET + "=+/ .", max_size=120))
def test_random_text_never_decrypts(text):
    with pytest.raises(oauth_proxy.CookieDecryptionError):
        oauth_proxy.decrypt_cookie(text, KEY)


# ---- the Cookie header parser ------------------------------------------------------------------------

AT, CSRF_NAME = f"{PREFIX}-at", f"{PREFIX}-csrf"
TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# RFC 6265 cookie-octet: printable ASCII without blank, '"', ',', ';' and '\'
COOKIE_OCTET = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
# Names near ours that must not be taken for ours (cookie names are case-sensitive).
NEAR_NAMES = [f"{PREFIX.upper()}-at", f"{PREFIX}-AT", f"x{PREFIX}-at", f"{PREFIX}-at2", f"{PREFIX}_at", f"{PREFIX}-a",
              CSRF_NAME]
blank = st.text(alphabet=" \t", max_size=2)


def reference_cookie_pairs(headers: List[str]) -> List[Tuple[str, str]]:
    """RFC 6265 section 5.4 as browsers send it, written the obvious way."""
    pairs = []
    for header in headers:
        for piece in header.split(";"):
            if "=" not in piece:
                continue
            name, value = piece.split("=", 1)
            name, value = name.strip(" \t"), value.strip(" \t")
            if name:
                pairs.append((name, value))
    return pairs


@st.composite
def cookie_requests(draw):
    """A request whose Cookie headers mix unrelated cookies with several occurrences of our `-at` cookie:
    valid ones (with distinct tokens), and ones that must not decrypt. Returns the event shape, the headers
    and the tokens of the valid cookie values."""
    tokens = {}
    pairs = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(NEAR_NAMES) | st.text(alphabet=TCHAR, min_size=1, max_size=12))
        assume(name != AT)
        pairs.append((name, draw(st.text(alphabet=COOKIE_OCTET, max_size=40))))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["valid", "other key", "tampered", "garbage", "empty"]))
        token = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
        value = oauth_proxy.encrypt_cookie(token, OLD_KEY if kind == "other key" else KEY)
        if kind == "valid":
            tokens[value] = token
        elif kind == "tampered":
            value = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
        elif kind == "garbage":
            value = draw(st.text(alphabet=COOKIE_OCTET, max_size=60))
        elif kind == "empty":
            value = ""
        pairs.insert(draw(st.integers(0, len(pairs))), (AT, value))
    # Serialise with random blanks and empty pieces, split over one to three headers.
    pieces = [f"{draw(blank)}{name}{draw(blank)}={draw(blank)}{value}{draw(blank)}" for name, value in pairs]
    for _ in range(draw(st.integers(0, 2))):
        pieces.insert(draw(st.integers(0, len(pieces))), draw(st.sampled_from(["", " ", "flag", "  nameless  "])))
    cuts = sorted(draw(st.lists(st.integers(0, len(pieces)), max_size=2)))
    headers, start = [], 0
    for cut in cuts + [len(pieces)]:
        headers.append(";".join(pieces[start:cut]))
        start = cut
    shape = draw(st.sampled_from(["rest single", "rest multi", "http cookies"]))
    if shape == "rest single":
        headers = [";".join(headers)]
    return shape, headers, tokens


AUTHORIZER = None


def shared_proxy():
    # One authorizer for all examples, as in Lambda.
    global AUTHORIZER
    if AUTHORIZER is None:
        AUTHORIZER = proxy(log_level="DEBUG")
    return AUTHORIZER


@SETTINGS
@given(cookie_requests())
def test_cookie_parser_agrees_with_a_reference_parser(request_shape):
    shape, headers, tokens = request_shape
    if shape == "rest single":
        event = rest_event(headers={"Origin": ORIGIN, "Cookie": headers[0]})
    elif shape == "rest multi":
        # multiValueHeaders lists every Cookie header; the single-valued `headers` copy is then ignored
        event = rest_event(headers={"origin": ORIGIN, "cookie": "ignored=1"}, multi={"Cookie": headers})
    else:
        event = http_event(method="GET", headers={"origin": ORIGIN}, cookie_list=headers)
    ours = [value for name, value in reference_cookie_pairs(headers) if name == AT]
    expected = next((tokens[value] for value in ours if value in tokens), None)
    with denial_reasons() as reasons:
        if expected is None:
            with pytest.raises(oauth_proxy.Unauthorized):
                shared_proxy().authorize(event)
            assert reasons == ["at_decrypt_failed" if ours else "at_cookie_missing"]
        else:
            response = shared_proxy().authorize(event)
            assert response["context"] == {"token": f"Bearer {expected}"}
            assert reasons == []


# ---- JWT claims --------------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
SCOPE_WORDS = ["read", "write", "orders", "admin", "read:all", "re", "ad"]


@st.composite
def claim_sets(draw):
    claims = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
    if draw(st.booleans()):
        claims["sub"] = draw(st.text(max_size=20) | json_values)
    if draw(st.booleans()):
        words = draw(st.lists(st.sampled_from(SCOPE_WORDS), max_size=4))
        claims["scope"] = draw(st.sampled_from([" ", "  "])).join(words) if draw(st.booleans()) else draw(json_values)
    return claims


def pseudonym(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def bearer_event(token: str) -> dict:
    return rest_event(headers={"Authorization": f"Bearer {token}"})


def cookie_event(token: str) -> dict:
    """A browser's GET with the token in the -at cookie: scopes are checked on this path without JWKS_URL."""
    return rest_event(headers={"Origin": ORIGIN, "Cookie": f"{PREFIX}-at={oauth_proxy.encrypt_cookie(token, KEY)}"})


JWT_HEADER = b64url(b'{"alg":"RS256"}')


def jwt_with_payload(payload: bytes) -> str:
    return f"{JWT_HEADER}.{b64url(payload)}.c2lnbmF0dXJl"


SCOPED = {}


def scoped_proxy(required: Tuple[str, ...]):
    if required not in SCOPED:
        SCOPED[required] = proxy(required_scopes=list(required), log_level="CRITICAL")
    return SCOPED[required]


@SETTINGS
@given(claims=claim_sets(), ensure_ascii=st.booleans(), required=st.lists(st.sampled_from(SCOPE_WORDS[:4]), max_size=2))
def test_principal_and_scope_check_agree_with_json_loads(claims, ensure_ascii, required):
    payload = json.dumps(claims, ensure_ascii=ensure_ascii).encode()
    token = jwt_with_payload(payload)
    parsed = json.loads(payload)
    sub, scope = parsed.get("sub"), parsed.get("scope")
    granted = isinstance(scope, str) and all(word in scope.split(" ") for word in required)
    response = scoped_proxy(tuple(required)).authorize(cookie_event(token))
    if required and not granted:
        assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        assert response["principalId"] == "anonymous"
        return
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert response["principalId"] == (sub if isinstance(sub, str) and sub else pseudonym(token))
    assert response["context"] == {"token": f"Bearer {token}"}


def has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return False


def strict_json_sub(payload: bytes):
    """What a strict RFC 8259 reader finds as the top-level `sub`: ("reject",) for text that is not a JSON
    object, ("skip",) where Python's json module is laxer than the RFC, else ("ok", sub)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return ("reject",)

    def no_constants(name):
        raise ValueError(name)  # NaN and Infinity are not JSON

    try:
        value = json.loads(text, parse_constant=no_constants)
    except (ValueError, RecursionError):
        return ("reject",)
    if has_lone_surrogate(value):
        return ("skip",)  # json accepts an escaped lone surrogate (\ud800); the C reader refuses it
    if not isinstance(value, dict):
        return ("reject",)
    return ("ok", value.get("sub"))


@st.composite
def mutated_payloads(draw):
    """A JSON object with a `sub`, then a few byte edits: most results are no longer JSON."""
    claims = draw(claim_sets())
    claims["sub"] = draw(st.text(alphabet="abcXYZ-é😀\"\\", min_size=1, max_size=8))
    payload = bytearray(json.dumps(claims, ensure_ascii=draw(st.booleans())).encode())
    noise = list(b'{}[]:,"\\ \t\n0123456789-+.eEtrufalsn\x00\x1f\x7f\xc3\xa9\xed\xa0\xff') + [ord("u")]
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        at = draw(st.integers(0, len(payload)))
        if op == "insert":
            payload.insert(at, draw(st.sampled_from(noise)))
        elif at < len(payload):
            if op == "delete":
                del payload[at]
            else:
                payload[at] = draw(st.sampled_from(noise))
    return bytes(payload)


LAX = None


@SETTINGS
@given(payload=mutated_payloads())
@example(payload=b'{"sub":"a",}')
@example(payload=b'{"sub":"a"} x')
@example(payload=b'{"sub":"a","x":01}')
@example(payload=b'{"sub":"a","x":NaN}')
@example(payload=b'{"sub":"a\x01"}')
@example(payload=b'{"sub":"\xc3"}')
@example(payload=b'{"s\\u0075b":"escaped key"}')
@example(payload=b'{"sub":"first","sub":"last"}')
@example(payload=b'{"sub":"a","x":' + b"[" * 64 + b"]" * 64 + b"}")
def test_jwt_scanner_accepts_exactly_what_a_strict_json_parser_accepts(payload):
    global LAX
    if LAX is None:
        LAX = proxy(allow_token=True, log_level="CRITICAL")
    verdict = strict_json_sub(payload)
    assume(verdict != ("skip",))
    if payload.count(b"[") >= 64 or payload.count(b"{") >= 64:
        assume(verdict == ("reject",))  # the C reader stops at 64 levels; json goes deeper
    token = jwt_with_payload(payload)
    principal = LAX.authorize(bearer_event(token))["principalId"]
    if verdict == ("reject",):
        assert principal == pseudonym(token), "the C scanner accepted a payload that is not strict JSON"
    else:
        sub = verdict[1]
        assert principal == (sub if isinstance(sub, str) and sub else pseudonym(token))


@pytest.mark.parametrize("depth, is_jwt", [(63, True), (64, False), (5000, False)])
def test_deep_nesting_is_refused_at_64_levels_without_recursing_further(depth, is_jwt):
    payload = b'{"sub":"deep","x":' + b"[" * depth + b"]" * depth + b"}"
    token = jwt_with_payload(payload)
    principal = proxy(allow_token=True, log_level="CRITICAL").authorize(bearer_event(token))["principalId"]
    assert principal == ("deep" if is_jwt else pseudonym(token))


def test_make_jwt_helper_tokens_are_read(denials):
    token = make_jwt({"sub": "alice", "scope": "read write"})
    response = proxy(required_scopes="read").authorize(cookie_event(token))
    assert response["principalId"] == "alice"
