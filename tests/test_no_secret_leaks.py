"""No secret ever leaves through a log line, stdout, stderr, an exception's text, repr or traceback, or a
repr of the configuration: every denial reason, every error path (bad configuration of each kind,
CookieDecryptionError, bad keys, the CLI's commands, the Lambda handler) runs with distinctive key, client
secret, cookie, CSRF and token values, everything is captured (logging at DEBUG, file descriptors 1 and 2),
and none of the values may appear. Keys are also searched in upper case and as base64 of their bytes."""
from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import traceback
from typing import Iterable, List

import pytest

import oauth_proxy
from oauth_proxy import cli
from conftest import ORIGIN, PREFIX, function_folder, http_event, make_jwt, rest_event

KEY = ("deadbeefcafe" * 6)[:64]
OLD_KEY = ("feedfacec0de" * 6)[:64]
CLIENT_SECRET = "Cl1ent-S3cret-Never-Print-7f3a9"
OPAQUE = "opaque-Token-Never-Print-4c2b8e"
JWT = make_jwt({"sub": "alice", "scope": "read", "jti": "jwt-Token-Never-Print-91d0"})
CSRF = "csrf-Value-Never-Print-a81f3c"
AT_COOKIE = oauth_proxy.encrypt_cookie(OPAQUE, KEY)
JWT_COOKIE = oauth_proxy.encrypt_cookie(JWT, KEY)
CSRF_COOKIE = oauth_proxy.encrypt_cookie(CSRF, KEY)
OLD_COOKIE = oauth_proxy.encrypt_cookie(OPAQUE, OLD_KEY)


def forms_of_key(key: str) -> List[str]:
    raw = bytes.fromhex(key)
    return [key, key.upper(), key[:32], key[32:], base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("=")]


SECRETS = {
    **{f"key form {i}": form for i, form in enumerate(forms_of_key(KEY))},
    **{f"previous key form {i}": form for i, form in enumerate(forms_of_key(OLD_KEY))},
    "client secret": CLIENT_SECRET,
    "opaque token": OPAQUE,
    "jwt": JWT,
    "jwt payload": JWT.split(".")[1],
    "csrf": CSRF,
    "at cookie": AT_COOKIE,
    "jwt cookie": JWT_COOKIE,
    "csrf cookie": CSRF_COOKIE,
    "old cookie": OLD_COOKIE,
    "at cookie head": AT_COOKIE[:24],
}


def assert_no_secret(texts: Iterable[str], where: str) -> None:
    for text in texts:
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} appears in {where}: {text[:200]!r}"


def exception_texts(error: BaseException) -> List[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(arg) for arg in error.args]
    return texts


@pytest.fixture
def everything(caplog, capfd):
    """Collects what a run printed or logged; the test adds exception texts."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="oauth_proxy")  # restored after the test, like the root level
    collected: List[str] = []

    def check(where: str) -> None:
        out, err = capfd.readouterr()
        texts = collected + [out, err, caplog.text]
        for record in caplog.records:
            texts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
        assert_no_secret(texts, where)
        collected.clear()
        caplog.clear()

    check.collected = collected
    return check


def config(**overrides) -> oauth_proxy.Config:
    values = dict(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY,
                  previous_encryption_keys=[OLD_KEY], log_level="DEBUG")
    values.update(overrides)
    return oauth_proxy.Config(**values)


def jar(*pairs: str) -> str:
    return "; ".join(pairs)


AT = f"{PREFIX}-at={AT_COOKIE}"
JWT_AT = f"{PREFIX}-at={JWT_COOKIE}"
CSRF_PAIR = f"{PREFIX}-csrf={CSRF_COOKIE}"
OLD_AT = f"{PREFIX}-at={OLD_COOKIE}"
TAMPERED_AT = f"{PREFIX}-at={AT_COOKIE[:-3]}xyz"
TAMPERED_CSRF = f"{PREFIX}-csrf={CSRF_COOKIE[:-3]}xyz"
CSRF_HEADER = f"x-{PREFIX}-csrf"

# JWKS_URL set, and tokens refused before any key is needed (not a JWS, or an alg outside JWT_ALGORITHMS): the
# key set is never fetched.
UNFETCHED = {"allow_token": True, "jwks_url": "http://127.0.0.1:9/jwks", "jwt_algorithms": ["EdDSA"]}

# (reason, config overrides, event): every denial reason the cookie path has, each carrying secrets.
DENIALS = [
    ("missing_origin", {}, rest_event(headers={"Cookie": jar(AT, CSRF_PAIR)})),
    ("untrusted_origin", {}, rest_event(headers={"Origin": "https://evil.example", "Cookie": jar(AT, CSRF_PAIR)})),
    ("csrf_cookie_missing", {}, rest_event("POST", {"Origin": ORIGIN, "Cookie": AT, CSRF_HEADER: CSRF})),
    ("csrf_header_missing", {}, rest_event("POST", {"Origin": ORIGIN, "Cookie": jar(AT, CSRF_PAIR)})),
    ("csrf_mismatch", {}, rest_event("POST", {"Origin": ORIGIN, "Cookie": jar(AT, CSRF_PAIR), CSRF_HEADER: CSRF[:-1]})),
    ("csrf_decrypt_failed", {}, rest_event("PATCH", {"Origin": ORIGIN, "Cookie": jar(AT, TAMPERED_CSRF),
                                                     CSRF_HEADER: CSRF})),
    ("at_cookie_missing", {}, rest_event(headers={"Origin": ORIGIN, "Cookie": CSRF_PAIR})),
    ("at_decrypt_failed", {}, rest_event(headers={"Origin": ORIGIN, "Cookie": jar(TAMPERED_AT, CSRF_PAIR)})),
    ("at_decrypt_failed", {"previous_encryption_keys": []}, rest_event(headers={"Origin": ORIGIN, "Cookie": OLD_AT})),
    ("insufficient_scope", {"required_scopes": ["admin"]}, rest_event(headers={"Origin": ORIGIN, "Cookie": JWT_AT})),
    # A bearer token that is no verifiable JWS is refused before any key is needed (the URL is never fetched).
    ("invalid_token", {"required_scopes": ["admin"], **UNFETCHED}, rest_event(headers={"Authorization": f"Bearer {JWT}"})),
    ("invalid_token", {"required_scopes": ["read"], **UNFETCHED},
     http_event("GET", headers={"authorization": f"Bearer {OPAQUE}"})),
    ("bad_event", {}, rest_event(headers={"Origin": ORIGIN, "Cookie": jar(AT, CSRF_PAIR)}, arn=None)),
    ("bad_event", {}, rest_event(headers={"Origin": ORIGIN, "Cookie": jar(AT, f"{PREFIX}-csrf=" + "A" * 17000)})),
    ("bad_event", {}, http_event(headers={"origin": ORIGIN, CSRF_HEADER: CSRF}, cookie_list=[AT, CSRF_PAIR, 5])),
]


@pytest.mark.parametrize("reason, overrides, event", DENIALS, ids=[f"{d[0]}-{i}" for i, d in enumerate(DENIALS)])
def test_denials_leak_nothing(reason, overrides, event, everything):
    proxy = oauth_proxy.OAuthProxy(config(**overrides))
    try:
        response = proxy.authorize(event)
    except oauth_proxy.Unauthorized as error:
        everything.collected.extend(exception_texts(error))
    else:
        everything.collected.append(json.dumps(response))
        everything.collected.append(repr(response))
    everything.collected += [repr(proxy), str(proxy.config), repr(proxy.config)]
    everything(f"denial {reason}")


def test_every_denial_reason_of_the_cookie_path_is_covered():
    assert {d[0] for d in DENIALS} == {
        "missing_origin", "untrusted_origin", "csrf_cookie_missing", "csrf_header_missing", "csrf_mismatch",
        "csrf_decrypt_failed", "at_cookie_missing", "at_decrypt_failed", "insufficient_scope", "bad_event",
        "invalid_token"}


def test_denials_log_their_reason_and_nothing_else(caplog):
    caplog.set_level(logging.DEBUG, logger="oauth_proxy")
    for reason, overrides, event in DENIALS:
        caplog.clear()
        proxy = oauth_proxy.OAuthProxy(config(**overrides))
        try:
            proxy.authorize(event)
        except oauth_proxy.Unauthorized:
            pass
        lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "oauth_proxy"]
        assert [line["reason"] for line in lines] == [reason]
        # invalid_token says which check refused the token: a fixed phrase, never token text.
        detail = {"detail"} if reason == "invalid_token" else set()
        assert set(lines[0]) <= {"event", "reason", "status", "method", "path", "apiRequestId", "awsRequestId"} | detail


BAD_CONFIGS = [
    dict(encryption_key=KEY + "0"),
    dict(encryption_key=KEY[:-1]),
    dict(encryption_key=KEY[:-1] + "g"),
    dict(encryption_key=KEY + " " + OLD_KEY),
    dict(encryption_key=[KEY]),
    dict(previous_encryption_keys=[OLD_KEY[:-1] + "z"]),
    dict(previous_encryption_keys=[OLD_KEY, KEY + "00"]),
    dict(previous_encryption_keys=OLD_KEY),
    dict(previous_encryption_keys=[OLD_KEY, 7]),
    dict(use_phantom_token=True, client_secret=CLIENT_SECRET),
    dict(use_phantom_token=True, introspection_url="https://login.example/introspect", client_id="c",
         client_secret=""),
    dict(client_secret=b"Cl1ent-S3cret-Never-Print-7f3a9"),
    dict(client_secret=[CLIENT_SECRET]),
    dict(introspection_url=f"ftp://{CLIENT_SECRET}", client_secret=CLIENT_SECRET),
]


@pytest.mark.parametrize("overrides", BAD_CONFIGS, ids=[str(i) for i in range(len(BAD_CONFIGS))])
def test_config_errors_leak_nothing(overrides, everything):
    with pytest.raises((oauth_proxy.ConfigError, TypeError, ValueError)) as caught:
        oauth_proxy.OAuthProxy(config(**overrides))
    everything.collected.extend(exception_texts(caught.value))
    everything(f"config error {sorted(overrides)}")


ENV_BASE = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY,
            "PREVIOUS_ENCRYPTION_KEYS": OLD_KEY, "CLIENT_SECRET": CLIENT_SECRET}
BAD_ENVS = [
    {"ENCRYPTION_KEY": KEY + "ab"},
    {"ENCRYPTION_KEY": f"{KEY},{OLD_KEY}"},
    {"PREVIOUS_ENCRYPTION_KEYS": f"{OLD_KEY},{KEY[:-2]}"},
    {"PREVIOUS_ENCRYPTION_KEYS": f"{OLD_KEY} {KEY}"},
    {"USE_PHANTOM_TOKEN": "true"},
    {"USE_PHANTOM_TOKEN": "true", "INTROSPECTION_URL": "not a url", "CLIENT_ID": "client"},
    {"ALLOW_TOKEN": "yes"},
    {"INTROSPECTION_TIMEOUT_MS": "-1"},
    {"TRUSTED_WEB_ORIGINS": "*"},
    {"ENCRYPTION_KEY": ""},
]


@pytest.mark.parametrize("changes", BAD_ENVS, ids=[str(i) for i in range(len(BAD_ENVS))])
def test_config_from_env_errors_leak_nothing(changes, everything):
    env = {**ENV_BASE, **changes}
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.Config.from_env(env)
    everything.collected.extend(exception_texts(caught.value))
    everything(f"environment {sorted(changes)}")


def test_config_and_proxy_reprs_hide_secrets(everything):
    cfg = oauth_proxy.Config(
        trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY, previous_encryption_keys=[OLD_KEY],
        use_phantom_token=False, introspection_url="https://login.example/oauth/introspect", client_id="gateway",
        client_secret=CLIENT_SECRET)
    proxy = oauth_proxy.OAuthProxy(cfg)
    everything.collected += [repr(cfg), str(cfg), f"{cfg}", f"{cfg!r}", repr(proxy), str(proxy),
                             repr([cfg]), repr({"config": cfg})]
    logging.getLogger("oauth_proxy").debug("config %s / %r", cfg, cfg)
    everything("reprs")


def test_cookie_errors_leak_nothing(everything):
    cases = [
        lambda: oauth_proxy.decrypt_cookie(AT_COOKIE[:-3] + "xyz", KEY),
        lambda: oauth_proxy.decrypt_cookie(OLD_COOKIE, KEY),
        lambda: oauth_proxy.decrypt_cookie(AT_COOKIE + "=", KEY),
        lambda: oauth_proxy.decrypt_cookie(AT_COOKIE, KEY[:-1]),
        lambda: oauth_proxy.decrypt_cookie(AT_COOKIE, KEY + "0"),
        lambda: oauth_proxy.decrypt_cookie(AT_COOKIE, KEY[:-1] + "\ud800"),
        lambda: oauth_proxy.encrypt_cookie(OPAQUE, KEY[:-1] + "x"),
        lambda: oauth_proxy.encrypt_cookie(OPAQUE + "\ud800", KEY),
        lambda: oauth_proxy.decrypt_cookie(AT_COOKIE.encode(), KEY),
        lambda: oauth_proxy.encrypt_cookie(OPAQUE, KEY.encode()),
    ]
    for case in cases:
        with pytest.raises((ValueError, TypeError)) as caught:
            case()
        everything.collected.extend(exception_texts(caught.value))
    everything("cookie functions")


def test_a_plaintext_that_is_not_utf8_is_a_value_error_that_does_not_carry_it():
    # Regression: PyUnicode_AsUTF8AndSize's UnicodeEncodeError held the whole plaintext (a token).
    with pytest.raises(ValueError) as caught:
        oauth_proxy.encrypt_cookie(OPAQUE + "\ud800", KEY)
    assert not isinstance(caught.value, UnicodeError)
    assert_no_secret(exception_texts(caught.value), "encrypt_cookie error")


def run_cli(args, monkeypatch, env, stdin: str = "") -> int:
    for name in ("ENCRYPTION_KEY", "OTHER_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(stdin))
    try:
        return cli.main(args)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2


def test_cli_errors_leak_nothing(monkeypatch, everything, tmp_path):
    wrong = {"ENCRYPTION_KEY": OLD_KEY}
    assert run_cli(["decrypt", AT_COOKIE], monkeypatch, wrong) == 1
    assert run_cli(["decrypt", "-"], monkeypatch, wrong, stdin=AT_COOKIE) == 1
    assert run_cli(["decrypt", AT_COOKIE], monkeypatch, {"ENCRYPTION_KEY": KEY[:-1]}) == 2
    assert run_cli(["encrypt", OPAQUE], monkeypatch, {"ENCRYPTION_KEY": KEY + "0"}) == 2
    assert run_cli(["encrypt", OPAQUE], monkeypatch, {"OTHER_KEY": KEY}) != 0
    everything("cli decrypt and encrypt failures")

    for reason, overrides, event in DENIALS:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(event))
        env = {**ENV_BASE, "LOG_LEVEL": "DEBUG"}
        if overrides.get("required_scopes"):
            env["REQUIRED_SCOPES"] = " ".join(overrides["required_scopes"])
        if overrides.get("allow_token"):
            env["ALLOW_TOKEN"] = "true"
        if overrides.get("jwks_url"):
            env["JWKS_URL"] = overrides["jwks_url"]
            env["JWT_ALGORITHMS"] = ",".join(overrides["jwt_algorithms"])
        if "previous_encryption_keys" in overrides:
            env["PREVIOUS_ENCRYPTION_KEYS"] = ""
        for name in ("REQUIRED_SCOPES", "ALLOW_TOKEN", "JWKS_URL", "JWT_ALGORITHMS"):
            monkeypatch.delenv(name, raising=False)
        assert run_cli(["authorize", str(path)], monkeypatch, env) == 1
        everything(f"cli authorize {reason}")

    path = tmp_path / "allow.json"
    path.write_text(json.dumps(rest_event(headers={"Origin": ORIGIN, "Cookie": jar(JWT_AT)})))
    assert run_cli(["authorize", str(path)], monkeypatch, ENV_BASE) == 0
    everything("cli authorize allow (token redacted)")
    assert run_cli(["authorize", str(path)], monkeypatch, {**ENV_BASE, "ENCRYPTION_KEY": KEY[:-1] + "q"}) == 2
    everything("cli authorize with a bad key")


HANDLER_RUNNER = r"""
import json, sys
import handler
for event in json.load(sys.stdin):
    try:
        print(json.dumps(handler.handler(event, None)))
    except Exception as error:
        print(type(error).__name__, error, repr(error))
raise RuntimeError("a crash at the end shows the traceback: " + repr(getattr(handler.handler, "setup_error", None)))
"""


@pytest.mark.parametrize("changes", [{"ENCRYPTION_KEY": KEY[:-1] + "x"}, {}, {"LOG_LEVEL": "DEBUG"}])
def test_lambda_handler_leaks_nothing(changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTED_", "COOKIE_", "ENCRYPTION_"))}
    env.update(ENV_BASE)
    env.update(changes)
    env["PYTHONPATH"] = function_folder()
    events = [event for _, overrides, event in DENIALS if not overrides]
    done = subprocess.run([sys.executable, "-c", HANDLER_RUNNER], input=json.dumps(events), capture_output=True,
                          text=True, env=env, timeout=120, cwd="/")
    assert "RuntimeError" in done.stderr  # the runner got to the end
    assert_no_secret([done.stdout, done.stderr], f"handler output with {sorted(changes)}")




def test_introspection_failures_leak_nothing(everything):
    import fault_server as fs

    # Endpoints that fail in different ways, some echoing what they were sent (the token, the credentials)
    echo = f'{{"error":"invalid_client","token":"{OPAQUE}","secret":"{CLIENT_SECRET}"}}'.encode()
    behaviours = [fs.answer(503, b"busy", "text/plain"), fs.answer(400, echo, "application/json"),
                  fs.answer(200, echo, "application/json"), fs.garbage, fs.reset,
                  fs.answer(200, b'{"active":true,"token":"' + OPAQUE.encode() + b'"}', "application/json")]
    servers = [fs.FaultServer(behaviour) for behaviour in behaviours]
    urls = [server.url for server in servers] + [fs.closed_port_url()]
    try:
        for url in urls:
            proxy = oauth_proxy.OAuthProxy(config(allow_token=True, use_phantom_token=True, introspection_url=url,
                                                  client_id="gateway", client_secret=CLIENT_SECRET,
                                                  introspection_timeout_ms=2000))
            everything.collected += [repr(proxy.config), str(proxy.config)]
            for event in (rest_event(headers={"Authorization": f"Bearer {OPAQUE}"}),
                          rest_event(headers={"Origin": ORIGIN, "Cookie": AT})):
                with pytest.raises(oauth_proxy.IntrospectionError) as caught:
                    proxy.authorize(event)
                everything.collected.extend(exception_texts(caught.value))
            everything(f"introspection failure at {url}")
    finally:
        for server in servers:
            server.close()


@pytest.mark.parametrize("overrides", [
    {"introspection_url": f"https://gateway:{CLIENT_SECRET}@login.example/introspect"},
    {"introspection_url": "https://login.example/introspect", "introspection_ca_file": "/nonexistent/ca.pem"},
    {"introspection_url": "https://login.example/introspect", "introspection_timeout_ms": 0},
])
def test_phantom_configuration_errors_leak_nothing(overrides, everything):
    settings = dict(allow_token=True, use_phantom_token=True, client_id="gateway", client_secret=CLIENT_SECRET)
    settings.update(overrides)
    with pytest.raises((oauth_proxy.ConfigError, ValueError)) as caught:
        oauth_proxy.OAuthProxy(config(**settings))
    everything.collected.extend(exception_texts(caught.value))
    everything(f"phantom configuration {sorted(overrides)}")


@pytest.mark.parametrize("url", [f"https://gateway:{CLIENT_SECRET}@login.example/introspect",
                                 f"http://{CLIENT_SECRET}@127.0.0.1:8443/introspect"])
def test_introspection_url_with_credentials_is_refused_without_echoing_them(url, everything):
    # Regression: the URL was accepted, and repr(Config) showed the password in it.
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        config(introspection_url=url, client_id="gateway", client_secret="x")
    assert "CLIENT_SECRET" in str(caught.value)
    everything.collected.extend(exception_texts(caught.value))
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.Config.from_env({**ENV_BASE, "INTROSPECTION_URL": url})
    everything.collected.extend(exception_texts(caught.value))
    everything("introspection URL with credentials")


@pytest.mark.parametrize("setting", ["client_secret", "client_id", "introspection_url"])
def test_settings_that_are_not_utf8_are_refused_by_name_without_the_value(setting, everything):
    # Regression: a client secret read from an environment variable with an undecodable byte (os.environ
    # turns it into a lone surrogate) reached the C layer, whose UnicodeEncodeError held the whole secret
    # as the ConfigError's __context__, and the message did not say which setting was wrong.
    values = dict(use_phantom_token=True, introspection_url="https://login.example/introspect",
                  client_id="gateway", client_secret=CLIENT_SECRET)
    values[setting] = values[setting] + "\udcff"
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.OAuthProxy(config(**values))
    assert setting.upper() in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    everything.collected.extend(exception_texts(caught.value))
    everything(f"{setting} with a lone surrogate")


@pytest.mark.parametrize("overrides", [dict(trusted_web_origins=["https://a\udcff.example"]),
                                       dict(required_scopes=["read\udcff"]), dict(required_scopes="read\udcff x"),
                                       dict(previous_encryption_keys=[OLD_KEY[:-1] + "\udcff"])])
def test_lists_that_are_not_utf8_are_config_errors(overrides):
    # Regression: these reached the C constructor and came back as a bare ValueError, not a ConfigError.
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.OAuthProxy(config(**overrides))
    assert_no_secret(exception_texts(caught.value), "list setting error")
