"""The tools around the two cookie generations and CSRF modes: the command line, SpaSession and the pytest
plugin's fixtures."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

import oauth_proxy
from conftest import KEY, ORIGIN, PREFIX
from oauth_proxy.testing import SPOIL, SpaSession, decide

HEADER = "token-handler-version"


def cli(*args, stdin: str = "", env_changes: dict = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COOKIE_FORMAT", "CSRF_MODE")}
    env.update(env_changes or {})
    return subprocess.run([sys.executable, "-m", "oauth_proxy", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60, cwd="/")


def first_byte(cookie: str) -> int:
    return base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))[0]


# ---- command line -------------------------------------------------------------------------------------

def test_cli_encrypt_and_decrypt_with_format():
    env = {"ENCRYPTION_KEY": KEY}
    cookie = cli("encrypt", "--format", "v2", stdin="my-token\n", env_changes=env).stdout.strip()
    assert oauth_proxy.decrypt_cookie(cookie, KEY, format="v2") == "my-token"
    assert cli("decrypt", "--format", "v2", cookie, env_changes=env).stdout.strip() == "my-token"
    refused = cli("decrypt", cookie, env_changes=env)  # v1, the default
    assert refused.returncode == 1 and "not a valid cookie" in refused.stderr and "my-token" not in refused.stderr


def test_cli_follows_cookie_format_from_the_environment():
    v2_env = {"ENCRYPTION_KEY": KEY, "COOKIE_FORMAT": "v2"}
    cookie = cli("encrypt", "tok", env_changes=v2_env).stdout.strip()
    assert oauth_proxy.decrypt_cookie(cookie, KEY, format="v2") == "tok"
    assert cli("decrypt", cookie, env_changes=v2_env).stdout.strip() == "tok"
    both = {"ENCRYPTION_KEY": KEY, "COOKIE_FORMAT": "v1,v2"}
    assert cli("decrypt", cookie, env_changes=both).stdout.strip() == "tok"
    assert cli("decrypt", oauth_proxy.encrypt_cookie("old", KEY), env_changes=both).stdout.strip() == "old"
    # During a migration new cookies are v2, what the migrated agent issues.
    made = cli("encrypt", "new", env_changes=both).stdout.strip()
    assert oauth_proxy.decrypt_cookie(made, KEY, format="v2") == "new"
    # --format wins over the environment.
    forced = cli("encrypt", "--format", "v1", "x", env_changes=v2_env).stdout.strip()
    assert first_byte(forced) == 1 and oauth_proxy.decrypt_cookie(forced, KEY) == "x"


def test_cli_refuses_a_bad_cookie_format_clearly():
    done = cli("decrypt", "abc", env_changes={"ENCRYPTION_KEY": KEY, "COOKIE_FORMAT": "v3"})
    assert done.returncode != 0 and "COOKIE_FORMAT" in done.stderr and "Traceback" not in done.stderr
    done = cli("encrypt", "--format", "v3", "x", env_changes={"ENCRYPTION_KEY": KEY})
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_cli_event_then_authorize_in_header_mode(tmp_path):
    env = {"ENCRYPTION_KEY": KEY, "TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
           "COOKIE_FORMAT": "v2", "CSRF_MODE": "header"}
    event_file = tmp_path / "event.json"
    cases = [
        ("GET", [], "allow"),
        ("POST", ["--http-api"], "allow"),
        ("GET", ["--drop", "csrf-header"], "403 csrf_header_missing"),
        ("DELETE", ["--http-api", "--spoil", "csrf-header"], "403 csrf_mismatch"),
        ("PUT", ["--spoil", "origin"], "403 untrusted_origin"),
        ("PATCH", ["--format", "v1"], "401 at_decrypt_failed"),  # a v1 cookie to a v2-only authorizer
        ("POST", ["--csrf-mode", "double-submit"], "403 csrf_header_missing"),  # sends x-example-csrf instead
    ]
    for method, options, expected in cases:
        made = cli("event", method, "/orders/1", *options, env_changes=env)
        assert made.returncode == 0, made.stderr
        event_file.write_text(made.stdout)
        done = cli("authorize", str(event_file), env_changes=env)
        assert done.stdout.splitlines()[0] == expected, (method, options, done.stdout, done.stderr)
    event = json.loads(cli("event", "POST", env_changes=env).stdout)
    assert event["headers"][HEADER] == "1" and f"x-{PREFIX}-csrf" not in event["headers"]
    assert f"{PREFIX}-csrf=" not in event["headers"]["Cookie"]


# ---- SpaSession ---------------------------------------------------------------------------------------

def test_spa_session_defaults_are_the_first_generation():
    session = SpaSession(KEY, PREFIX, ORIGIN)
    assert first_byte(session.at_cookie) == 1
    event = session.rest_event("POST", "/orders")
    assert event["headers"][f"x-{PREFIX}-csrf"] == session.csrf and HEADER not in event["headers"]


def test_spa_session_second_generation():
    session = SpaSession(KEY, PREFIX, ORIGIN, token="opaque-1", cookie_format="v2", csrf_mode="header")
    assert oauth_proxy.decrypt_cookie(session.at_cookie, KEY, format="v2") == "opaque-1"
    assert session.csrf_cookie is None and session.csrf_header_name == HEADER
    assert session.cookies() == [f"{PREFIX}-at={session.at_cookie}"]
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        rest = session.rest_event(method, "/orders")
        assert rest["headers"][HEADER] == "1" and rest["multiValueHeaders"][HEADER] == ["1"]
        assert f"x-{PREFIX}-csrf" not in rest["headers"]
        assert session.http_event(method, "/orders")["headers"][HEADER] == "1"
    assert HEADER not in session.rest_event("OPTIONS", "/orders")["headers"]  # the pre-flight
    assert session.rest_event("GET", "/orders", csrf_header=SPOIL)["headers"][HEADER] == "2"
    assert HEADER not in session.rest_event("GET", "/orders", csrf_header=None)["headers"]
    planted = session.rest_event("GET", "/orders", csrf_cookie=SPOIL)["headers"]["Cookie"]
    assert f"{PREFIX}-csrf=" in planted


def test_spa_session_events_decide_as_the_reference_says():
    proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                      encryption_key=KEY, cookie_format="v2", csrf_mode="header"))
    session = SpaSession(KEY, PREFIX, ORIGIN, cookie_format="v2", csrf_mode="header")
    assert decide(proxy.authorize, session.http_event("POST", "/orders")).status == 200
    missing = decide(proxy.authorize, session.rest_event("GET", "/orders", csrf_header=None))
    assert (missing.status, missing.reason) == (403, "csrf_header_missing")
    wrong = decide(proxy.authorize, session.rest_event("DELETE", "/orders/1", csrf_header=SPOIL))
    assert (wrong.status, wrong.reason) == (403, "csrf_mismatch")


@pytest.mark.parametrize("options", [{"cookie_format": "v3"}, {"csrf_mode": "headers"}])
def test_spa_session_refuses_unknown_settings(options):
    with pytest.raises(ValueError):
        SpaSession(KEY, PREFIX, ORIGIN, **options)


# ---- the pytest plugin's fixtures ----------------------------------------------------------------------

class TestPluginFollowsOverriddenFixtures:
    @pytest.fixture
    def oauth_proxy_cookie_format(self):
        return "v2"

    @pytest.fixture
    def oauth_proxy_csrf_mode(self):
        return "header"

    def test_session_config_and_factory_follow(self, spa_session, oauth_proxy_config, oauth_proxy_factory,
                                               oauth_proxy_key):
        assert (spa_session.cookie_format, spa_session.csrf_mode) == ("v2", "header")
        assert (oauth_proxy_config.cookie_format, oauth_proxy_config.csrf_mode) == ("v2", "header")
        assert oauth_proxy.decrypt_cookie(spa_session.at_cookie, oauth_proxy_key, format="v2") == spa_session.token
        proxy = oauth_proxy_factory()
        assert decide(proxy.authorize, spa_session.rest_event("PUT", "/orders/1")).status == 200
        assert decide(proxy.authorize, spa_session.rest_event("PUT", "/orders/1", csrf_header=None)).reason \
            == "csrf_header_missing"


def test_plugin_defaults_are_the_first_generation(spa_session, oauth_proxy_config):
    assert (spa_session.cookie_format, spa_session.csrf_mode) == ("v1", "double-submit")
    assert (oauth_proxy_config.cookie_format, oauth_proxy_config.csrf_mode) == ("v1", "double-submit")
