"""template.yaml (AWS SAM) renders offline through aws-sam-translator, cfn-lint
passes on it and on the CloudFormation it becomes, and it builds the same API as
serverless.yml / serverless.http-api.yml."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from . import sam_helpers as sam
from .deploy_helpers import (CONTRACT_VARIABLES, ORIGIN, PREFIX, ROOT, cfn_lint, of_type,
                             uncomment_example)

TEMPLATE = ROOT / "template.yaml"
UPSTREAM = "https://api.example.com"
DATA_METHODS = {"get", "post", "put", "patch", "delete"}
# What the REST integrations send instead of the session cookies and CSRF headers (test_deploy_cache.py).
REMOVED = {"integration.request.header.Cookie": "''", f"integration.request.header.x-{PREFIX}-csrf": "''",
           "integration.request.header.token-handler-version": "''"}
# Parameters a user must give (the rest have defaults).
REQUIRED = {"TrustedWebOrigins": ORIGIN, "CookieNamePrefix": PREFIX, "EncryptionKey": "0" * 64,
            "UpstreamApiUrl": UPSTREAM}


@pytest.fixture(scope="module")
def source() -> dict:
    return sam.load(TEMPLATE)


def render(source: dict, base: Path) -> tuple[dict, Path]:
    """`sam deploy` offline: the artifact path replaced by its S3 upload, then the SAM transform."""
    template = json.loads(json.dumps(source))
    code_uri = template["Resources"]["AuthorizerFunction"]["Properties"]["CodeUri"]
    (base / code_uri).parent.mkdir(parents=True)
    with zipfile.ZipFile(base / code_uri, "w") as z:  # placeholder; the real zip: test_deploy_artifact.py
        z.writestr("handler.py", "")
    sam.package(template, base)
    out = sam.translate(template)
    path = base / "cloudformation.json"
    path.write_text(json.dumps(out, indent=1))
    return out, path


@pytest.fixture(scope="module")
def rendered(source, tmp_path_factory) -> tuple[dict, Path]:
    return render(source, tmp_path_factory.mktemp("sam"))


def rest_body(rendered: dict) -> dict:
    (api,) = of_type(rendered, "AWS::ApiGateway::RestApi").values()
    return api["Body"]


def test_sam_template_passes_cfn_lint():
    cfn_lint(TEMPLATE)


def test_rendered_template_passes_cfn_lint(rendered):
    cfn_lint(rendered[1])


def test_function_is_the_artifact_with_every_configuration_variable(source, rendered):
    props = source["Resources"]["AuthorizerFunction"]["Properties"]
    # The zip scripts/build_artifact writes, for the default architecture.
    assert props["CodeUri"] == "artifact/oauth-proxy-lambda-x86_64.zip"
    assert source["Parameters"]["Architecture"]["Default"] == "x86_64"

    fn = of_type(rendered[0], "AWS::Lambda::Function")["AuthorizerFunction"]
    assert fn["Handler"] == "handler.handler"
    assert fn["Runtime"].startswith("python3.")
    env = fn["Environment"]["Variables"]
    assert set(env) == set(CONTRACT_VARIABLES)
    # Each variable comes from its own parameter, so `sam deploy --guided` asks for every one. The key and
    # the client secret may come from a secret's ARN or a parameter's name instead (test_deploy_secrets.py):
    # with those empty, they are their parameter's value as well.
    params = sam.parameters(source, **REQUIRED, ClientSecret="s3cret")
    for name in CONTRACT_VARIABLES:
        if name in ("ENCRYPTION_KEY", "CLIENT_SECRET"):
            assert sam.evaluate(env[name], params, sam.conditions(source, params)) == params[sam.camel(name)], name
        else:
            assert env[name] == {"Ref": sam.camel(name)}, name
    for secret in ("EncryptionKey", "PreviousEncryptionKeys", "ClientSecret"):
        assert source["Parameters"][secret].get("NoEcho") is True, secret


def test_same_runtime_memory_and_timeout_as_serverless_yml(rendered):
    provider = yaml.safe_load((ROOT / "serverless.yml").read_text())["provider"]
    fn = of_type(rendered[0], "AWS::Lambda::Function")["AuthorizerFunction"]
    assert fn["Runtime"] == provider["runtime"]
    assert fn["MemorySize"] == provider["memorySize"]
    assert fn["Timeout"] == provider["timeout"]
    (logs,) = of_type(rendered[0], "AWS::Logs::LogGroup").values()
    assert logs["RetentionInDays"] == provider["logRetentionInDays"]


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_architecture_is_a_parameter(source, rendered, arch):
    fn = of_type(rendered[0], "AWS::Lambda::Function")["AuthorizerFunction"]
    params = sam.parameters(source, **REQUIRED, Architecture=arch)
    assert sam.evaluate(fn["Architectures"], params) == [arch]
    assert set(source["Parameters"]["Architecture"]["AllowedValues"]) == {"x86_64", "arm64"}


def test_documented_arm64_command_points_the_template_at_the_arm64_zip(tmp_path):
    """SAM packages CodeUri before parameters exist; the sed line of docs/deploy/sam.md makes the arm64 copy."""
    page = (ROOT / "docs" / "deploy" / "sam.md").read_text()
    (command,) = [line for line in page.splitlines() if line.startswith("sed ")]
    shutil.copy(TEMPLATE, tmp_path)
    subprocess.run(command, shell=True, cwd=tmp_path, check=True, timeout=30)
    arm = sam.load(tmp_path / "template-arm64.yaml")
    assert arm["Resources"]["AuthorizerFunction"]["Properties"]["CodeUri"] == \
        "artifact/oauth-proxy-lambda-arm64.zip"
    source = sam.load(TEMPLATE)
    for part in ("Parameters", "Conditions", "Outputs"):
        assert arm[part] == source[part]
    out, _ = render(arm, tmp_path)
    fn = of_type(out, "AWS::Lambda::Function")["AuthorizerFunction"]
    assert sam.evaluate(fn["Architectures"], sam.parameters(arm, **REQUIRED, Architecture="arm64")) == ["arm64"]


def test_rest_api_authorizer(source, rendered):
    t = rendered[0]
    params = sam.parameters(source, **REQUIRED)
    schemes = sam.evaluate(rest_body(t)["components"]["securitySchemes"], params, sam.conditions(source, params))
    # Reads and writes have an authorizer each, on the same function; at the default TTL (0) the Cookie
    # header is their one identity source (test_deploy_cache.py: the TTL above 0).
    assert set(schemes) == {"OAuthProxy", "OAuthProxyWrites"}
    for scheme in schemes.values():
        auth = scheme["x-amazon-apigateway-authorizer"]
        assert auth["type"] == "request"
        assert auth["identitySource"] == "method.request.header.Cookie"
        # 0, not left out: a REST authorizer without a TTL caches for 300 s.
        assert auth["authorizerResultTtlInSeconds"] == 0
        assert "AuthorizerFunction.Arn" in json.dumps(auth["authorizerUri"])
    # API Gateway may invoke the function as an authorizer of this API.
    perms = [p for p in of_type(t, "AWS::Lambda::Permission").values()
             if "RestApi" in json.dumps(p["SourceArn"])]
    assert len(perms) == 1
    assert perms[0]["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert perms[0]["Principal"] == "apigateway.amazonaws.com"


def test_rest_api_methods_and_mapping(source, rendered):
    params = sam.parameters(source, **REQUIRED)
    paths = sam.evaluate(rest_body(rendered[0])["paths"], params, sam.conditions(source, params))
    assert set(paths) == {"/api/{proxy+}"}
    methods = paths["/api/{proxy+}"]
    assert set(methods) == DATA_METHODS | {"options"}
    for verb in DATA_METHODS:
        m = methods[verb]
        assert m["security"] == [{"OAuthProxy" if verb == "get" else "OAuthProxyWrites": []}], verb
        integration = m["x-amazon-apigateway-integration"]
        assert integration["type"] == "http_proxy"
        assert integration["uri"] == f"{UPSTREAM}/{{proxy}}"
        assert integration["requestParameters"] == {
            "integration.request.path.proxy": "method.request.path.proxy",
            "integration.request.header.Authorization": "context.authorizer.token", **REMOVED}

    # Pre-flight: no authorizer, CORS headers for the trusted origin only.
    options = methods["options"]
    assert "security" not in options
    integration = options["x-amazon-apigateway-integration"]
    assert integration["type"] == "mock"
    headers = integration["responses"]["default"]["responseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
    assert headers["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
    assert f"x-{PREFIX}-csrf" in headers["method.response.header.Access-Control-Allow-Headers"]
    assert "token-handler-version" in headers["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")


def test_rest_api_user_id_header_example(tmp_path):
    """The commented-out example, switched on, maps the `sub` claim the
    authorizer adds with CONTEXT_CLAIMS=sub into X-User-Id on every data method."""
    path = tmp_path / "template.yaml"
    path.write_text(uncomment_example(TEMPLATE.read_text(), "user id header"))
    out, rendered_path = render(sam.load(path), tmp_path)
    params = sam.parameters(sam.load(path), **REQUIRED)
    methods = sam.evaluate(rest_body(out)["paths"]["/api/{proxy+}"], params, sam.conditions(out, params))
    for verb in DATA_METHODS:
        assert methods[verb]["x-amazon-apigateway-integration"]["requestParameters"] == {
            "integration.request.path.proxy": "method.request.path.proxy",
            "integration.request.header.Authorization": "context.authorizer.token",
            "integration.request.header.X-User-Id": "context.authorizer.sub", **REMOVED}, verb
    cfn_lint(rendered_path)


def serverless_gateway_responses() -> dict[str, dict]:
    resources = yaml.safe_load((ROOT / "serverless.yml").read_text())["resources"]["Resources"]
    return {r["Properties"]["ResponseType"]: r["Properties"] for r in resources.values()
            if r["Type"] == "AWS::ApiGateway::GatewayResponse"}


@pytest.mark.parametrize("cors_origin", ["", "https://b.example.com"])
def test_rest_api_gateway_responses(source, rendered, cors_origin):
    origins = ORIGIN if not cors_origin else f"https://a.example.com,{cors_origin}"
    params = sam.parameters(source, **{**REQUIRED, "TrustedWebOrigins": origins}, CorsOrigin=cors_origin)
    responses = sam.evaluate(rest_body(rendered[0])["x-amazon-apigateway-gateway-responses"], params,
                             sam.conditions(source, params))
    expected = serverless_gateway_responses()
    assert set(expected) == {"UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE",
                             "AUTHORIZER_CONFIGURATION_ERROR", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert set(responses) == set(expected)
    for kind, osls in expected.items():
        r = responses[kind]
        assert r.get("statusCode") == osls.get("StatusCode"), kind
        # The same bodies as serverless.yml's: {"code", "message"}.
        assert r["responseTemplates"] == osls["ResponseTemplates"], kind
        assert set(json.loads(r["responseTemplates"]["application/json"])) == {"code", "message"}
        headers = r["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{cors_origin or ORIGIN}'"
        assert headers["gatewayresponse.header.Access-Control-Allow-Credentials"] == "'true'"
        assert headers["gatewayresponse.header.Vary"] == "'Origin'"


def test_api_type_selects_rest_or_http_resources(source, rendered):
    for api_type, kept, dropped in (("REST", "AWS::ApiGateway::", "AWS::ApiGatewayV2::"),
                                    ("HTTP", "AWS::ApiGatewayV2::", "AWS::ApiGateway::")):
        params = sam.parameters(source, **REQUIRED, ApiType=api_type)
        types = {r["Type"] for r in sam.present(rendered[0], params).values()}
        assert any(t.startswith(kept) for t in types), api_type
        assert not any(t.startswith(dropped) for t in types), api_type
        assert "AWS::Lambda::Function" in types
        # Exactly one invoke permission: the one for the API that exists.
        perms = [r for r in sam.present(rendered[0], params).values() if r["Type"] == "AWS::Lambda::Permission"]
        assert len(perms) == 1, api_type


def test_http_api_variant(source, rendered):
    several = "https://a.example.com,https://b.example.com"
    params = sam.parameters(source, **{**REQUIRED, "TrustedWebOrigins": several}, ApiType="HTTP")
    t = {"Resources": sam.evaluate(sam.present(rendered[0], params), params,
                                   sam.conditions(source, params))}
    # Type, payload format, simple responses, TTL, identity source and the mapping: the next test.
    for auth in of_type(t, "AWS::ApiGatewayV2::Authorizer").values():
        assert "<AuthorizerFunction.Arn>" in auth["AuthorizerUri"]
    (integration,) = of_type(t, "AWS::ApiGatewayV2::Integration").values()
    assert integration["IntegrationUri"] == f"{UPSTREAM}/{{proxy}}"
    routes = of_type(t, "AWS::ApiGatewayV2::Route").values()
    assert sorted(r["RouteKey"] for r in routes) == sorted(
        f"{m.upper()} /api/{{proxy+}}" for m in DATA_METHODS)
    assert all(r["AuthorizationType"] == "CUSTOM" for r in routes)
    (api,) = of_type(t, "AWS::ApiGatewayV2::Api").values()
    assert api["CorsConfiguration"]["AllowOrigins"] == several.split(",")
    assert api["CorsConfiguration"]["AllowCredentials"] is True
    assert f"x-{PREFIX}-csrf" in api["CorsConfiguration"]["AllowHeaders"]
    assert "token-handler-version" in api["CorsConfiguration"]["AllowHeaders"]


def test_http_api_matches_serverless_http_api_yml(rendered):
    """The HTTP API authorizers and integration are set as serverless.http-api.yml's (whose values
    test_deploy_package.py checks; the TTL, identity sources and header mapping, which osls resolves from
    deploy/*.js, are compared on both renders in test_deploy_cache.py)."""
    osls = yaml.safe_load((ROOT / "serverless.http-api.yml").read_text())["resources"]["Resources"]
    ours = rendered[0]["Resources"]
    for kind, fields in (("AWS::ApiGatewayV2::Authorizer",
                          ("Name", "AuthorizerType", "AuthorizerPayloadFormatVersion", "EnableSimpleResponses")),
                         ("AWS::ApiGatewayV2::Integration",
                          ("IntegrationType", "IntegrationMethod", "PayloadFormatVersion"))):
        theirs = sorted((r["Properties"] for r in osls.values() if r["Type"] == kind), key=repr)
        mine = [r["Properties"] for r in ours.values() if r["Type"] == kind]
        assert len(mine) == len(theirs), kind
        theirs_fields = sorted([{f: p.get(f, theirs[0].get(f)) for f in fields} for p in theirs], key=repr)
        assert sorted([{f: p[f] for f in fields} for p in mine], key=repr) == theirs_fields, kind


def test_origin_parameters_refuse_a_wildcard(source):
    params = source["Parameters"]
    assert re.fullmatch(params["TrustedWebOrigins"]["AllowedPattern"], f"{ORIGIN},https://b.example.com")
    assert not re.fullmatch(params["TrustedWebOrigins"]["AllowedPattern"], "*")
    assert not re.fullmatch(params["CorsOrigin"]["AllowedPattern"], "*")
    assert re.fullmatch(params["CorsOrigin"]["AllowedPattern"], "")


def test_a_prefix_whose_csrf_header_the_template_would_forward_is_refused():
    """CloudFormation cannot build a property name from a parameter, so template.yaml removes the CSRF header
    from upstream requests under a name written out. A rule holds CookieNamePrefix to that name: a deployment
    with another prefix fails instead of forwarding x-<prefix>-csrf to the upstream."""
    # template.yaml: the REST and the HTTP API definitions; the example: its REST API.
    for path, removals in ((ROOT / "template.yaml", 2), (ROOT / "examples" / "custom_authorizer" / "template.yaml", 1)):
        template = sam.load(path)
        assertion = template["Rules"]["UpstreamNeverReceivesTheCsrfHeader"]["Assertions"][0]["Assert"]
        reference, asserted = assertion["Fn::Equals"]
        assert reference == {"Ref": "CookieNamePrefix"}
        removed = re.findall(r"(?:integration\.request\.header|remove:header)\.x-([^\s:]+)-csrf:", path.read_text())
        assert removed == [asserted] * removals, path
        assert asserted == PREFIX  # the prefix the other SAM tests deploy with passes the rule
