"""The real Lambda entry point, handler.handler, in a fresh interpreter configured by environment variables."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import CSRF, KEY, ORIGIN, PREFIX, cookies, make_jwt, rest_event

JWT = make_jwt({"sub": "alice", "scope": "orders"})

RUNNER = r"""
import json, sys
import handler, oauth_proxy
results = []
for event in json.load(sys.stdin):
    try:
        results.append({"response": handler.handler(event, None)})
    except Exception as error:
        results.append({"error": type(error).__name__, "message": str(error)})
print(json.dumps(results))
"""


def run_handler(events: list, env_changes: dict) -> tuple:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTED_", "COOKIE_", "ENCRYPTION_"))}
    env.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY})
    env.update(env_changes)
    env = {k: v for k, v in env.items() if v is not None}
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(events), capture_output=True, text=True,
                          env=env, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_handler_allows_denies_and_raises_unauthorized():
    events = [
        rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(JWT), f"x-{PREFIX}-csrf": CSRF}),
        rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(JWT)}),
        rest_event("GET", {"Origin": ORIGIN}),
    ]
    results, stderr = run_handler(events, {})
    assert results[0]["response"]["context"] == {"token": f"Bearer {JWT}"}
    assert results[0]["response"]["principalId"] == "alice"
    assert results[1]["response"]["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert results[2] == {"error": "Unauthorized", "message": "Unauthorized"}
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert [line["reason"] for line in lines] == ["csrf_header_missing", "at_cookie_missing"]
    assert KEY not in stderr and JWT not in stderr and CSRF not in stderr


def test_handler_import_never_fails_and_reports_bad_config_per_invocation():
    results, stderr = run_handler([rest_event("GET", {"Origin": ORIGIN})] * 2, {"ENCRYPTION_KEY": KEY[:-1]})
    for result in results:
        assert result["error"] == "ConfigError"
        assert "ENCRYPTION_KEY" in result["message"] and KEY[:-1] not in result["message"]
    assert KEY[:-1] not in stderr


def test_handler_with_missing_configuration():
    results, _ = run_handler([{}], {"TRUSTED_WEB_ORIGINS": None})
    assert results[0]["error"] == "ConfigError" and "TRUSTED_WEB_ORIGINS" in results[0]["message"]


def test_handler_honours_allow_token_and_log_level():
    event = rest_event("GET", {"Authorization": f"Bearer {JWT}"})
    results, stderr = run_handler([event, rest_event("GET", {})], {"ALLOW_TOKEN": "true", "LOG_LEVEL": "ERROR"})
    assert results[0]["response"]["context"]["token"] == f"Bearer {JWT}"
    assert results[1]["response"]["principalId"] == "anonymous"
    assert "missing_origin" not in stderr  # a WARNING line, silenced by LOG_LEVEL=ERROR
