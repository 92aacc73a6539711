"""The Curity v1 cookie format, byte for byte: interop vectors and an independent AES-GCM implementation."""
from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import oauth_proxy
from conftest import KEY, OLD_KEY, b64url


def independent_encrypt(plaintext: bytes, key_hex: str, version: int = 1) -> str:
    iv = os.urandom(12)
    return b64url(bytes([version]) + iv + AESGCM(bytes.fromhex(key_hex)).encrypt(iv, plaintext, None))


def independent_decrypt(cookie: str, key_hex: str) -> bytes:
    raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
    assert raw[0] == 1
    return AESGCM(bytes.fromhex(key_hex)).decrypt(raw[1:13], raw[13:], None)


def test_every_valid_vector_decrypts(vectors):
    assert len(vectors["valid"]) >= 5
    for case in vectors["valid"]:
        key = vectors["keys"][case["key"]]
        assert oauth_proxy.decrypt_cookie(case["cookie"], key) == case["plaintext"], case["name"]


def test_every_invalid_vector_is_refused(vectors):
    for case in vectors["invalid"]:
        with pytest.raises(oauth_proxy.CookieDecryptionError):
            oauth_proxy.decrypt_cookie(case["cookie"], vectors["keys"][case["key"]])


@pytest.mark.parametrize("plaintext", ["x", "42665300-efe8-419d-be52-07b53e208f46", "é€😀", "a" * 5000])
def test_our_cookies_open_with_an_independent_implementation(plaintext):
    cookie = oauth_proxy.encrypt_cookie(plaintext, KEY)
    assert independent_decrypt(cookie, KEY) == plaintext.encode()
    assert "=" not in cookie and "+" not in cookie and "/" not in cookie


@pytest.mark.parametrize("plaintext", ["x", "token-with-dots.and_underscores", "ünïcödé", "b" * 4096])
def test_independent_cookies_open_with_ours(plaintext):
    assert oauth_proxy.decrypt_cookie(independent_encrypt(plaintext.encode(), KEY), KEY) == plaintext


def test_each_encryption_uses_a_fresh_iv():
    first, second = (oauth_proxy.encrypt_cookie("same", KEY) for _ in range(2))
    assert first != second
    assert base64.urlsafe_b64decode(first + "==")[1:13] != base64.urlsafe_b64decode(second + "==")[1:13]


def test_layout_is_version_iv_ciphertext_tag():
    raw = base64.urlsafe_b64decode(oauth_proxy.encrypt_cookie("abc", KEY) + "=")
    assert raw[0] == 1 and len(raw) == 1 + 12 + 3 + 16


def good_cookie() -> str:
    return oauth_proxy.encrypt_cookie("opaque-token", KEY)


@pytest.mark.parametrize(
    "name, make",
    [
        ("empty", lambda: ""),
        ("padding", lambda: good_cookie() + "="),
        ("standard alphabet", lambda: good_cookie().replace("-", "+").replace("_", "/") + "+/"),
        ("blank inside", lambda: good_cookie()[:10] + " " + good_cookie()[10:]),
        ("NUL inside", lambda: good_cookie()[:10] + "\x00" + good_cookie()[11:]),
        ("non-ASCII", lambda: good_cookie()[:-1] + "é"),
        ("lone surrogate", lambda: good_cookie()[:-1] + "\ud800"),
        ("impossible length", lambda: good_cookie() + "A"),
        ("version 2", lambda: independent_encrypt(b"token", KEY, version=2)),
        ("version 0", lambda: independent_encrypt(b"token", KEY, version=0)),
        ("no plaintext byte", lambda: b64url(b"\x01" + bytes(12) + bytes(16))),
        ("truncated tag", lambda: good_cookie()[:-3]),
        ("other key", lambda: oauth_proxy.encrypt_cookie("opaque-token", OLD_KEY)),
        ("non-UTF-8 plaintext", lambda: independent_encrypt(b"\xff\xfe token", KEY)),
        ("overlong UTF-8 plaintext", lambda: independent_encrypt(b"\xc0\xaf", KEY)),
        ("UTF-8 surrogate plaintext", lambda: independent_encrypt(b"\xed\xa0\x80", KEY)),
    ],
)
def test_malformed_cookies_fail_to_decrypt(name, make):
    with pytest.raises(oauth_proxy.CookieDecryptionError) as caught:
        oauth_proxy.decrypt_cookie(make(), KEY)
    assert isinstance(caught.value, ValueError)
    assert KEY not in str(caught.value)


def test_every_single_character_change_is_refused():
    cookie = good_cookie()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for position in range(len(cookie)):
        for replacement in (alphabet[(alphabet.index(cookie[position]) + 1) % 64], alphabet[(alphabet.index(cookie[position]) + 33) % 64]):
            tampered = cookie[:position] + replacement + cookie[position + 1:]
            with pytest.raises(oauth_proxy.CookieDecryptionError):
                oauth_proxy.decrypt_cookie(tampered, KEY)


def test_non_canonical_trailing_bits_are_refused():
    cookie = good_cookie()  # 1+12+12+16 = 41 bytes: the last character carries 4 unused bits
    assert len(cookie) % 4 == 3
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sloppy = cookie[:-1] + alphabet[alphabet.index(cookie[-1]) | 1]
    assert sloppy != cookie
    with pytest.raises(oauth_proxy.CookieDecryptionError):
        oauth_proxy.decrypt_cookie(sloppy, KEY)


def test_empty_plaintext_is_a_value_error():
    with pytest.raises(ValueError):
        oauth_proxy.encrypt_cookie("", KEY)


@pytest.mark.parametrize("bad_key", ["", "00" * 31, "zz" * 32, KEY + "00", KEY[:-1] + "g"])
def test_bad_keys_are_value_errors_that_do_not_echo_the_key(bad_key):
    for call in (lambda: oauth_proxy.encrypt_cookie("x", bad_key), lambda: oauth_proxy.decrypt_cookie(good_cookie(), bad_key)):
        with pytest.raises(ValueError) as caught:
            call()
        assert not isinstance(caught.value, oauth_proxy.CookieDecryptionError)
        if bad_key:
            assert bad_key not in str(caught.value)


def test_uppercase_hex_keys_are_the_same_key():
    assert oauth_proxy.decrypt_cookie(good_cookie(), KEY.upper()) == "opaque-token"


def test_wrong_argument_types_are_type_errors():
    with pytest.raises(TypeError):
        oauth_proxy.decrypt_cookie(b"bytes", KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        oauth_proxy.encrypt_cookie("x", None)  # type: ignore[arg-type]
