"""The deployment descriptions with secrets kept in AWS (docs/secrets.md): given a Secrets Manager ARN or a
Parameter Store name, the function's environment holds the reference, never a key, and its role may read
that one resource and nothing else (kms:Decrypt only where a customer key is named). Rendered offline:
template.yaml through the SAM transform, serverless.yml and serverless.http-api.yml through `osls
package`; cfn-lint passes on each."""

from __future__ import annotations

import pytest

from . import sam_helpers as sam
from .deploy_helpers import CFN_LINT_IGNORED, ORIGIN, PREFIX, ROOT, cfn_lint, of_type
from .deploy_helpers import osls_render as render
from .test_deploy_sam import REQUIRED, render as sam_render

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:oauth-proxy/cookie-key-AbCdEf"
CLIENT_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:oauth-proxy/client-Zz9Yy8"
KMS_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NO_VALUE = "<AWS::NoValue>"


def without_no_value(node):
    if isinstance(node, list):
        return [without_no_value(item) for item in node if item != NO_VALUE]
    if isinstance(node, dict):
        return {key: without_no_value(value) for key, value in node.items() if value != NO_VALUE}
    return node


def sam_function(source: dict, rendered: dict, **given: str) -> tuple[dict, list]:
    """(environment, policy statements) of the authorizer function for these parameter values."""
    params = sam.parameters(source, **{**REQUIRED, "EncryptionKey": "", **given})
    conds = sam.conditions(source, params)
    fn = of_type(rendered, "AWS::Lambda::Function")["AuthorizerFunction"]
    env = sam.evaluate(fn["Environment"]["Variables"], params, conds)
    (role,) = of_type(rendered, "AWS::IAM::Role").values()
    policies = without_no_value(sam.evaluate(role.get("Policies", []), params, conds))
    statements = [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]
    return env, statements


@pytest.fixture(scope="module")
def source() -> dict:
    return sam.load(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def rendered(source, tmp_path_factory):
    return sam_render(source, tmp_path_factory.mktemp("sam-secrets"))


def test_sam_secrets_manager_key_and_client_secret(source, rendered):
    env, statements = sam_function(source, rendered[0], EncryptionKeySecretArn=SECRET_ARN,
                                   ClientSecretSecretArn=CLIENT_ARN)
    assert env["ENCRYPTION_KEY"] == f"secretsmanager:{SECRET_ARN}"
    assert env["CLIENT_SECRET"] == f"secretsmanager:{CLIENT_ARN}"
    assert statements == [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET_ARN},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": CLIENT_ARN}]


def test_sam_parameter_store_with_a_customer_key(source, rendered):
    env, statements = sam_function(source, rendered[0], EncryptionKeyParameterName="/oauth-proxy/cookie-key",
                                   SecretsKmsKeyArn=KMS_ARN)
    assert env["ENCRYPTION_KEY"] == "ssm:/oauth-proxy/cookie-key"
    assert env["CLIENT_SECRET"] == ""
    assert statements == [
        {"Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/oauth-proxy/cookie-key"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_ARN}]


def test_sam_literal_key_grants_nothing(source, rendered):
    env, statements = sam_function(source, rendered[0], EncryptionKey="0" * 64)
    assert env["ENCRYPTION_KEY"] == "0" * 64 and statements == []


def test_sam_parameters_refuse_what_is_not_an_arn_or_a_name(source):
    import re

    params = source["Parameters"]
    for name, good, bad in (("EncryptionKeySecretArn", SECRET_ARN, "oauth-proxy/cookie-key"),
                            ("EncryptionKeyParameterName", "/oauth-proxy/key", "oauth-proxy/key"),
                            ("SecretsKmsKeyArn", KMS_ARN, "alias/aws/ssm")):
        pattern = params[name]["AllowedPattern"]
        assert re.fullmatch(pattern, good) and re.fullmatch(pattern, "") and not re.fullmatch(pattern, bad), name



def role_statements(template: dict) -> list:
    roles = of_type(template, "AWS::IAM::Role")
    statements = []
    for role in roles.values():
        for policy in role["Policies"]:
            # osls's own statements (CloudWatch Logs) aside
            statements.extend(s for s in policy["PolicyDocument"]["Statement"] if "logs:" not in str(s["Action"]))
    # osls writes one-item lists where a plain value means the same
    return [{key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in s.items()}
            for s in statements]


@pytest.mark.parametrize("config", ["serverless.yml", "serverless.http-api.yml"])
def test_osls_references_grant_their_own_resources_only(osls, tmp_path, placeholder_zip, config):
    env = {"ENCRYPTION_KEY": f"secretsmanager:{SECRET_ARN}", "CLIENT_SECRET": "ssm:/oauth-proxy/client:3",
           "PREVIOUS_ENCRYPTION_KEYS": f"{'1' * 64}, secretsmanager:oauth-proxy/old-keys",
           "SECRETS_KMS_KEY_ARN": KMS_ARN}
    template, path = render(osls, tmp_path, config, f"artifact={placeholder_zip}", env=env)
    fn = of_type(template, "AWS::Lambda::Function")["AuthorizerLambdaFunction"]
    variables = fn["Environment"]["Variables"]
    assert variables["ENCRYPTION_KEY"] == f"secretsmanager:{SECRET_ARN}"
    assert variables["CLIENT_SECRET"] == "ssm:/oauth-proxy/client:3"
    here = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
    assert role_statements(template) == [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET_ARN},
        {"Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": {"Fn::Sub": here % ("ssm", "parameter/oauth-proxy/client")}},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": {"Fn::Sub": here % ("secretsmanager", "secret:oauth-proxy/old-keys-??????")}},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_ARN}]
    cfn_lint(path, ignore=CFN_LINT_IGNORED)


def test_osls_example_grants_its_references_too(osls, tmp_path):
    """The custom-authorizer example (app.py builds its OAuthProxy, which fetches the references once)."""
    import shutil

    from .deploy_helpers import osls_render
    from .test_deploy_examples import EXAMPLE, example_tree, placeholder_zip

    folder = example_tree(tmp_path, "serverless.yml") / EXAMPLE
    shutil.copy(ROOT / "tests" / "deploy" / "osls_plugins" / "no-aws.js", folder)
    with open(folder / "serverless.yml", "a") as f:
        f.write("\nplugins:\n  - ./no-aws.js\n")
    layer = placeholder_zip(tmp_path / "layer.zip", "python/oauth_proxy/__init__.py")
    template, path = osls_render(osls, tmp_path, "serverless.yml", f"layerArtifact={layer}", cwd=folder,
                                 env={"ENCRYPTION_KEY": "ssm:/oauth-proxy/cookie-key"})
    here = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
    assert role_statements(template) == [
        {"Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": {"Fn::Sub": here % ("ssm", "parameter/oauth-proxy/cookie-key")}}]
    cfn_lint(path, ignore=CFN_LINT_IGNORED)


def test_osls_literal_values_grant_nothing(osls, tmp_path, placeholder_zip):
    template, _ = render(osls, tmp_path, "serverless.yml", f"artifact={placeholder_zip}",
                         env={"SECRETS_KMS_KEY_ARN": KMS_ARN})
    assert role_statements(template) == []


def test_key_rotation_stack_renders_and_grants_the_secret_only(tmp_path):
    """deploy/key-rotation/template.yaml: the secret, the rotation function (key_rotation.py, tested against
    moto in tests/test_key_rotation.py), its invoke permission for Secrets Manager and the schedule."""
    import shutil

    folder = ROOT / "deploy" / "key-rotation"
    cfn_lint(folder / "template.yaml")
    source = sam.load(folder / "template.yaml")
    shutil.copytree(folder, tmp_path / "stack")
    sam.package(source, tmp_path / "stack")
    rendered = sam.translate(source)
    path = tmp_path / "rendered.json"
    path.write_text(__import__("json").dumps(rendered))
    cfn_lint(path)

    fn = of_type(rendered, "AWS::Lambda::Function")["KeyRotationFunction"]
    assert fn["Handler"] == "key_rotation.handler" and fn["Runtime"].startswith("python3.")
    (schedule,) = of_type(rendered, "AWS::SecretsManager::RotationSchedule").values()
    assert schedule["SecretId"] == {"Ref": "CookieKeySecret"}
    assert schedule["RotationLambdaARN"] == {"Fn::GetAtt": ["KeyRotationFunction", "Arn"]}
    (permission,) = of_type(rendered, "AWS::Lambda::Permission").values()
    assert permission["Principal"] == "secretsmanager.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": "CookieKeySecret"}
    for kms in ("", KMS_ARN):
        params = sam.parameters(source, KmsKeyArn=kms)
        conds = sam.conditions(source, params)
        (role,) = of_type(rendered, "AWS::IAM::Role").values()
        policies = without_no_value(sam.evaluate(role["Policies"], params, conds))
        statements = [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]
        assert statements[0]["Resource"] == "<CookieKeySecret>"
        assert statements[1:] == ([{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                    "Resource": KMS_ARN}] if kms else [])
