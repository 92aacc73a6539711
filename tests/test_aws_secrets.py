"""oauth_proxy.aws_secrets, the standard-library client for Secrets Manager and Parameter Store: its
signatures against botocore's own signer, its calls against moto's server (an AWS API emulator over HTTP,
which also verifies signatures and IAM policies when asked to), and every fault an endpoint can produce,
against deliberately bad endpoints on 127.0.0.1."""
from __future__ import annotations

import datetime
import json
import socket
import threading

import pytest

from conftest import KEY, OLD_KEY
from fault_server import (FaultServer, answer, closed_port_url, garbage, garbage_http, gigantic, gigantic_chunked,
                          reset, slow_headers, stall, trickle)
from moto_server import AWS_ENV, REGION, MotoServer, moto, moto_env, moto_session  # noqa: F401 - fixtures
from oauth_proxy import ConfigError
from oauth_proxy.aws_secrets import (MAX_RESPONSE_BYTES, AwsClient, AwsError, Credentials, arn_region, endpoint_url,
                                     sign)
from oauth_proxy.secret_refs import Resolver, SecretFetchError

SECRET = "S3cr3t-client-value!"


# ---- Signature Version 4, checked against botocore ----------------------------------------------------------


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEXAMPLE+token/=="])
@pytest.mark.parametrize("service,target,host", [
    ("secretsmanager", "secretsmanager.GetSecretValue", "secretsmanager.eu-west-1.amazonaws.com"),
    ("ssm", "AmazonSSM.GetParameter", "127.0.0.1:4566"),
])
def test_signature_equals_botocores(monkeypatch, token, service, target, host):
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    when = datetime.datetime(2026, 12, 3, 14, 5, 9, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    body = json.dumps({"SecretId": "arn:aws:secretsmanager:eu-west-1:1:secret:a/b+c=d@e-f", "x": "ünï"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}

    request = AWSRequest(method="POST", url=f"https://{host}/", data=body, headers=dict(headers))
    botocore.auth.SigV4Auth(BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
                            service, REGION).add_auth(request)

    ours = sign("POST", host, "/", headers, body, service, REGION,
                Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), now=when.timestamp())
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"] == "20261203T140509Z"
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token") == token


def test_credentials_repr_hides_the_secret_key_and_token():
    text = repr(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI", "session-token"))
    assert "AKIDEXAMPLE" in text and "wJalrXUtnFEMI" not in text and "session-token" not in text


# ---- endpoints and regions ----------------------------------------------------------------------------------


def test_endpoint_overrides_follow_the_sdks_order():
    base = {"AWS_REGION": REGION}
    assert endpoint_url("secretsmanager", REGION, base) == "https://secretsmanager.eu-west-1.amazonaws.com"
    assert endpoint_url("ssm", "cn-north-1", base) == "https://ssm.cn-north-1.amazonaws.com.cn"
    every = {**base, "AWS_ENDPOINT_URL": "http://all", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm",
             "AWS_ENDPOINT_URL_SSM": "http://ssm"}
    assert endpoint_url("secretsmanager", REGION, every) == "http://sm"
    assert endpoint_url("ssm", REGION, every) == "http://ssm"
    assert endpoint_url("ssm", REGION, {**base, "AWS_ENDPOINT_URL": "http://all"}) == "http://all"
    ignored = {**every, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert endpoint_url("ssm", REGION, ignored) == "https://ssm.eu-west-1.amazonaws.com"


def test_an_arn_names_its_region():
    assert arn_region("arn:aws:secretsmanager:us-east-2:123456789012:secret:k-AbCdEf") == "us-east-2"
    assert arn_region("arn:aws:ssm:ap-south-1:123456789012:parameter/a/b") == "ap-south-1"
    assert arn_region("oauth-proxy/key") is None and arn_region("arn:broken") is None


@pytest.mark.parametrize("missing,code", [("AWS_REGION", "NoRegion"), ("AWS_ACCESS_KEY_ID", "NoCredentials"),
                                          ("AWS_SECRET_ACCESS_KEY", "NoCredentials")])
def test_missing_environment_is_a_clear_error(moto_env, missing, code):
    env = {name: value for name, value in moto_env.items() if name not in (missing, "AWS_DEFAULT_REGION")}
    with pytest.raises(AwsError) as caught:
        AwsClient(env).get_secret_value("k")
    assert caught.value.code == code and missing.split("_")[1] in str(caught.value) or code in str(caught.value)


# ---- against moto -----------------------------------------------------------------------------------------


def test_secrets_manager_current_previous_and_arn(moto, moto_env):
    service = moto.boto3("secretsmanager")
    arn = service.create_secret(Name="oauth-proxy/key", SecretString=OLD_KEY)["ARN"]
    client = AwsClient(moto_env)
    with pytest.raises(AwsError) as caught:
        client.get_secret_value("oauth-proxy/key", "AWSPREVIOUS")  # never rotated: no previous version
    assert caught.value.code == "ResourceNotFoundException" and caught.value.status == 404
    service.put_secret_value(SecretId=arn, SecretString=KEY)
    assert client.get_secret_value("oauth-proxy/key") == KEY
    assert client.get_secret_value(arn) == KEY
    assert client.get_secret_value(arn, "AWSPREVIOUS") == OLD_KEY


def test_an_arn_from_another_region_is_fetched_there(moto, moto_env):
    other = moto.boto3("secretsmanager")
    other.meta.config.region_name  # noqa: B018 - the client's own region is eu-west-1
    import boto3

    us = boto3.client("secretsmanager", region_name="us-east-2", endpoint_url=moto.url,
                      aws_access_key_id="x", aws_secret_access_key="y")
    arn = us.create_secret(Name="shared", SecretString=KEY)["ARN"]
    assert AwsClient(moto_env).get_secret_value(arn) == KEY  # moto keeps secrets per signed region


def test_parameter_store_secure_string_is_decrypted(moto, moto_env):
    ssm = moto.boto3("ssm")
    ssm.put_parameter(Name="/oauth-proxy/client-secret", Value="first", Type="SecureString")
    ssm.put_parameter(Name="/oauth-proxy/client-secret", Value=SECRET, Type="SecureString", Overwrite=True)
    client = AwsClient(moto_env)
    assert client.get_parameter("/oauth-proxy/client-secret") == SECRET
    assert client.get_parameter("/oauth-proxy/client-secret:1") == "first"  # a version, as the name selects it
    arn = ssm.get_parameter(Name="/oauth-proxy/client-secret")["Parameter"]["ARN"]
    assert client.get_parameter(arn) == SECRET


def test_missing_secret_and_parameter_carry_the_aws_code(moto, moto_env):
    client = AwsClient(moto_env)
    with pytest.raises(AwsError) as caught:
        client.get_secret_value("nowhere")
    assert caught.value.code == "ResourceNotFoundException" and "'nowhere'" in str(caught.value)
    with pytest.raises(AwsError) as caught:
        client.get_parameter("/nowhere")
    assert caught.value.code == "ParameterNotFound"


def reset_auth(moto, count: bytes) -> None:
    """Requests from now on that moto lets through unchecked (moto's own API; a form content type would
    hide the body from it)."""
    import urllib.request

    request = urllib.request.Request(f"{moto.url}/moto-api/reset-auth", data=count, method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=30).read()


@pytest.fixture
def iam_enforced(moto):
    """moto checking every request's signature and the caller's IAM policies (the requests that set the
    stage go unchecked): one user may read secrets, another may only read parameters."""
    service = moto.boto3("secretsmanager")
    arn = service.create_secret(Name="cookie-key", SecretString=KEY)["ARN"]
    iam = moto.boto3("iam")
    env = {}
    for user, action in (("authorizer", "secretsmanager:GetSecretValue"), ("other", "ssm:GetParameter")):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        env[user] = {"AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                     "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"], "AWS_ENDPOINT_URL": moto.url}
    reset_auth(moto, b"0")
    yield env, arn
    reset_auth(moto, b"inf")


def test_signatures_pass_a_verifier_and_access_denied_is_reported(iam_enforced):
    env, arn = iam_enforced
    assert AwsClient(env["authorizer"]).get_secret_value(arn) == KEY  # moto recomputed our signature: equal
    with pytest.raises(AwsError) as caught:
        AwsClient(env["other"]).get_secret_value(arn)
    assert (caught.value.code, caught.value.status) == ("AccessDenied", 403)
    assert KEY not in str(caught.value) and "not authorized" not in str(caught.value)
    with pytest.raises(AwsError) as caught:
        AwsClient({**env["authorizer"], "AWS_SECRET_ACCESS_KEY": "not-the-key"}).get_secret_value(arn)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_https_with_aws_ca_bundle(test_ca, tmp_path):
    server = MotoServer(("-c", str(test_ca.cert_file), "-k", str(test_ca.key_file)))
    try:
        import boto3

        boto3.client("secretsmanager", region_name=REGION, endpoint_url=server.url, verify=str(test_ca.ca_file),
                     aws_access_key_id="x", aws_secret_access_key="y").create_secret(Name="k", SecretString=KEY)
        env = {**AWS_ENV, "AWS_ENDPOINT_URL": server.url}
        assert AwsClient({**env, "AWS_CA_BUNDLE": str(test_ca.ca_file)}).get_secret_value("k") == KEY
        with pytest.raises(AwsError) as caught:  # the system store does not trust the test CA
            AwsClient(env).get_secret_value("k")
        assert caught.value.code == "EndpointConnectionError" and "SSL" in str(caught.value)
    finally:
        server.close()


# ---- faults ------------------------------------------------------------------------------------------------


def json_error(status: int, code: str, header: bool = False):
    body = json.dumps({"__type": f"com.amazonaws.secretsmanager#{code}", "message": "Rate exceeded"}).encode()

    def act(server, conn):
        extra = f"x-amzn-ErrorType: {code}:http://internal.amazon.com/\r\n" if header else ""
        conn.sendall((f"HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\n{extra}"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return act


@pytest.fixture
def faulty():
    servers = []

    def start(behaviour):
        server = FaultServer(behaviour)
        servers.append(server)
        return {**AWS_ENV, "AWS_ENDPOINT_URL": server.url.rsplit("/oauth", 1)[0]}, server
    yield start
    for server in servers:
        server.close()


def fetch_error(env, timeout: float = 3.0) -> AwsError:
    with pytest.raises(AwsError) as caught:
        AwsClient(env, timeout=timeout).get_secret_value("oauth-proxy/key")
    return caught.value


def test_endpoint_down():
    env = {**AWS_ENV, "AWS_ENDPOINT_URL": closed_port_url().rsplit("/oauth", 1)[0]}
    error = fetch_error(env)
    assert error.code == "EndpointConnectionError" and error.status is None


@pytest.mark.parametrize("behaviour", [stall, trickle, slow_headers], ids=["stall", "trickle", "slow-headers"])
def test_slow_past_the_timeout(faulty, behaviour):
    # trickle and slow-headers send a byte every 100 ms for minutes: only a deadline on the whole call ends them.
    env, _ = faulty(behaviour)
    error = fetch_error(env, timeout=0.5)
    assert error.code == "Timeout" and "0.5 s" in str(error)


@pytest.mark.parametrize("code,status,header", [("ThrottlingException", 400, False),
                                                ("AccessDeniedException", 400, True),
                                                ("InternalServiceError", 500, False)])
def test_refusals_carry_the_aws_code_and_not_the_message(faulty, code, status, header):
    env, _ = faulty(json_error(status, code, header))
    error = fetch_error(env)
    assert (error.code, error.status) == (code, status) and "Rate exceeded" not in str(error)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"Name": "k"}', b'{"SecretBinary": "AAAA"}',
                                  b'{"SecretString": 7}', b"\xff\xfe", b"[" * 100000])
def test_malformed_answers(faulty, body):
    env, _ = faulty(answer(200, body, "application/x-amz-json-1.1"))
    error = fetch_error(env)
    assert error.code == "MalformedResponse"


@pytest.mark.parametrize("behaviour", [garbage, garbage_http, answer(200, b'{"SecretString": "' + KEY.encode())],
                         ids=["random-bytes", "bad-content-length", "cut-short"])
def test_answers_that_are_not_http(faulty, behaviour):
    env, _ = faulty(behaviour)
    error = fetch_error(env)
    assert error.code in ("MalformedResponse", "EndpointConnectionError") and KEY not in str(error)


def test_a_reset_connection(faulty):
    env, _ = faulty(reset)
    assert fetch_error(env).code in ("EndpointConnectionError", "MalformedResponse")


def test_a_chunked_answer_is_read(faulty):
    body = json.dumps({"SecretString": KEY}).encode()

    def act(server, conn):
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    env, _ = faulty(act)
    assert AwsClient(env).get_secret_value("k") == KEY


@pytest.mark.parametrize("url", ["ftp://host", "http://", "http://host:99999", "http://user@host", "http://h/?q=1",
                                 "localhost:4566"])
def test_a_bad_endpoint_url(url):
    with pytest.raises(AwsError) as caught:
        AwsClient({**AWS_ENV, "AWS_ENDPOINT_URL": url}).get_secret_value("k")
    assert caught.value.code == "BadEndpoint"


def test_an_error_code_that_is_not_a_code_becomes_the_status(faulty):
    env, _ = faulty(answer(403, json.dumps({"__type": f"Denied {KEY}"}).encode()))
    error = fetch_error(env)
    assert error.code == "HTTP403" and KEY not in str(error)


@pytest.mark.parametrize("behaviour", [gigantic, gigantic_chunked,
                                       answer(200, json.dumps({"SecretString": "a" * MAX_RESPONSE_BYTES}).encode())],
                         ids=["content-length", "chunked", "just-over"])
def test_oversized_answers(faulty, behaviour):
    env, _ = faulty(behaviour)
    assert fetch_error(env).code == "ResponseTooLarge"


def test_each_fetch_has_its_own_connection_and_extra_bytes_are_never_read(faulty):
    """An answer followed by bytes it did not announce: the value is taken, the connection closed, and the
    next fetch opens a new one (a kept-alive connection would read those bytes as its next answer)."""
    body = json.dumps({"SecretString": KEY}).encode()
    poison = b"HTTP/1.1 200 OK\r\nContent-Length: 31\r\n\r\n" + json.dumps({"SecretString": "x" * 14}).encode()
    connections = []

    def act(server, conn):
        connections.append(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: keep-alive\r\n\r\n" + body + poison)
        server.sleep(0.5)
    env, server = faulty(act)
    client = AwsClient(env)
    assert client.get_secret_value("k") == KEY
    assert client.get_secret_value("k") == KEY
    assert server.requests == 2 and len(set(map(id, connections))) == 2


# ---- values that are not what the variable takes ------------------------------------------------------------


@pytest.mark.parametrize("value,detail", [("not-a-key", "got 9 characters"), (KEY[:-1] + "g", "got 64 characters"),
                                          (json.dumps({"key": KEY}), "looks like JSON")])
def test_a_fetched_value_that_is_not_a_key(moto, moto_env, value, detail):
    moto.boto3("secretsmanager").create_secret(Name="k", SecretString=value)
    with pytest.raises(SecretFetchError) as caught:
        Resolver(moto_env).resolve("secretsmanager:k", (), None)
    error = caught.value
    assert isinstance(error, ConfigError) and (error.setting, error.reference, error.code) == (
        "ENCRYPTION_KEY", "secretsmanager:k", "InvalidValue")
    assert detail in str(error) and value not in str(error) and KEY not in str(error)


def test_resolver_fetches_every_reference(moto, moto_env):
    service = moto.boto3("secretsmanager")
    service.create_secret(Name="key", SecretString=OLD_KEY + "\n")  # keygen's newline is not part of the key
    service.put_secret_value(SecretId="key", SecretString=KEY)
    service.create_secret(Name="older", SecretString=f"{'1' * 64}, {'2' * 64}")
    moto.boto3("ssm").put_parameter(Name="/client", Value=f"  {SECRET}  ", Type="SecureString")
    current, previous, secret = Resolver(moto_env).resolve(
        "secretsmanager:key", ("secretsmanager:older", "3" * 64, OLD_KEY), "ssm:/client")
    assert current == KEY
    assert previous == (OLD_KEY, "1" * 64, "2" * 64, "3" * 64)  # AWSPREVIOUS first, no key twice
    assert secret == SECRET


def test_resolver_reports_the_variable_and_code(moto, moto_env):
    moto.boto3("secretsmanager").create_secret(Name="key", SecretString=KEY)
    with pytest.raises(SecretFetchError) as caught:
        Resolver(moto_env).resolve("secretsmanager:key", (), "ssm:/missing")
    assert (caught.value.setting, caught.value.code) == ("CLIENT_SECRET", "ParameterNotFound")
    assert str(caught.value).startswith("CLIENT_SECRET: could not fetch ssm:/missing: ParameterNotFound")
