"""Secrets kept in AWS, end to end: ENCRYPTION_KEY, PREVIOUS_ENCRYPTION_KEYS and CLIENT_SECRET given as
references, fetched from moto's server (an AWS API emulator over HTTP on 127.0.0.1) by handler.handler in a
child process (as Lambda imports it) and under the real Lambda runtime client (awslambdaric); refreshed
after SECRETS_REFRESH_SECONDS, a Secrets Manager rotation picked up without a redeploy, failures logged
with their AWS error code and counted with METRICS=true, and never a value in any output."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import oauth_proxy
from conftest import KEY, OLD_KEY, ORIGIN, PREFIX, cookies, function_folder, rest_event
from fault_server import closed_port_url
from lambda_runtime_api import run_in_lambda_runtime
from moto_server import AWS_ENV, moto, moto_env, moto_session  # noqa: F401 - fixtures

NEW_KEY = "5f" * 32
CLIENT_SECRET = "Intro-Spection-Secret-9"

RUNNER = r"""
import json, sys, time

# The refresh reads time.monotonic: "advance" steps move it on, so the refresh interval passes when the test
# says, not when a busy machine makes it pass.
real_monotonic, offset = time.monotonic, [0.0]
time.monotonic = lambda: real_monotonic() + offset[0]
import handler

class Context:
    def __init__(self, request_id):
        self.aws_request_id = request_id

results = []
for n, step in enumerate(json.load(sys.stdin)):
    if "advance" in step:
        offset[0] += step["advance"]
        continue
    if "put" in step:  # a new AWSCURRENT version, as a rotation leaves it
        import boto3
        boto3.client("secretsmanager").put_secret_value(SecretId=step["put"], SecretString=step["value"])
        continue
    if "delete" in step:
        import boto3
        boto3.client("secretsmanager").delete_secret(SecretId=step["delete"], ForceDeleteWithoutRecovery=True)
        continue
    try:
        response = handler.handler(step["event"], Context(f"lambda-{n}"))
        results.append(response["policyDocument"]["Statement"][0]["Effect"])
    except Exception as error:
        results.append({"error": type(error).__name__, "message": str(error)})
print(json.dumps(results))
"""


def get(key: str = KEY) -> dict:
    return rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies(key=key)})


def run(steps: list, env: dict) -> tuple:
    """(results, stdout lines before them, stderr) of the steps run by a child that imported handler."""
    child = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRUSTED_", "COOKIE_", "ENCRYPTION_"))}
    child.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX}, **env)
    child["PYTHONPATH"] = function_folder()
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(steps), capture_output=True, text=True,
                          env=child, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    *written, results = done.stdout.splitlines()
    return json.loads(results), written, done.stderr


def no_values(*outputs, values=(KEY, OLD_KEY, NEW_KEY, CLIENT_SECRET)) -> None:
    for text in outputs:
        for value in values:
            assert value not in str(text)


def emf(lines: list) -> list:
    return [json.loads(line) for line in lines if line.startswith('{"_aws"')]


def logged(text: str, event: str) -> list:
    found = []
    for line in text.splitlines():
        start = line.find("{")
        if start >= 0 and f'"event":"{event}"' in line:
            found.append(json.loads(line[start:]))
    return found


# ---- configuration: the syntax of a reference where it enters ---------------------------------------------


def test_config_takes_references_and_checks_their_syntax():
    config = oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                encryption_key="secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:k-AbCdEf",
                                previous_encryption_keys=[OLD_KEY, "ssm:/old-keys"], client_secret="ssm:/client:2")
    assert config.secrets_refresh_seconds == 300
    assert "ssm:/client" not in repr(config) and "secretsmanager:" not in repr(config)
    for bad in ("secretsmanager:", "ssm:", "ssm:with space", "secretsmanager:a\nb", "ssm:" + "a" * 2049):
        with pytest.raises(oauth_proxy.ConfigError) as caught:
            oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=bad)
        named = bad.partition(":")[2]
        assert "ENCRYPTION_KEY" in str(caught.value) and (not named or named not in str(caught.value))
    with pytest.raises(oauth_proxy.ConfigError, match="CLIENT_SECRET"):
        oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY,
                           client_secret="secretsmanager:bad secret")
    with pytest.raises(oauth_proxy.ConfigError, match=r"PREVIOUS_ENCRYPTION_KEYS \(item 2\)"):
        oauth_proxy.Config.from_env({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                                     "ENCRYPTION_KEY": KEY, "PREVIOUS_ENCRYPTION_KEYS": f"{OLD_KEY},ssm:"})
    for text, ok in (("0", True), ("86400", True), ("86401", False), ("-1", False), ("soon", False)):
        env = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY,
               "SECRETS_REFRESH_SECONDS": text}
        if ok:
            assert oauth_proxy.Config.from_env(env).secrets_refresh_seconds == int(text)
        else:
            with pytest.raises(oauth_proxy.ConfigError, match="SECRETS_REFRESH_SECONDS"):
                oauth_proxy.Config.from_env(env)


def test_the_library_fetches_references_once_when_the_proxy_is_built(moto, moto_env, monkeypatch):
    moto.boto3("secretsmanager").create_secret(Name="cookie-key", SecretString=OLD_KEY)
    moto.boto3("secretsmanager").put_secret_value(SecretId="cookie-key", SecretString=KEY)
    for name, value in moto_env.items():
        monkeypatch.setenv(name, value)
    config = oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                encryption_key="secretsmanager:cookie-key")
    proxy = oauth_proxy.OAuthProxy(config)
    for key in (KEY, OLD_KEY):  # AWSCURRENT, and AWSPREVIOUS as a previous key
        assert proxy.authorize(get(key))["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert proxy.config.encryption_key == KEY and proxy.config.previous_encryption_keys == (OLD_KEY,)
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                  encryption_key="ssm:/missing"))
    assert "ENCRYPTION_KEY" in str(caught.value) and "ParameterNotFound" in str(caught.value)


# ---- handler.handler in a child process ---------------------------------------------------------------------


def test_a_rotation_in_secrets_manager_is_picked_up_without_a_redeploy(moto, moto_env):
    moto.boto3("secretsmanager").create_secret(Name="cookie-key", SecretString=KEY)
    env = {**moto_env, "ENCRYPTION_KEY": "secretsmanager:cookie-key", "SECRETS_REFRESH_SECONDS": "600"}
    results, written, stderr = run([
        {"event": get(KEY)}, {"event": get(NEW_KEY)},          # before the rotation: the new key is unknown
        {"put": "cookie-key", "value": NEW_KEY},
        {"event": get(NEW_KEY)},                                # within the refresh interval: still unknown
        {"advance": 600},
        {"event": get(NEW_KEY)}, {"event": get(KEY)},           # refreshed: AWSCURRENT and AWSPREVIOUS
    ], env)
    unauthorized = {"error": "Unauthorized", "message": "Unauthorized"}
    assert results == ["Allow", unauthorized, unauthorized, "Allow", "Allow"]
    no_values(written, stderr)


def test_parameter_store_and_every_variable(moto, moto_env):
    from oauth_proxy.testing import IntrospectionEndpoint

    moto.boto3("ssm").put_parameter(Name="/oauth-proxy/key", Value=NEW_KEY, Type="SecureString")
    moto.boto3("ssm").put_parameter(Name="/oauth-proxy/old", Value=f"{OLD_KEY},{KEY}", Type="SecureString")
    moto.boto3("ssm").put_parameter(Name="/oauth-proxy/client", Value=CLIENT_SECRET, Type="SecureString")
    with IntrospectionEndpoint(credentials=("gateway", CLIENT_SECRET)) as endpoint:
        endpoint.issue("opaque", {"sub": "alice"})
        env = {**moto_env, "ENCRYPTION_KEY": "ssm:/oauth-proxy/key", "PREVIOUS_ENCRYPTION_KEYS": "ssm:/oauth-proxy/old",
               "USE_PHANTOM_TOKEN": "true", "INTROSPECTION_URL": endpoint.url, "CLIENT_ID": "gateway",
               "CLIENT_SECRET": "ssm:/oauth-proxy/client"}
        events = [rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies("opaque", key=key)})
                  for key in (NEW_KEY, OLD_KEY, KEY)]
        results, written, stderr = run([{"event": event} for event in events], env)
        # Each key opened its cookie, and the introspection endpoint took the fetched client secret.
        assert results == ["Allow", "Allow", "Allow"]
        assert endpoint.calls >= 1
    no_values(written, stderr)


def test_nothing_fetched_yet_is_a_500_naming_the_variable_and_code_and_counted(moto_env):
    env = {**moto_env, "AWS_ENDPOINT_URL": closed_port_url().rsplit("/oauth", 1)[0],
           "ENCRYPTION_KEY": "secretsmanager:cookie-key", "METRICS": "true"}
    results, written, stderr = run([{"event": get()}, {"event": get()}], env)
    for result in results:
        assert result["error"] == "ConfigError"
        assert "ENCRYPTION_KEY" in result["message"] and "EndpointConnectionError" in result["message"]
    lines = logged(stderr, "configuration_error")
    assert [(line["setting"], line["code"], line["awsRequestId"]) for line in lines] == [
        ("ENCRYPTION_KEY", "EndpointConnectionError", None),        # the init-phase attempt
        ("ENCRYPTION_KEY", "EndpointConnectionError", "lambda-0"),
        ("ENCRYPTION_KEY", "EndpointConnectionError", "lambda-1")]
    counted = emf(written)
    assert [(d.get("ConfigErrors"), d.get("SecretFetchFailures"), d["errorCode"]) for d in counted] == [
        (None, 1, "EndpointConnectionError"), (1, 1, "EndpointConnectionError"), (1, 1, "EndpointConnectionError")]
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OAuthProxy" for d in counted)
    no_values(written, stderr)


@pytest.mark.parametrize("value,code", [("not-a-key", "InvalidValue"), (json.dumps({"key": KEY}), "InvalidValue")])
def test_a_fetched_value_that_is_not_a_key_is_a_500_without_the_value(moto, moto_env, value, code):
    moto.boto3("secretsmanager").create_secret(Name="cookie-key", SecretString=value)
    env = {**moto_env, "ENCRYPTION_KEY": "secretsmanager:cookie-key"}
    results, written, stderr = run([{"event": get()}], env)
    assert results[0]["error"] == "ConfigError" and "is not a key" in results[0]["message"]
    assert "secretsmanager:cookie-key" in results[0]["message"]
    no_values(results, written, stderr, values=(value, KEY))


def test_a_failed_refresh_keeps_the_last_values_and_is_logged_and_counted(moto, moto_env):
    moto.boto3("secretsmanager").create_secret(Name="cookie-key", SecretString=KEY)
    env = {**moto_env, "ENCRYPTION_KEY": "secretsmanager:cookie-key", "SECRETS_REFRESH_SECONDS": "600",
           "METRICS": "true"}
    results, written, stderr = run([
        {"event": get()}, {"delete": "cookie-key"}, {"advance": 600}, {"event": get()}, {"event": get()}], env)
    assert results == ["Allow", "Allow", "Allow"]
    (line,) = logged(stderr, "secret_refresh_failed")
    assert (line["setting"], line["code"], line["awsRequestId"]) == (
        "ENCRYPTION_KEY", "ResourceNotFoundException", "lambda-3")
    failures = [d for d in emf(written) if "SecretFetchFailures" in d]
    assert [(d["SecretFetchFailures"], "ConfigErrors" in d, d["awsRequestId"]) for d in failures] == [
        (1, False, "lambda-3")]  # once: the next attempt waits for the retry delay (10 s)
    no_values(written, stderr)


def test_a_configuration_error_is_counted_with_metrics(moto_env):
    env = {"ENCRYPTION_KEY": KEY[:-1], "METRICS": "true", "METRICS_NAMESPACE": "Shop/Auth"}
    results, written, stderr = run([{"event": get()}], env)
    assert results[0]["error"] == "ConfigError"
    (line,) = emf(written)
    assert line["ConfigErrors"] == 1 and "SecretFetchFailures" not in line
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Shop/Auth"
    no_values(written, stderr, values=(KEY[:-1],))


# ---- under the Lambda runtime interface client ---------------------------------------------------------------


def test_under_the_lambda_runtime(moto, moto_env):
    service = moto.boto3("secretsmanager")
    service.create_secret(Name="cookie-key", SecretString=OLD_KEY)
    service.put_secret_value(SecretId="cookie-key", SecretString=KEY)
    env = {**moto_env, "TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
           "ENCRYPTION_KEY": "secretsmanager:cookie-key", "METRICS": "true"}
    api, stdout, stderr = run_in_lambda_runtime([get(KEY), get(OLD_KEY), get(NEW_KEY)], env)
    outcomes = [api.outcomes[request_id] for request_id in api.request_ids]
    assert [o[1]["policyDocument"]["Statement"][0]["Effect"] for o in outcomes[:2]] == ["Allow", "Allow"]
    assert outcomes[2][0] == "error" and outcomes[2][1]["errorType"] == "Unauthorized"
    assert api.init_errors == []
    no_values(stdout, stderr)


def test_under_the_lambda_runtime_a_missing_secret_fails_each_invocation(moto_env):
    env = {**moto_env, "TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
           "ENCRYPTION_KEY": "secretsmanager:missing", "METRICS": "true", "AWS_LAMBDA_LOG_FORMAT": "JSON"}
    api, stdout, stderr = run_in_lambda_runtime([get(), get()], env)
    assert api.init_errors == []
    for request_id in api.request_ids:
        kind, body = api.outcomes[request_id]
        assert kind == "error" and body["errorType"] == "ConfigError"
        assert "ENCRYPTION_KEY" in body["errorMessage"] and "ResourceNotFoundException" in body["errorMessage"]
    objects = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    refused = [o for o in objects if o.get("event") == "configuration_error" and o.get("awsRequestId")]
    assert [(o["setting"], o["code"], o["awsRequestId"]) for o in refused] == [
        ("ENCRYPTION_KEY", "ResourceNotFoundException", request_id) for request_id in api.request_ids]
    counted = [o for o in objects if "_aws" in o and o.get("ConfigErrors")]
    assert [o["awsRequestId"] for o in counted] == api.request_ids


# ---- oauth-proxy check-config ------------------------------------------------------------------------------


def check_config(env: dict) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRUSTED_", "COOKIE_", "ENCRYPTION_"))}
    child.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX}, **env)
    cli = os.path.join(os.path.dirname(sys.executable), "oauth-proxy")
    return subprocess.run([cli, "check-config"], capture_output=True, text=True, env=child, timeout=60)


def test_check_config_says_what_resolved_without_a_value(moto, moto_env):
    service = moto.boto3("secretsmanager")
    service.create_secret(Name="cookie-key", SecretString=OLD_KEY)
    service.put_secret_value(SecretId="cookie-key", SecretString=KEY)
    moto.boto3("ssm").put_parameter(Name="/client", Value=CLIENT_SECRET, Type="SecureString")
    env = {**moto_env, "ENCRYPTION_KEY": "secretsmanager:cookie-key", "CLIENT_SECRET": "ssm:/client",
           "PREVIOUS_ENCRYPTION_KEYS": "ssm:/missing"}
    done = check_config(env)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "ENCRYPTION_KEY: secretsmanager:cookie-key: resolved: a key (AWSCURRENT), and the previous one (AWSPREVIOUS)",
        "PREVIOUS_ENCRYPTION_KEYS: ssm:/missing: not resolved: ParameterNotFound: GetParameter for parameter "
        "'/missing' was refused (HTTP 400)",
        "CLIENT_SECRET: ssm:/client: resolved: a value",
        "configuration: not usable"]
    del env["PREVIOUS_ENCRYPTION_KEYS"]
    done = check_config(env)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "configuration: usable"
    no_values(done.stdout, done.stderr)


def test_check_config_without_references():
    done = check_config({"ENCRYPTION_KEY": KEY})
    assert (done.returncode, done.stdout.splitlines()) == (
        0, ["references: none (every value is in the environment)", "configuration: usable"])
    done = check_config({"ENCRYPTION_KEY": KEY[:-2]})
    assert done.returncode == 1 and "ENCRYPTION_KEY" in done.stdout and KEY[:-2] not in done.stdout


def test_a_literal_configuration_loads_nothing_of_the_fetching():
    """Without references, handler.handler is the plain one: importing it and serving a request load none of
    what a fetch needs (sockets, TLS, hashing), and the configuration is not wrapped in a refresh."""
    child = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRUSTED_", "COOKIE_", "ENCRYPTION_"))}
    child.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY,
                  "PYTHONPATH": function_folder()})
    code = ("import json, sys, handler\n"
            f"response = handler.handler({get()!r}, None)\n"
            "print(json.dumps([response['policyDocument']['Statement'][0]['Effect'], handler.handler.__qualname__,"
            " [m for m in ('socket', 'ssl', 'hashlib', 'hmac') if m in sys.modules]]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["Allow", "_serving_handler.<locals>.handler", []]
