"""handler.handler under the real Lambda runtime interface client (awslambdaric, started as Lambda's Python
images start it) against a fake Runtime API on loopback: the log lines in both of Lambda's log formats,
AWS_LAMBDA_LOG_LEVEL, the configuration error and the EMF metric lines, as CloudWatch would receive them."""
from __future__ import annotations

import json

import pytest

from conftest import CSRF, KEY, ORIGIN, PREFIX, cookies, http_event, make_jwt, rest_event
from lambda_runtime_api import run_in_lambda_runtime

JWT = make_jwt({"sub": "alice", "scope": "orders"})
CONFIG = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY}


def with_request_id(event: dict, request_id: str) -> dict:
    event.setdefault("requestContext", {})["requestId"] = request_id
    return event


def requests() -> list:
    """An allowed POST, a 403 (no CSRF header) on a REST event, a 401 (no cookie) on an HTTP API event."""
    return [
        with_request_id(rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(JWT), f"x-{PREFIX}-csrf": CSRF}), "gw-0"),
        with_request_id(rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(JWT)}), "gw-1"),
        with_request_id(http_event("GET", {"origin": ORIGIN}, []), "gw-2"),
    ]


def check_answers(api) -> None:
    first, second, third = (api.outcomes[request_id] for request_id in api.request_ids)
    assert first[0] == "response" and first[1]["context"] == {"token": f"Bearer {JWT}"}
    assert second[0] == "response" and second[1]["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert third == ("error", {"errorMessage": "Unauthorized", "errorType": "Unauthorized",
                               "requestId": api.request_ids[2], "stackTrace": third[1]["stackTrace"]})


def no_secrets(*outputs: str) -> None:
    for text in outputs:
        assert KEY not in text and JWT not in text and CSRF not in text


def test_text_format_lines_carry_both_request_ids():
    api, stdout, stderr = run_in_lambda_runtime(requests(), CONFIG)
    check_answers(api)
    # The runtime's text format: [LEVEL] <tab> time <tab> Lambda request id <tab> our JSON line.
    ours = [line.split("\t") for line in stdout.splitlines() if "authorizer_denied" in line]
    assert [(level, request_id) for level, _, request_id, _ in ours] == [
        ("[WARNING]", api.request_ids[1]), ("[WARNING]", api.request_ids[2])]
    lines = [json.loads(fields[3]) for fields in ours]
    assert [(line["reason"], line["apiRequestId"], line["awsRequestId"]) for line in lines] == [
        ("csrf_header_missing", "gw-1", api.request_ids[1]), ("at_cookie_missing", "gw-2", api.request_ids[2])]
    no_secrets(stdout, stderr)


def json_objects(stdout: str) -> list:
    objects = []
    for line in stdout.splitlines():
        if line.strip():
            objects.append(json.loads(line))  # JSON format: every line the runtime writes is one object
    return objects


def test_json_format_lines_are_objects_with_our_fields():
    api, stdout, stderr = run_in_lambda_runtime(requests(), {**CONFIG, "AWS_LAMBDA_LOG_FORMAT": "JSON"})
    check_answers(api)
    ours = [o for o in json_objects(stdout) if o.get("logger") == "oauth_proxy"]
    assert len(ours) == 2
    for line, index, reason, gateway_id, method in ((ours[0], 1, "csrf_header_missing", "gw-1", "POST"),
                                                    (ours[1], 2, "at_cookie_missing", "gw-2", "GET")):
        # Our fields at the top level of the runtime's object, not a JSON string inside its "message".
        assert line["message"] == "authorizer_denied" and line["level"] == "WARNING"
        assert line["requestId"] == line["awsRequestId"] == api.request_ids[index]
        assert (line["event"], line["reason"], line["method"], line["apiRequestId"]) == (
            "authorizer_denied", reason, method, gateway_id)
        assert line["status"] in (401, 403)
    no_secrets(stdout, stderr)


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_lambda_log_level_applies_when_log_level_is_unset(log_format):
    quiet = {**CONFIG, "AWS_LAMBDA_LOG_FORMAT": log_format, "AWS_LAMBDA_LOG_LEVEL": "ERROR"}
    api, stdout, _ = run_in_lambda_runtime(requests(), quiet)
    check_answers(api)
    assert "authorizer_denied" not in stdout  # denials are WARNING lines
    api, stdout, _ = run_in_lambda_runtime(requests(), {**quiet, "LOG_LEVEL": "WARNING"})
    assert sum("authorizer_denied" in line for line in stdout.splitlines()) == 2  # LOG_LEVEL, when set, wins


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_configuration_error_logs_one_line_per_invocation(log_format):
    env = {**CONFIG, "ENCRYPTION_KEY": KEY[:-1], "AWS_LAMBDA_LOG_FORMAT": log_format}
    api, stdout, stderr = run_in_lambda_runtime(requests()[:2], env)
    for request_id in api.request_ids:
        kind, body = api.outcomes[request_id]
        assert kind == "error" and body["errorType"] == "ConfigError" and "ENCRYPTION_KEY" in body["errorMessage"]
    assert api.init_errors == []  # the import succeeded: the error belongs to each invocation
    lines = [line for line in stdout.splitlines() if "configuration_error" in line]
    if log_format == "JSON":
        fields = [json.loads(line) for line in lines]
    else:
        fields = [json.loads(line.split("\t")[3]) for line in lines]
    assert [(f["apiRequestId"], f["awsRequestId"]) for f in fields] == [("gw-0", api.request_ids[0]),
                                                                         ("gw-1", api.request_ids[1])]
    assert all("ENCRYPTION_KEY" in f["error"] for f in fields)
    assert KEY[:-1] not in stdout + stderr


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_metric_lines_reach_the_log_as_emf_objects(log_format):
    env = {**CONFIG, "AWS_LAMBDA_LOG_FORMAT": log_format, "METRICS": "true"}
    api, stdout, _ = run_in_lambda_runtime(requests(), env)
    check_answers(api)
    documents = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    assert [(d["Allowed"], d["Denied"], d.get("Reason"), d["awsRequestId"]) for d in documents] == [
        (1, 0, None, api.request_ids[0]), (0, 1, "csrf_header_missing", api.request_ids[1]),
        (0, 1, "at_cookie_missing", api.request_ids[2])]
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OAuthProxy" for d in documents)
