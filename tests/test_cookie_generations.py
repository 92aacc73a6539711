"""Curity's second cookie generation (no version byte) and the custom-header CSRF defence.

Interop: tests/vectors/curity-v2.json holds cookies written by Curity's own OAuth Agent code (provenance in
tests/vectors/README.md); tests/interop/cookie_v2.mjs is an independent implementation of both generations in
Node's crypto, run here with the machine's node, both ways against ours."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import oauth_proxy
from conftest import KEY, OLD_KEY, ORIGIN, PREFIX, REPO, make_jwt
from oauth_proxy.testing import SpaSession

V2_VECTORS = json.loads((REPO / "tests" / "vectors" / "curity-v2.json").read_text(encoding="utf-8"))
V1_VECTORS = json.loads((REPO / "tests" / "vectors" / "curity-v1.json").read_text(encoding="utf-8"))
NODE_IMPLEMENTATION = REPO / "tests" / "interop" / "cookie_v2.mjs"
HEADER = "token-handler-version"
JWT = make_jwt({"sub": "alice", "scope": "openid", "exp": 4102444800})
PLAINTEXTS = ["x", "42665300-efe8-419d-be52-07b53e208f46", "é€😀 ünïcödé", JWT, "t" * 5000]


def raw(cookie: str) -> bytes:
    return base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))


def node(op: str, fmt: str, key: str, items: list) -> list:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("node is not installed (the deployment tests need it too: apt-get install nodejs)")
    proc = subprocess.run([executable, str(NODE_IMPLEMENTATION)], input=json.dumps(
        {"op": op, "format": fmt, "key": key, "items": items}), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---- the vectors: Curity's cookies ---------------------------------------------------------------------

def test_curity_v2_cookies_decrypt():
    assert len(V2_VECTORS["valid"]) >= 7
    for case in V2_VECTORS["valid"]:
        key = V2_VECTORS["keys"][case["key"]]
        assert oauth_proxy.decrypt_cookie(case["cookie"], key, format="v2") == case["plaintext"], case["name"]


def test_invalid_v2_vectors_are_refused_including_where_curity_is_laxer():
    assert any(case["curity_decrypts"] for case in V2_VECTORS["invalid"])
    for case in V2_VECTORS["invalid"]:
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(case["cookie"], V2_VECTORS["keys"][case["key"]], format="v2")


def test_the_generations_do_not_open_each_other():
    for case in V2_VECTORS["valid"]:  # one of them has an IV starting with the v1 version byte
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(case["cookie"], V2_VECTORS["keys"][case["key"]])
    for case in V1_VECTORS["valid"]:
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(case["cookie"], V1_VECTORS["keys"][case["key"]], format="v2")


def test_the_vector_with_an_iv_starting_0x01_is_there():
    assert any(raw(case["cookie"])[0] == 1 for case in V2_VECTORS["valid"])


def test_cookies_curity_opened_still_open_here_and_in_node():
    cases = V2_VECTORS["ours_opened_by_curity"]
    for case in cases:
        assert oauth_proxy.decrypt_cookie(case["cookie"], V2_VECTORS["keys"][case["key"]], format="v2") \
            == case["plaintext"]
    for name in V2_VECTORS["keys"]:
        mine = [case for case in cases if case["key"] == name]
        assert node("decrypt", "v2", V2_VECTORS["keys"][name], [c["cookie"] for c in mine]) \
            == [c["plaintext"] for c in mine]


def test_node_implementation_agrees_on_curity_vectors():
    """The independent implementation is itself checked against Curity's output, so that a bug shared by
    both cannot hide: it opens every valid vector and refuses every invalid one, as ours does."""
    for name, key in V2_VECTORS["keys"].items():
        valid = [c for c in V2_VECTORS["valid"] if c["key"] == name]
        assert node("decrypt", "v2", key, [c["cookie"] for c in valid]) == [c["plaintext"] for c in valid]
        invalid = [c["cookie"] for c in V2_VECTORS["invalid"] if c["key"] == name]
        assert node("decrypt", "v2", key, invalid) == [None] * len(invalid)


# ---- both ways against the independent implementation ---------------------------------------------------

@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_our_cookies_open_in_node(fmt):
    cookies = [oauth_proxy.encrypt_cookie(text, KEY, format=fmt) for text in PLAINTEXTS]
    assert node("decrypt", fmt, KEY, cookies) == PLAINTEXTS
    other = "v1" if fmt == "v2" else "v2"
    assert node("decrypt", other, KEY, cookies) == [None] * len(PLAINTEXTS)


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_node_cookies_open_here(fmt):
    for text, cookie in zip(PLAINTEXTS, node("encrypt", fmt, KEY, PLAINTEXTS)):
        assert oauth_proxy.decrypt_cookie(cookie, KEY, format=fmt) == text
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(cookie, OLD_KEY, format=fmt)


# ---- encrypt_cookie / decrypt_cookie ------------------------------------------------------------------

def test_v2_layout_is_iv_ciphertext_tag_without_version_byte():
    first, second = (raw(oauth_proxy.encrypt_cookie("abc", KEY, format="v2")) for _ in range(2))
    assert len(first) == 12 + 3 + 16 and first[:12] != second[:12]
    assert len(raw(oauth_proxy.encrypt_cookie("abc", KEY, format="v1"))) == 1 + 12 + 3 + 16


def test_format_defaults_to_v1_and_may_be_positional():
    cookie = oauth_proxy.encrypt_cookie("abc", KEY)
    assert raw(cookie)[0] == 1
    assert oauth_proxy.decrypt_cookie(cookie, KEY, "v1") == "abc"
    assert oauth_proxy.decrypt_cookie(oauth_proxy.encrypt_cookie("abc", KEY, "v2"), KEY, "v2") == "abc"


@pytest.mark.parametrize("fmt", ["v3", "V2 ", "", "v1,v2", "v2\x00"])
def test_an_unknown_format_is_a_value_error(fmt):
    with pytest.raises(ValueError, match="format must be"):
        oauth_proxy.encrypt_cookie("abc", KEY, format=fmt)
    with pytest.raises(ValueError, match="format must be") as caught:
        oauth_proxy.decrypt_cookie(oauth_proxy.encrypt_cookie("abc", KEY), KEY, format=fmt)
    assert not isinstance(caught.value, oauth_proxy.CookieDecryptionError)


def test_v2_refuses_an_empty_plaintext_and_a_frame_without_one():
    with pytest.raises(ValueError):
        oauth_proxy.encrypt_cookie("", KEY, format="v2")
    tag_only = base64.urlsafe_b64encode(bytes(28)).rstrip(b"=").decode()
    with pytest.raises(oauth_proxy.CookieDecryptionError):
        oauth_proxy.decrypt_cookie(tag_only, KEY, format="v2")


# ---- COOKIE_FORMAT in the decision --------------------------------------------------------------------

def make_proxy(**settings) -> oauth_proxy.OAuthProxy:
    return oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                     encryption_key=KEY, **settings))


SESSION = SpaSession(KEY, PREFIX, ORIGIN, token=JWT)


def get_with(at_cookie: str) -> dict:
    return SESSION.rest_event("GET", "/orders", at_cookie=at_cookie, csrf_cookie=None)


@pytest.mark.parametrize("setting, v1_opens, v2_opens", [
    (None, True, False), ("v1", True, False), ("v2", False, True), ("v1,v2", True, True), (" V2 , v1 ", True, True),
    (["v2", "v1"], True, True), (("v2",), False, True),
])
def test_cookie_format_setting(setting, v1_opens, v2_opens, denials):
    proxy = make_proxy(**({} if setting is None else {"cookie_format": setting}))
    for fmt, opens in (("v1", v1_opens), ("v2", v2_opens)):
        event = get_with(oauth_proxy.encrypt_cookie(JWT, KEY, format=fmt))
        if opens:
            assert proxy.authorize(event)["context"] == {"token": f"Bearer {JWT}"}
        else:
            with pytest.raises(oauth_proxy.Unauthorized):
                proxy.authorize(event)
    assert denials.reasons == [] if v1_opens and v2_opens else ["at_decrypt_failed"]


def test_migration_accepts_curity_v2_and_v1_vectors_with_both_keys():
    keys = V2_VECTORS["keys"]
    proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(
        trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=keys["A"],
        previous_encryption_keys=[keys["B"]], cookie_format="v1,v2"))
    for case in V2_VECTORS["valid"] + V1_VECTORS["valid"]:
        allowed = proxy.authorize(get_with(case["cookie"]))
        assert allowed["context"]["token"] == f"Bearer {case['plaintext']}", case["name"]
    # Refused by both generations, with key A alone (key B made the "someone else's key" cases): everything
    # invalid except the two that are well-formed v1 cookies under key A: the v1 vector among the v2 ones, and
    # a v2 cookie with the version byte put in front, which is by construction the v1 cookie of the same
    # plaintext (v1 is 0x01 followed by a v2 frame), so it opens to what the v2 cookie holds.
    only_a = oauth_proxy.OAuthProxy(oauth_proxy.Config(
        trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=keys["A"], cookie_format="v1,v2"))
    framed = next(c for c in V2_VECTORS["invalid"] if c["name"].startswith("version byte 0x01 put in front"))
    assert only_a.authorize(get_with(framed["cookie"]))["context"]["token"] \
        == f"Bearer {V2_VECTORS['valid'][0]['plaintext']}"
    v1_cookies = {case["cookie"] for case in V1_VECTORS["valid"] if case["key"] == "A"} | {framed["cookie"]}
    refused = [c for c in V2_VECTORS["invalid"] + V1_VECTORS["invalid"]
               if c["key"] == "A" and c["cookie"] not in v1_cookies]
    assert len(refused) == len(V2_VECTORS["invalid"]) - 2 + 2
    for case in refused:
        with pytest.raises(oauth_proxy.Unauthorized):
            only_a.authorize(get_with(case["cookie"]))


def test_v2_cookie_with_a_v1_looking_iv_opens_under_v1_v2_and_v2_only():
    case = next(c for c in V2_VECTORS["valid"] if raw(c["cookie"])[0] == 1)
    for setting in ("v2", "v1,v2"):
        proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(
            trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=V2_VECTORS["keys"]["A"],
            cookie_format=setting))
        assert proxy.authorize(get_with(case["cookie"]))["context"]["token"] == f"Bearer {case['plaintext']}"


@pytest.mark.parametrize("value", ["v3", "v1;v2", "v1,", ",", "both", "v1,v3"])
def test_bad_cookie_format_is_a_config_error(value):
    with pytest.raises(oauth_proxy.ConfigError, match="COOKIE_FORMAT"):
        oauth_proxy.Config.from_env({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                                     "ENCRYPTION_KEY": KEY, "COOKIE_FORMAT": value})


@pytest.mark.parametrize("value", ["headers", "double_submit", "none"])
def test_bad_csrf_mode_is_a_config_error(value):
    with pytest.raises(oauth_proxy.ConfigError, match="CSRF_MODE"):
        oauth_proxy.Config.from_env({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                                     "ENCRYPTION_KEY": KEY, "CSRF_MODE": value})


@pytest.mark.parametrize("value", [[], ["v1", 2], "", 3])
def test_bad_cookie_format_keyword_is_a_config_error(value):
    with pytest.raises(oauth_proxy.ConfigError, match="COOKIE_FORMAT"):
        oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY,
                           cookie_format=value)


def test_settings_from_the_environment():
    config = oauth_proxy.Config.from_env({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                                          "ENCRYPTION_KEY": KEY, "COOKIE_FORMAT": " v2, V1 ", "CSRF_MODE": "Header"})
    assert (config.cookie_format, config.csrf_mode) == ("v1,v2", "header")
    default = oauth_proxy.Config.from_env({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                                           "ENCRYPTION_KEY": KEY})
    assert (default.cookie_format, default.csrf_mode) == ("v1", "double-submit")


# ---- CSRF_MODE=header ---------------------------------------------------------------------------------

HEADER_PROXY_SETTINGS = {"cookie_format": "v2", "csrf_mode": "header"}
V2_COOKIE = oauth_proxy.encrypt_cookie(JWT, KEY, format="v2")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def header_event(method: str, value, *, api: str = "rest", **options) -> dict:
    """The SPA's request in header mode: the v2 -at cookie, no -csrf cookie, no x-<prefix>-csrf header."""
    build = SESSION.rest_event if api == "rest" else SESSION.http_event
    options.setdefault("at_cookie", V2_COOKIE)
    return build(method, "/orders", csrf_cookie=options.pop("csrf_cookie", None), csrf_header=None,
                 headers={HEADER: value, **options.pop("headers", {})}, **options)


def outcome(proxy, event) -> str:
    try:
        response = proxy.authorize(event)
    except oauth_proxy.Unauthorized:
        return "401"
    if "isAuthorized" in response:
        return "allow" if response["isAuthorized"] else "403"
    return "allow" if response["policyDocument"]["Statement"][0]["Effect"] == "Allow" else "403"


@pytest.mark.parametrize("api", ["rest", "http"])
@pytest.mark.parametrize("method", METHODS)
def test_header_mode_allows_every_method_with_the_header(method, api, denials):
    proxy = make_proxy(**HEADER_PROXY_SETTINGS)
    assert outcome(proxy, header_event(method, "1", api=api)) == "allow"
    assert denials.reasons == []


@pytest.mark.parametrize("api", ["rest", "http"])
@pytest.mark.parametrize("method", METHODS)
def test_header_mode_refuses_every_method_without_the_header(method, api, denials):
    proxy = make_proxy(**HEADER_PROXY_SETTINGS)
    assert outcome(proxy, header_event(method, None, api=api)) == "403"
    assert denials.reasons == ["csrf_header_missing"]


@pytest.mark.parametrize("value", ["2", "0", "01", "1.0", "true", "1 ", "", "1,1"])
def test_header_mode_refuses_another_value(value, denials):
    proxy = make_proxy(**HEADER_PROXY_SETTINGS)
    assert outcome(proxy, header_event("GET", value)) == "403"
    assert denials.reasons == ["csrf_mismatch"]


def test_header_mode_refuses_two_different_values(denials):
    event = header_event("POST", "1")
    event["multiValueHeaders"][HEADER] = ["1", "2"]
    event["headers"][HEADER] = "2"
    assert outcome(make_proxy(**HEADER_PROXY_SETTINGS), event) == "403"
    assert denials.reasons == ["csrf_mismatch"]


def test_header_name_is_case_insensitive():
    event = SESSION.rest_event("DELETE", "/orders/1", at_cookie=V2_COOKIE, csrf_cookie=None, csrf_header=None,
                               headers={"Token-Handler-Version": "1"})
    assert outcome(make_proxy(**HEADER_PROXY_SETTINGS), event) == "allow"


def test_header_mode_lets_options_through_to_the_cookie(denials):
    proxy = make_proxy(**HEADER_PROXY_SETTINGS)
    assert outcome(proxy, header_event("OPTIONS", None)) == "allow"
    assert outcome(proxy, header_event("OPTIONS", None, at_cookie=None)) == "401"
    assert denials.reasons == ["at_cookie_missing"]


def test_header_mode_keeps_the_origin_checks(denials):
    proxy = make_proxy(**HEADER_PROXY_SETTINGS)
    assert outcome(proxy, header_event("POST", "1", origin="https://attacker.example")) == "403"
    assert outcome(proxy, header_event("GET", "1", origin=None)) == "403"
    assert denials.reasons == ["untrusted_origin", "missing_origin"]
    reads = make_proxy(require_origin="writes", **HEADER_PROXY_SETTINGS)
    assert outcome(reads, header_event("GET", "1", origin=None)) == "allow"
    assert outcome(reads, header_event("GET", None, origin=None)) == "403"


def test_header_mode_does_not_read_the_csrf_cookie_or_the_double_submit_header(denials):
    proxy = make_proxy(**HEADER_PROXY_SETTINGS)
    # A leftover v1 -csrf cookie, a garbage one, or one past the size limit of our own cookies: not read.
    for csrf_cookie in ("garbage", oauth_proxy.encrypt_cookie("csrf", KEY), "A" * (17 * 1024)):
        assert outcome(proxy, header_event("POST", "1", csrf_cookie=csrf_cookie)) == "allow"
    # The double-submit header is no substitute for the custom one.
    event = header_event("POST", None, headers={f"x-{PREFIX}-csrf": "anything"})
    assert outcome(proxy, event) == "403"
    assert denials.reasons == ["csrf_header_missing"]


def test_double_submit_mode_ignores_the_custom_header(denials):
    proxy = make_proxy(cookie_format="v2")
    event = header_event("POST", "1")
    assert outcome(proxy, event) == "403"
    assert denials.reasons == ["csrf_cookie_missing"]


def test_header_mode_with_v1_cookies_and_allow_token():
    proxy = make_proxy(csrf_mode="header", allow_token=True)
    v1 = oauth_proxy.encrypt_cookie(JWT, KEY)
    assert outcome(proxy, header_event("PUT", "1", at_cookie=v1)) == "allow"
    assert outcome(proxy, header_event("PUT", "1")) == "401"  # a v2 cookie under COOKIE_FORMAT=v1
    # A bearer token skips the browser checks, the custom header among them.
    bearer = SESSION.rest_event("POST", "/orders", origin=None, at_cookie=None, csrf_cookie=None,
                                csrf_header=None, bearer=JWT)
    assert outcome(proxy, bearer) == "allow"
