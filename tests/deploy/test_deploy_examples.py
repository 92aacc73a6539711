"""The custom-authorizer example's deployment descriptions (SAM and osls)
attach this project's Lambda layer and AWS's Powertools layer to a function
that holds only app.py; both render offline and pass cfn-lint."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from . import sam_helpers as sam
from .deploy_helpers import (CFN_LINT_IGNORED, CONTRACT_VARIABLES, ORIGIN, PREFIX, ROOT, cfn_lint, of_type,
                             osls_render)

EXAMPLE = Path("examples") / "custom_authorizer"
UPSTREAM = "https://api.example.com"
POWERTOOLS = "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-{arch}:27"


def placeholder_zip(path: Path, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, "")
    return path


def example_tree(tmp_path: Path, *files: str) -> Path:
    """The repository's layout around the example: its deployment files, its app.py, and deploy/ for the
    shared function environment."""
    root = tmp_path / "repo"
    folder = root / EXAMPLE
    folder.mkdir(parents=True)
    for name in files:
        shutil.copy(ROOT / EXAMPLE / name, folder)
    shutil.copy(ROOT / EXAMPLE / "app.py", folder)
    (root / "deploy").symlink_to(ROOT / "deploy")
    return root


# --- SAM -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sam_source() -> dict:
    return sam.load(ROOT / EXAMPLE / "template.yaml")


@pytest.fixture(scope="module")
def sam_rendered(sam_source, tmp_path_factory) -> tuple[dict, dict, Path]:
    tmp = tmp_path_factory.mktemp("sam-example")
    root = example_tree(tmp, "template.yaml")
    placeholder_zip(root / "artifact" / "oauth-proxy-layer-x86_64.zip", "python/oauth_proxy/__init__.py")
    template = json.loads(json.dumps(sam_source))
    uploaded = sam.package(template, root / EXAMPLE)
    out = sam.translate(template)
    path = tmp / "cloudformation.json"
    path.write_text(json.dumps(out, indent=1))
    return out, uploaded, path


def test_sam_example_passes_cfn_lint(sam_rendered):
    cfn_lint(ROOT / EXAMPLE / "template.yaml")
    cfn_lint(sam_rendered[2])


def test_sam_example_uploads_the_layer_zip_and_the_example_folder(sam_rendered):
    _, uploaded, _ = sam_rendered
    # The layer zip scripts/build_artifact writes (for the default architecture), from the repository root.
    assert uploaded == {"OAuthProxyLayer": "../../artifact/oauth-proxy-layer-x86_64.zip",
                        "AuthorizerFunction": "."}


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_sam_example_function_has_both_layers(sam_source, sam_rendered, arch):
    out = sam_rendered[0]
    params = {**sam.parameters(sam_source, TrustedWebOrigins=ORIGIN, CookieNamePrefix=PREFIX,
                               EncryptionKey="0" * 64, UpstreamApiUrl=UPSTREAM, Architecture=arch),
              "AWS::Region": "eu-west-1", "AWS::Partition": "aws"}
    resolved = sam.evaluate(out["Resources"], params, sam.conditions(sam_source, params))
    (layer_id, layer), = ((k, v["Properties"]) for k, v in resolved.items()
                          if v["Type"] == "AWS::Lambda::LayerVersion")
    assert layer["Content"] == {"S3Bucket": "sam-artifacts", "S3Key": "OAuthProxyLayer.zip"}
    assert layer["CompatibleArchitectures"] == [arch]
    assert "python3.13" in layer["CompatibleRuntimes"]

    fn = resolved["AuthorizerFunction"]["Properties"]
    assert fn["Handler"] == "app.handler"
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == [arch]
    assert fn["Layers"] == [f"<{layer_id}>", POWERTOOLS.format(region="eu-west-1", arch=arch)]
    assert {"TRUSTED_WEB_ORIGINS", "COOKIE_NAME_PREFIX", "ENCRYPTION_KEY"} <= set(fn["Environment"]["Variables"])

    # Another Powertools layer (another partition, a pinned copy) by ARN.
    own = "arn:aws-cn:lambda:cn-north-1:498634801083:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:27"
    params["PowertoolsLayerArn"] = own
    fn = sam.evaluate(out["Resources"]["AuthorizerFunction"], params, sam.conditions(sam_source, params))
    assert fn["Properties"]["Layers"][1] == own


def test_sam_example_api(sam_rendered):
    out = sam_rendered[0]
    (api,) = of_type(out, "AWS::ApiGateway::RestApi").values()
    auth = api["Body"]["components"]["securitySchemes"]["TenantAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert auth["type"] == "request"
    assert auth["identitySource"] == "method.request.header.Cookie"
    assert auth["authorizerResultTtlInSeconds"] == 0
    (method,) = api["Body"]["paths"]["/{tenant}/{proxy+}"].values()
    assert method["security"] == [{"TenantAuthorizer": []}]
    mapping = method["x-amazon-apigateway-integration"]["requestParameters"]
    assert mapping["integration.request.header.Authorization"] == "context.authorizer.token"
    assert mapping["integration.request.header.X-Tenant"] == "context.authorizer.tenant"
    # Nothing of the session goes upstream (docs/caching.md).
    for header in ("Cookie", "x-example-csrf", "token-handler-version"):
        assert mapping[f"integration.request.header.{header}"] == "''"


# --- osls ----------------------------------------------------------------------------------------

def render_osls(osls, tmp_path: Path, *params: str) -> tuple[dict, Path, Path]:
    root = example_tree(tmp_path, "serverless.yml")
    folder = root / EXAMPLE
    # `osls package` asks CloudFormation whether a layer is deployed already; the test plugin answers
    # "no stack yet" so that nothing reaches for AWS.
    shutil.copy(ROOT / "tests" / "deploy" / "osls_plugins" / "no-aws.js", folder)
    with open(folder / "serverless.yml", "a") as f:
        f.write("\nplugins:\n  - ./no-aws.js\n")
    layer = placeholder_zip(tmp_path / "layer.zip", "python/oauth_proxy/__init__.py")
    t, path = osls_render(osls, tmp_path, "serverless.yml", f"layerArtifact={layer}", *params, cwd=folder)
    return t, path, tmp_path / "package"


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_osls_example_function_has_both_layers(osls, tmp_path, arch):
    t, path, out = render_osls(osls, tmp_path, f"architecture={arch}")
    (layer_id, layer), = ((k, v["Properties"]) for k, v in t["Resources"].items()
                          if v["Type"] == "AWS::Lambda::LayerVersion")
    assert layer["CompatibleArchitectures"] == [arch]
    assert "python3.13" in layer["CompatibleRuntimes"]
    fn = of_type(t, "AWS::Lambda::Function")["AuthorizerLambdaFunction"]
    assert fn["Handler"] == "app.handler"
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == [arch]
    assert fn["Layers"] == [{"Ref": layer_id}, POWERTOOLS.format(region="us-east-1", arch=arch)]
    # Configured like serverless.yml: every variable.
    assert set(fn["Environment"]["Variables"]) == set(CONTRACT_VARIABLES)
    # The function's own package: app.py and nothing else (oauth_proxy comes from the layer).
    (package,) = out.glob("*.zip")
    assert zipfile.ZipFile(package).namelist() == ["app.py"]

    (auth,) = of_type(t, "AWS::ApiGateway::Authorizer").values()
    assert auth["Type"] == "REQUEST"
    assert auth["IdentitySource"] == "method.request.header.Cookie"
    assert auth["AuthorizerResultTtlInSeconds"] == 0
    methods = of_type(t, "AWS::ApiGateway::Method").values()
    assert {m["HttpMethod"] for m in methods} == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    for m in methods:
        assert m["AuthorizationType"] == "CUSTOM"
        assert m["Integration"]["Uri"] == f"{UPSTREAM}/{{tenant}}/{{proxy}}"
        mapping = m["Integration"]["RequestParameters"]
        assert mapping["integration.request.header.Authorization"] == "context.authorizer.token"
        assert mapping["integration.request.header.X-Tenant"] == "context.authorizer.tenant"
        for header in ("Cookie", "x-example-csrf", "token-handler-version"):
            assert mapping[f"integration.request.header.{header}"] == "''"
    if arch == "x86_64":
        cfn_lint(path, ignore=CFN_LINT_IGNORED)


def test_osls_example_default_layer_artifact_is_the_built_one():
    import yaml

    params = yaml.safe_load((ROOT / EXAMPLE / "serverless.yml").read_text())["params"]["default"]
    assert params["layerArtifact"] == "../../artifact/oauth-proxy-layer-${param:architecture}.zip"
