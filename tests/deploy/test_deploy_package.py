"""`osls package` renders the CloudFormation templates offline; cfn-lint
passes on them; they say what docs/deploy/ promises."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml  # PyYAML comes with cfn-lint

from .deploy_helpers import (CFN_LINT_IGNORED, CONTRACT_VARIABLES, ORIGIN, PREFIX, ROOT, cfn_lint,
                             node_tool_env, of_type, uncomment_example)
from .deploy_helpers import osls_package as package
from .deploy_helpers import osls_render as render



@pytest.fixture(scope="module")
def rest(osls, tmp_path_factory, placeholder_zip) -> tuple[dict, Path]:
    return render(osls, tmp_path_factory.mktemp("rest"), "serverless.yml",
                  f"artifact={placeholder_zip}")


def test_rest_api_template_passes_cfn_lint(rest):
    cfn_lint(rest[1], ignore=CFN_LINT_IGNORED)


def test_http_api_template_passes_cfn_lint(osls, tmp_path, placeholder_zip):
    _, path = render(osls, tmp_path, "serverless.http-api.yml",
                     f"artifact={placeholder_zip}")
    cfn_lint(path, ignore=CFN_LINT_IGNORED)


def test_rest_api_authorizer_methods_and_mapping(rest):
    t = rest[0]
    fn = of_type(t, "AWS::Lambda::Function")["AuthorizerLambdaFunction"]
    assert fn["Handler"] == "handler.handler"
    assert fn["Runtime"].startswith("python3.")
    assert fn["Architectures"] == ["x86_64"]
    assert set(fn["Environment"]["Variables"]) == set(CONTRACT_VARIABLES)

    # Reads and writes have an authorizer each, on the same function; at the default TTL (0) the Cookie
    # header is their one identity source (test_deploy_cache.py: the TTL above 0).
    authorizers = of_type(t, "AWS::ApiGateway::Authorizer")
    assert set(authorizers) == {"AuthorizerApiGatewayAuthorizer", "AuthorizerWritesApiGatewayAuthorizer"}
    for auth in authorizers.values():
        assert auth["Type"] == "REQUEST"
        assert auth["IdentitySource"] == "method.request.header.Cookie"
        assert auth["AuthorizerResultTtlInSeconds"] == 0
        assert "AuthorizerLambdaFunction" in json.dumps(auth["AuthorizerUri"])

    methods = {m["HttpMethod"]: m for m in of_type(t, "AWS::ApiGateway::Method").values()}
    assert set(methods) == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    for verb in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        m = methods[verb]
        assert m["AuthorizationType"] == "CUSTOM"
        assert m["AuthorizerId"] == {"Ref": "AuthorizerApiGatewayAuthorizer" if verb == "GET"
                                     else "AuthorizerWritesApiGatewayAuthorizer"}
        assert m["Integration"]["Type"] == "HTTP_PROXY"
        assert m["Integration"]["Uri"] == "https://api.example.com/{proxy}"
        assert m["Integration"]["RequestParameters"][
            "integration.request.header.Authorization"] == "context.authorizer.token"

    # Pre-flight: no authorizer, CORS headers for the trusted origin only.
    options = methods["OPTIONS"]
    assert options["AuthorizationType"] == "NONE"
    headers = options["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
    assert headers["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
    assert f"x-{PREFIX}-csrf" in headers["method.response.header.Access-Control-Allow-Headers"]
    # CSRF_MODE=header's custom header, allowed in both modes (a migration sends it before the switch).
    assert "token-handler-version" in headers["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")


def test_rest_api_user_id_header_example(osls, tmp_path, placeholder_zip):
    """serverless.yml's commented-out example, switched on, maps the `sub` claim
    the authorizer adds with CONTEXT_CLAIMS=sub into X-User-Id, next to the token."""
    service = tmp_path / "service"
    service.mkdir()
    text = uncomment_example((ROOT / "serverless.yml").read_text(), "user id header")
    (service / "serverless.yml").write_text(text)
    shutil.copytree(ROOT / "deploy", service / "deploy")
    (service / "node_modules").symlink_to(ROOT / "node_modules")
    t, path = render(osls, tmp_path, "serverless.yml", f"artifact={placeholder_zip}", cwd=service)
    methods = [m for m in of_type(t, "AWS::ApiGateway::Method").values() if m["HttpMethod"] != "OPTIONS"]
    assert len(methods) == 5
    for m in methods:
        assert m["Integration"]["RequestParameters"] == {
            "integration.request.path.proxy": "method.request.path.proxy",
            "integration.request.header.Authorization": "context.authorizer.token",
            "integration.request.header.X-User-Id": "context.authorizer.sub",
            "integration.request.header.Cookie": "''",
            f"integration.request.header.x-{PREFIX}-csrf": "''",
            "integration.request.header.token-handler-version": "''"}
    cfn_lint(path, ignore=CFN_LINT_IGNORED)


def test_rest_api_gateway_responses(rest):
    t = rest[0]
    responses = {r["ResponseType"]: r
                 for r in of_type(t, "AWS::ApiGateway::GatewayResponse").values()}
    expected = {"UNAUTHORIZED": "401", "ACCESS_DENIED": "403",
                "AUTHORIZER_FAILURE": "500", "AUTHORIZER_CONFIGURATION_ERROR": "500",
                "DEFAULT_4XX": None, "DEFAULT_5XX": None}
    assert set(responses) == set(expected)
    for kind, status in expected.items():
        r = responses[kind]
        assert r.get("StatusCode") == status, kind
        assert r["ResponseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
        assert r["ResponseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Credentials"] == "'true'"
        body = json.loads(r["ResponseTemplates"]["application/json"])
        assert set(body) == {"code", "message"}, kind


def test_arm64_is_a_parameter(osls, tmp_path, placeholder_zip):
    t, _ = render(osls, tmp_path, "serverless.yml", "architecture=arm64",
                  f"artifact={placeholder_zip}")
    fn = of_type(t, "AWS::Lambda::Function")["AuthorizerLambdaFunction"]
    assert fn["Architectures"] == ["arm64"]


def test_rest_api_refuses_several_origins_without_cors_origin(osls, tmp_path,
                                                              placeholder_zip):
    several = {"TRUSTED_WEB_ORIGINS": "https://a.example.com, https://b.example.com"}
    proc, _ = package(osls, tmp_path, "serverless.yml", f"artifact={placeholder_zip}",
                      env=several)
    assert proc.returncode != 0
    assert "set CORS_ORIGIN" in proc.stdout + proc.stderr
    t, _ = render(osls, tmp_path / "2", "serverless.yml", f"artifact={placeholder_zip}",
                  env={**several, "CORS_ORIGIN": "https://b.example.com"})
    (r, *_) = of_type(t, "AWS::ApiGateway::GatewayResponse").values()
    assert r["ResponseParameters"][
        "gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://b.example.com'"


def test_http_api_variant(osls, tmp_path, placeholder_zip):
    several = "https://a.example.com,https://b.example.com"
    t, _ = render(osls, tmp_path, "serverless.http-api.yml", f"artifact={placeholder_zip}",
                  env={"TRUSTED_WEB_ORIGINS": several})
    authorizers = of_type(t, "AWS::ApiGatewayV2::Authorizer")
    assert set(authorizers) == {"HttpApiAuthorizer", "HttpApiWritesAuthorizer"}
    for auth in authorizers.values():
        assert auth["AuthorizerType"] == "REQUEST"
        assert auth["AuthorizerPayloadFormatVersion"] == "2.0"
        assert auth["EnableSimpleResponses"] is True
        assert auth["AuthorizerResultTtlInSeconds"] == 0
        assert auth["IdentitySource"] == ["$request.header.Cookie"]
    (integration,) = of_type(t, "AWS::ApiGatewayV2::Integration").values()
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["RequestParameters"] == {
        "overwrite:header.Authorization": "$context.authorizer.token",
        "remove:header.cookie": "''", f"remove:header.x-{PREFIX}-csrf": "''",
        "remove:header.token-handler-version": "''"}
    routes = of_type(t, "AWS::ApiGatewayV2::Route").values()
    assert {r["RouteKey"].split()[0] for r in routes} == {"GET", "POST", "PUT", "PATCH",
                                                          "DELETE"}
    assert all(r["AuthorizationType"] == "CUSTOM" for r in routes)
    assert {r["RouteKey"].split()[0]: r["AuthorizerId"]["Ref"] for r in routes} == {
        "GET": "HttpApiAuthorizer", "POST": "HttpApiWritesAuthorizer", "PUT": "HttpApiWritesAuthorizer",
        "PATCH": "HttpApiWritesAuthorizer", "DELETE": "HttpApiWritesAuthorizer"}
    (api,) = of_type(t, "AWS::ApiGatewayV2::Api").values()
    assert api["CorsConfiguration"]["AllowOrigins"] == several.split(",")
    assert api["CorsConfiguration"]["AllowCredentials"] is True
    assert "token-handler-version" in api["CorsConfiguration"]["AllowHeaders"]
    fn = of_type(t, "AWS::Lambda::Function")["AuthorizerLambdaFunction"]
    assert set(fn["Environment"]["Variables"]) == set(CONTRACT_VARIABLES)


def test_env_template_lists_every_contract_variable():
    text = (ROOT / ".env-template").read_text()
    # Commented-out lines count: they show the variable and leave the default.
    names = set(re.findall(r"^#?([A-Z_]+)=", text, re.MULTILINE))
    assert set(CONTRACT_VARIABLES) <= names
    # The example key must not be usable as a key: the authorizer refuses it.
    (key,) = re.findall(r"^ENCRYPTION_KEY=(.*)$", text, re.M)
    assert not re.fullmatch(r"[0-9a-fA-F]{64}", key)
    assert ".venv/bin/oauth-proxy keygen" in text  # the installed command: works from the repository root


def test_env_template_as_dotenv_gives_a_working_configuration(osls, tmp_path):
    """A user's first step: copy .env-template to .env. osls reads it and refuses to package while the
    placeholder key is there (naming the variable and the command that makes a key), rather than deploying a
    function that answers every request 500; with a key in its place, the function's environment it renders
    is a configuration the authorizer accepts."""
    import oauth_proxy

    service = tmp_path / "service"
    service.mkdir()
    shutil.copy(ROOT / "serverless.yml", service)
    shutil.copytree(ROOT / "deploy", service / "deploy")
    template = (ROOT / ".env-template").read_text()
    (service / ".env").write_text(template)
    (service / "node_modules").symlink_to(ROOT / "node_modules")
    with zipfile.ZipFile(service / "placeholder.zip", "w") as z:
        z.writestr("handler.py", "")

    def run_package(out: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            osls + ["package", "--package", str(tmp_path / out), "--param=artifact=placeholder.zip"],
            cwd=service, env=node_tool_env(), capture_output=True, text=True, timeout=180)

    refused = run_package("refused")
    assert refused.returncode != 0
    assert "ENCRYPTION_KEY of function authorizer must be 64 hex characters" in refused.stdout + refused.stderr
    assert "oauth-proxy keygen" in refused.stdout + refused.stderr
    assert not (tmp_path / "refused").exists()

    key = "ab" * 32
    (service / ".env").write_text(re.sub(r"^ENCRYPTION_KEY=.*$", f"ENCRYPTION_KEY={key}", template, flags=re.M))
    proc = run_package("out")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    template = json.loads((tmp_path / "out" / "cloudformation-template-update-stack.json").read_text())
    env = of_type(template, "AWS::Lambda::Function")["AuthorizerLambdaFunction"]["Environment"]["Variables"]
    assert env["TRUSTED_WEB_ORIGINS"] == ORIGIN
    assert env["ENCRYPTION_KEY"] == key
    # Unset (empty): the core probes the system trust store wherever the distribution keeps it.
    assert env["INTROSPECTION_CA_FILE"] == ""
    oauth_proxy.OAuthProxy(oauth_proxy.Config.from_env(env))


@pytest.mark.parametrize("key", ["secretsmanager:oauth-proxy/cookie-key", "ssm:/oauth-proxy/cookie-key"])
def test_packaging_accepts_a_key_reference(osls, tmp_path, placeholder_zip, key):
    """The key check lets through the references the authorizer resolves at run time."""
    proc, _ = package(osls, tmp_path, "serverless.yml", f"artifact={placeholder_zip}", env={"ENCRYPTION_KEY": key})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_emulator_project_uses_the_deployed_authorizer_settings(rest):
    """The serverless-offline project (make offline) must keep the authorizer
    settings and the routes of the serverless.yml users deploy (as rendered
    with the default TTL, 0, which the emulator's gateway does not cache
    anyway), or the end-to-end and browser tests prove something else."""
    deployed = {(a["Type"].lower(), a["IdentitySource"], a["AuthorizerResultTtlInSeconds"])
                for a in of_type(rest[0], "AWS::ApiGateway::Authorizer").values()}
    emulated_file = ROOT / "deploy" / "offline" / "serverless.yml"
    emulated = {(e["http"]["authorizer"]["type"], e["http"]["authorizer"]["identitySource"],
                 e["http"]["authorizer"]["resultTtlInSeconds"])
                for fn in yaml.safe_load(emulated_file.read_text())["functions"].values()
                for e in fn.get("events", [])}
    assert deployed == emulated == {("request", "method.request.header.Cookie", 0)}
    deployed_file = ROOT / "serverless.yml"

    def routes(path):
        return {(e["http"]["method"], e["http"]["path"])
                for fn in yaml.safe_load(path.read_text())["functions"].values()
                for e in fn.get("events", [])}
    assert routes(emulated_file) == routes(deployed_file)
    runtimes = {yaml.safe_load(f.read_text())["provider"]["runtime"]
                for f in (deployed_file, emulated_file)}
    assert len(runtimes) == 1, runtimes
