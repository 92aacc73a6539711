"""The command line (oauth-proxy, python -m oauth_proxy): keygen, encrypt, decrypt, event, authorize and the demo."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from conftest import KEY, ORIGIN, PREFIX, cookies, make_jwt, rest_event

import oauth_proxy


def cli(*args, stdin: str = "", env_changes: dict = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_changes or {})
    return subprocess.run([sys.executable, "-m", "oauth_proxy", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60, cwd="/")


def test_keygen_prints_a_fresh_key():
    first, second = cli("keygen").stdout.strip(), cli("keygen").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", first) and first != second


def test_encrypt_and_decrypt_through_stdin_and_arguments():
    env = {"ENCRYPTION_KEY": KEY}
    cookie = cli("encrypt", stdin="my-token\n", env_changes=env).stdout.strip()
    assert oauth_proxy.decrypt_cookie(cookie, KEY) == "my-token"
    assert cli("decrypt", cookie, env_changes=env).stdout.strip() == "my-token"
    assert cli("decrypt", "-", stdin=cookie, env_changes=env).stdout.strip() == "my-token"


def test_decrypt_failure_and_missing_key_are_clear_and_quiet():
    done = cli("decrypt", "garbage", env_changes={"ENCRYPTION_KEY": KEY})
    assert done.returncode == 1 and "not a valid cookie" in done.stderr and "Traceback" not in done.stderr
    done = cli("decrypt", "garbage", env_changes={"ENCRYPTION_KEY": ""})
    assert done.returncode != 0 and "ENCRYPTION_KEY" in done.stderr and "Traceback" not in done.stderr
    done = cli("encrypt", "x", env_changes={"ENCRYPTION_KEY": KEY[:-1]})
    assert done.returncode == 2 and KEY[:-1] not in done.stderr + done.stdout


def test_custom_key_variable():
    cookie = cli("encrypt", "t", env_changes={"OTHER_KEY": KEY, "ENCRYPTION_KEY": ""}, ).stdout
    assert cookie == ""
    cookie = cli("encrypt", "t", "--key-env", "OTHER_KEY", env_changes={"OTHER_KEY": KEY}).stdout.strip()
    assert oauth_proxy.decrypt_cookie(cookie, KEY) == "t"


def authorize(tmp_path, event, *flags, env=None):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    base = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY}
    base.update(env or {})
    return cli("authorize", str(path), *flags, env_changes=base)


def test_authorize_prints_the_outcome_and_hides_the_token(tmp_path):
    token = make_jwt({"sub": "alice"})
    done = authorize(tmp_path, rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies(token)}))
    assert done.returncode == 0 and done.stdout.startswith("allow")
    assert token not in done.stdout and '"principalId": "alice"' in done.stdout
    shown = authorize(tmp_path, rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies(token)}), "--show-token")
    assert f"Bearer {token}" in shown.stdout


def test_authorize_reports_401_403_with_reason(tmp_path):
    assert authorize(tmp_path, rest_event("GET", {"Origin": ORIGIN})).stdout.startswith("401 at_cookie_missing")
    denied = authorize(tmp_path, rest_event("GET", {"Origin": "https://evil.example", "Cookie": cookies()}))
    assert denied.returncode == 1 and denied.stdout.startswith("403 untrusted_origin")


def test_authorize_with_bad_config_or_event_file(tmp_path):
    done = authorize(tmp_path, {}, env={"ENCRYPTION_KEY": "short"})
    assert done.returncode == 2 and "ENCRYPTION_KEY" in done.stderr and "Traceback" not in done.stderr
    missing = cli("authorize", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read the event" in missing.stderr


def test_demo_runs_and_shows_each_outcome():
    done = cli("demo")
    assert done.returncode == 0, done.stderr
    for expected in ("allow", "403", "401", "csrf_header_missing", "untrusted_origin", "at_cookie_missing",
                     "at_decrypt_failed"):
        assert expected in done.stdout


def test_event_then_authorize(tmp_path):
    """`event` writes what `authorize` reads: the command-line walk-through of docs/cli.md."""
    env = {"ENCRYPTION_KEY": KEY, "TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX}
    event_file = tmp_path / "event.json"
    cases = [
        ([], "allow"),
        (["--http-api"], "allow"),
        (["--drop", "csrf-header"], "403 csrf_header_missing"),
        (["--http-api", "--spoil", "csrf-header"], "403 csrf_mismatch"),
        (["--spoil", "origin"], "403 untrusted_origin"),
        (["--drop", "at-cookie"], "401 at_cookie_missing"),
        (["--spoil", "at-cookie"], "401 at_decrypt_failed"),
    ]
    for options, expected in cases:
        made = cli("event", "POST", "/orders/1", *options, env_changes=env)
        assert made.returncode == 0, made.stderr
        event_file.write_text(made.stdout)
        done = cli("authorize", str(event_file), env_changes=env)
        assert done.stdout.splitlines()[0] == expected, (options, done.stdout, done.stderr)
    made = cli("event", "GET", "/orders", "--token", "-", stdin="opaque-42\n", env_changes=env)
    event = json.loads(made.stdout)
    assert event["httpMethod"] == "GET" and "x-example-csrf" not in event["headers"]
    assert oauth_proxy.decrypt_cookie(event["headers"]["Cookie"].split(";")[0].split("=", 1)[1], KEY) == "opaque-42"
    missing = cli("event", env_changes={"ENCRYPTION_KEY": ""})
    assert missing.returncode != 0 and "ENCRYPTION_KEY" in missing.stderr and "Traceback" not in missing.stderr
    bad = cli("event", env_changes={"ENCRYPTION_KEY": "abc"})
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    inline = cli("event", "--token", "opaque-on-the-command-line", env_changes=env)
    assert inline.returncode == 2 and inline.stdout == "" and "opaque-on-the-command-line" not in inline.stderr
