"""The key-rotation function (deploy/key-rotation/key_rotation.py) run by Secrets Manager's own rotation, as
moto emulates it over HTTP: RotateSecret stages an AWSPENDING version and invokes the function for
createSecret, setSecret, testSecret and finishSecret; the function calls back over HTTP with boto3.

moto runs in this process here (ThreadedMotoServer on 127.0.0.1) rather than as the suite's subprocess: its
Lambda service would run the function in Docker, so its invoke is replaced by a direct call of the handler
(FakeLambda), which is only possible in the same process. After a rotation, oauth-proxy's own client reads
the new key as AWSCURRENT and the old one as AWSPREVIOUS."""
from __future__ import annotations

import importlib.util
import json
import uuid

import pytest

from conftest import KEY, REPO
from moto_server import AWS_ENV, REGION
from oauth_proxy.secret_refs import Resolver

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:oauth-proxy-key-rotation"


class FakeLambda:
    """moto's Lambda backend as RotateSecret uses it: get_function, then invoke once per step."""

    def __init__(self, module) -> None:
        self.module = module
        self.run_steps = set(STEPS)
        self.invoked: list = []
        self.repeat = 1

    def get_function(self, arn, qualifier=None):
        assert arn == FUNCTION_ARN
        return object()

    def invoke(self, arn, qualifier, body, headers, response_headers):
        event = json.loads(body)
        self.invoked.append(event["Step"])
        if event["Step"] in self.run_steps:
            for _ in range(self.repeat):
                self.module.handler(event, None)
        return b""


@pytest.fixture(scope="module")
def server():
    from moto.server import ThreadedMotoServer

    instance = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    instance.start()
    yield "http://%s:%d" % instance.get_host_and_port()
    instance.stop()


@pytest.fixture
def lambda_service(server, monkeypatch):
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", data=b"", method="POST")).read()
    env = {**AWS_ENV, "AWS_ENDPOINT_URL": server}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("key_rotation", REPO / "deploy" / "key-rotation" / "key_rotation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fake = FakeLambda(module)
    import moto.awslambda.utils

    monkeypatch.setattr(moto.awslambda.utils, "get_backend", lambda account, region: fake)
    fake.env = env
    return fake


def secrets_manager():
    import boto3

    return boto3.client("secretsmanager")  # endpoint, region and credentials from the environment set above


def rotate(service, arn: str) -> str:
    token = str(uuid.uuid4())
    service.rotate_secret(SecretId=arn, ClientRequestToken=token, RotationLambdaARN=FUNCTION_ARN,
                          RotationRules={"AutomaticallyAfterDays": 30})
    return token


def test_a_rotation_makes_a_new_current_key_and_keeps_the_old_one_as_previous(lambda_service):
    service = secrets_manager()
    arn = service.create_secret(Name="oauth-proxy/cookie-key", SecretString=KEY)["ARN"]
    token = rotate(service, arn)
    assert lambda_service.invoked == list(STEPS)

    new = service.get_secret_value(SecretId=arn)["SecretString"]
    assert lambda_service.module.is_key(new) and new != KEY
    assert "AWSCURRENT" in service.describe_secret(SecretId=arn)["VersionIdsToStages"][token]
    # What the authorizer then decrypts with: the new key, and the old one among the previous keys.
    current, previous, _ = Resolver(lambda_service.env).resolve(f"secretsmanager:{arn}", (), None)
    assert (current, previous) == (new, (KEY,))

    rotate(service, arn)
    current, previous, _ = Resolver(lambda_service.env).resolve(f"secretsmanager:{arn}", (), None)
    assert previous == (new,) and current not in (new, KEY)  # two rotations on, KEY is no longer accepted


def test_every_step_can_run_again(lambda_service, monkeypatch):
    """Secrets Manager retries a step that failed: each step finds its work done and does nothing more."""
    service = secrets_manager()
    arn = service.create_secret(Name="k", SecretString=KEY)["ARN"]
    made = []
    token_hex = lambda_service.module.secrets.token_hex
    monkeypatch.setattr(lambda_service.module.secrets, "token_hex", lambda n: made.append(token_hex(n)) or made[-1])
    lambda_service.repeat = 2
    token = rotate(service, arn)
    assert len(made) == 1  # the second createSecret kept the key the first one made
    assert service.get_secret_value(SecretId=arn)["SecretString"] == made[0]
    stages = service.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert stages[token] == ["AWSCURRENT"] and not any("AWSPENDING" in labels for labels in stages.values())
    for step in STEPS:  # and a finished rotation is left as it is
        lambda_service.module.handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)
    assert service.get_secret_value(SecretId=arn)["SecretString"] == made[0]


def test_the_test_step_refuses_a_pending_value_that_is_not_a_key(lambda_service):
    service = secrets_manager()
    arn = service.create_secret(Name="k", SecretString=KEY)["ARN"]
    lambda_service.run_steps = set()  # only staged: the test plays the steps itself
    token = rotate(service, arn)
    # moto's RotateSecret makes the staged version current whatever the function did; stage a fresh one.
    pending = str(uuid.uuid4())
    service.put_secret_value(SecretId=arn, ClientRequestToken=pending, SecretString="not-a-key",
                             VersionStages=["AWSPENDING"])
    assert token != pending
    with pytest.raises(ValueError, match="not a 64-hex key"):
        lambda_service.module.handler({"SecretId": arn, "ClientRequestToken": pending, "Step": "testSecret"}, None)
    with pytest.raises(ValueError, match="no stage for rotation"):
        lambda_service.module.handler({"SecretId": arn, "ClientRequestToken": str(uuid.uuid4()),
                                       "Step": "createSecret"}, None)


def test_rotation_must_be_enabled(lambda_service):
    service = secrets_manager()
    arn = service.create_secret(Name="k", SecretString=KEY)["ARN"]
    with pytest.raises(ValueError, match="rotation is not enabled"):
        lambda_service.module.handler({"SecretId": arn, "ClientRequestToken": str(uuid.uuid4()),
                                       "Step": "createSecret"}, None)
