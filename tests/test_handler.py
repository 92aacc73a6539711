"""The real Lambda entry point, handler.handler, in a fresh interpreter configured by environment variables."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import CSRF, KEY, ORIGIN, PREFIX, cookies, function_folder, http_event, make_jwt, rest_event

JWT = make_jwt({"sub": "alice", "scope": "orders"})

RUNNER = r"""
import json, sys
import handler, oauth_proxy

class Context:  # the attributes of the Lambda context that oauth_proxy reads
    def __init__(self, request_id):
        self.aws_request_id = request_id

results = []
for n, event in enumerate(json.load(sys.stdin)):
    context = Context(f"lambda-{n}") if "--contexts" in sys.argv else None
    try:
        results.append({"response": handler.handler(event, context)})
    except Exception as error:
        results.append({"error": type(error).__name__, "message": str(error)})
print(json.dumps(results))
"""


def run_handler(events: list, env_changes: dict, contexts: bool = False) -> tuple:
    """(results, stderr); with contexts=True, invocation n gets a context whose aws_request_id is lambda-n."""
    results, stderr, _ = run_handler_with_stdout(events, env_changes, contexts)
    return results, stderr


def run_handler_with_stdout(events: list, env_changes: dict, contexts: bool = False) -> tuple:
    """(results, stderr, the lines the handler wrote to stdout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTED_", "COOKIE_", "ENCRYPTION_"))}
    env.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY})
    env.update(env_changes)
    env["PYTHONPATH"] = function_folder()
    env = {k: v for k, v in env.items() if v is not None}
    done = subprocess.run([sys.executable, "-c", RUNNER] + (["--contexts"] if contexts else []),
                          input=json.dumps(events), capture_output=True, text=True, env=env, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    *written, results = done.stdout.splitlines()
    return json.loads(results), done.stderr, written


def with_request_id(event: dict, request_id: str) -> dict:
    event.setdefault("requestContext", {})["requestId"] = request_id
    return event


def json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


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


def test_every_line_carries_the_gateway_and_the_lambda_request_ids():
    events = [with_request_id(rest_event("GET", {"Origin": "https://evil.example"}), "rest-0"),
              with_request_id(http_event("GET", {"origin": ORIGIN}, []), "http-1")]
    results, stderr = run_handler(events, {}, contexts=True)
    assert results[1] == {"error": "Unauthorized", "message": "Unauthorized"}
    assert [(line["reason"], line["apiRequestId"], line["awsRequestId"]) for line in json_lines(stderr)] == [
        ("untrusted_origin", "rest-0", "lambda-0"), ("at_cookie_missing", "http-1", "lambda-1")]


def test_a_configuration_error_logs_one_line_per_invocation():
    events = [with_request_id(rest_event("GET", {"Origin": ORIGIN}), f"gw-{n}") for n in range(3)]
    results, stderr = run_handler(events, {"ENCRYPTION_KEY": KEY[:-1]}, contexts=True)
    assert [result["error"] for result in results] == ["ConfigError"] * 3
    lines = json_lines(stderr)
    assert [(line["event"], line["apiRequestId"], line["awsRequestId"]) for line in lines] == [
        ("configuration_error", f"gw-{n}", f"lambda-{n}") for n in range(3)]
    assert all("ENCRYPTION_KEY" in line["error"] for line in lines)
    assert KEY[:-1] not in stderr


def test_metrics_are_off_by_default():
    _, _, written = run_handler_with_stdout([rest_event("GET", {"Origin": ORIGIN})], {})
    assert written == []


def test_metrics_write_one_emf_line_per_invocation():
    events = [with_request_id(rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(JWT), f"x-{PREFIX}-csrf": CSRF}), "a"),
              with_request_id(rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(JWT)}), "b"),
              with_request_id(rest_event("GET", {"Origin": ORIGIN}), "c")]
    results, _, written = run_handler_with_stdout(events, {"METRICS": "true", "METRICS_NAMESPACE": "Shop/Auth"},
                                                  contexts=True)
    assert results[2]["error"] == "Unauthorized"
    documents = [json.loads(line) for line in written]
    assert len(documents) == 3
    for n, document in enumerate(documents):
        directives = document["_aws"]["CloudWatchMetrics"]
        assert {d["Namespace"] for d in directives} == {"Shop/Auth"}
        assert isinstance(document["_aws"]["Timestamp"], int)
        assert (document["apiRequestId"], document["awsRequestId"]) == ("abc"[n], f"lambda-{n}")
        # Every metric a directive names has its value at the top level (the EMF rule).
        for directive in directives:
            for metric in directive["Metrics"]:
                assert metric["Name"] in document
            for dimension_set in directive["Dimensions"]:
                assert all(name in document for name in dimension_set)
    assert [(d["Allowed"], d["Denied"], d.get("Reason")) for d in documents] == [
        (1, 0, None), (0, 1, "csrf_header_missing"), (0, 1, "at_cookie_missing")]
    assert documents[1]["_aws"]["CloudWatchMetrics"][1]["Dimensions"] == [["Reason"]]
