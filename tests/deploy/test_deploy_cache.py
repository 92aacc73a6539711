"""The authorizer result cache and the upstream headers of the RENDERED deployment descriptions: osls renders
serverless.yml and serverless.http-api.yml, the SAM transform renders template.yaml, and the gateway model
(oauth_proxy.testing.gateway_cache) replays random request sequences through the authorizers and identity
sources they define, for TTL 0 and 300 and for both topologies (cross-origin; same-origin with
REQUIRE_ORIGIN=writes)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from gateway_cache_cases import first_violation, proxy, steps
from oauth_proxy.testing.gateway_cache import GatewayConfig

from . import sam_helpers as sam
from .deploy_helpers import CFN_LINT_IGNORED, PREFIX, ROOT, cfn_lint, of_type
from .deploy_helpers import osls_package as package
from .deploy_helpers import osls_render

TEMPLATE = ROOT / "template.yaml"
REQUIRED = {"TrustedWebOrigins": "https://www.example.com", "CookieNamePrefix": PREFIX,
            "EncryptionKey": "0" * 64, "UpstreamApiUrl": "https://api.example.com"}
TOPOLOGIES = {"cross-origin": {}, "same-origin": {"REQUIRE_ORIGIN": "writes"}}
CONFIGS = {"serverless.yml": "REST", "serverless.http-api.yml": "HTTP"}
CSRF = f"x-{PREFIX}-csrf"



class Renders:
    """osls renders, each made once per module."""

    def __init__(self, osls, tmp_path_factory, placeholder_zip):
        self.osls, self.tmp, self.zip = osls, tmp_path_factory, placeholder_zip
        self.done: dict[tuple, dict] = {}

    def __call__(self, config: str, ttl: int, env: dict[str, str] | None = None, *params: str) -> dict:
        key = (config, ttl, tuple(sorted((env or {}).items())), params)
        if key not in self.done:
            self.done[key], _ = osls_render(self.osls, self.tmp.mktemp("render"), config, f"artifact={self.zip}",
                                            f"authorizerTtl={ttl}", *params, env=env)
        return self.done[key]


@pytest.fixture(scope="module")
def osls_rendered(osls, tmp_path_factory, placeholder_zip) -> Renders:
    return Renders(osls, tmp_path_factory, placeholder_zip)


@pytest.fixture(scope="module")
def sam_rendered(tmp_path_factory) -> dict:
    template = sam.load(TEMPLATE)
    base = tmp_path_factory.mktemp("sam")
    code_uri = template["Resources"]["AuthorizerFunction"]["Properties"]["CodeUri"]
    (base / code_uri).parent.mkdir(parents=True)
    with zipfile.ZipFile(base / code_uri, "w") as z:
        z.writestr("handler.py", "")
    sam.package(template, base)
    return sam.translate(template)


def sam_stack(rendered: dict, **given: str) -> dict:
    """The resources a stack with these parameter values would hold, intrinsics resolved."""
    source = sam.load(TEMPLATE)
    params = sam.parameters(source, **{**REQUIRED, **given})
    conds = sam.conditions(rendered, params)
    present = sam.present(rendered, params)
    resources = sam.evaluate(present, params, conds)
    for name, res in present.items():  # ids only a deployment knows: keep the reference to the authorizer
        if "AuthorizerId" in res.get("Properties", {}):
            resources[name]["Properties"]["AuthorizerId"] = res["Properties"]["AuthorizerId"]
    return {"Resources": resources}


def no_value(mapping: dict) -> dict:
    """sam.evaluate leaves AWS::NoValue as "<AWS::NoValue>": CloudFormation drops such a key."""
    return {k: v for k, v in mapping.items() if v != "<AWS::NoValue>"}


def gateway(template: dict) -> GatewayConfig:
    return GatewayConfig.from_template(template)


def check(config: GatewayConfig, options: dict[str, Any]) -> None:
    authorizer = proxy(**options)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(sequence=steps)
    def prop(sequence):
        violation = first_violation(config, authorizer, sequence)
        assert violation is None, violation

    prop()


def authorizer_options(topology: str) -> dict[str, Any]:
    return {"require_origin": "writes"} if topology == "same-origin" else {}


@pytest.mark.parametrize("ttl", [0, 300])
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_osls_descriptions_never_let_a_cached_answer_allow_more(osls_rendered, config, topology, ttl):
    template = osls_rendered(config, ttl, TOPOLOGIES[topology])
    model = gateway(template)
    assert model.api_type == CONFIGS[config]
    assert {r.method for r in model.routes if r.authorizer} == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    cached = {spec.name: spec.ttl for spec in model.authorizers.values()}
    if ttl == 0:
        assert set(cached.values()) == {0}
    else:
        # Writes always cache; reads only where the Origin can be in the key.
        assert sorted(cached.values()) == ([0, ttl] if topology == "same-origin" else [ttl, ttl])
    check(model, authorizer_options(topology))


@pytest.mark.parametrize("ttl", ["0", "300"])
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_sam_template_never_lets_a_cached_answer_allow_more(sam_rendered, api_type, topology, ttl):
    stack = sam_stack(sam_rendered, ApiType=api_type, AuthorizerResultTtl=ttl,
                      RequireOrigin=TOPOLOGIES[topology].get("REQUIRE_ORIGIN", ""))
    model = gateway(stack)
    assert model.api_type == api_type
    assert {r.method for r in model.routes if r.authorizer} == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    ttls = sorted(spec.ttl for spec in model.authorizers.values())
    assert ttls == ([0, 0] if ttl == "0" else [0, 300] if topology == "same-origin" else [300, 300])
    check(model, authorizer_options(topology))


def test_http_api_route_scopes_are_cached_with_the_route_key(osls_rendered, sam_rendered):
    options = {"route_scopes": "DELETE /api/{proxy+}=admin"}
    model = gateway(osls_rendered("serverless.http-api.yml", 300, {"ROUTE_SCOPES": options["route_scopes"]}))
    assert all("$context.routeKey" in s.identity_sources for s in model.authorizers.values())
    check(model, options)
    check(gateway(sam_stack(sam_rendered, ApiType="HTTP", AuthorizerResultTtl="300",
                            RouteScopes=options["route_scopes"])), options)


def test_a_cookie_only_key_in_a_rendered_description_is_caught(osls_rendered):
    """The property is not vacuous: the rendered REST API with its identity sources cut down to the Cookie
    header fails it."""
    template = json.loads(json.dumps(osls_rendered("serverless.yml", 300)))
    for res in of_type(template, "AWS::ApiGateway::Authorizer").values():
        res["IdentitySource"] = "method.request.header.Cookie"
    model = gateway(template)
    authorizer = proxy()
    found = find(steps, lambda seq: first_violation(model, authorizer, seq) is not None,
                 settings=settings(max_examples=5000, deadline=None, database=None, derandomize=True,
                                   phases=[Phase.generate]))
    assert first_violation(model, authorizer, found) is not None


def test_identity_sources_above_ttl_zero(osls_rendered):
    rest = of_type(osls_rendered("serverless.yml", 300), "AWS::ApiGateway::Authorizer")
    assert {a["Name"]: a["IdentitySource"].split(",") for a in rest.values()} == {
        "authorizer": ["method.request.header.Cookie", "method.request.header.Origin", "context.httpMethod"],
        "authorizerWrites": ["method.request.header.Cookie", "method.request.header.Origin", "context.httpMethod",
                             f"method.request.header.{CSRF}"]}
    http = of_type(osls_rendered("serverless.http-api.yml", 300), "AWS::ApiGatewayV2::Authorizer")
    base = ["$request.header.Cookie", "$request.header.Origin", "$context.httpMethod", "$context.routeKey"]
    assert {a["Name"]: a["IdentitySource"] for a in http.values()} == {
        "oauth-proxy": base, "oauth-proxy-writes": base + [f"$request.header.{CSRF}"]}


@pytest.mark.parametrize("config,env,message", [
    ("serverless.yml", {"ALLOW_TOKEN": "TRUE"}, "ALLOW_TOKEN"),
    ("serverless.http-api.yml", {"ALLOW_TOKEN": "true"}, "ALLOW_TOKEN"),
    ("serverless.yml", {"ROUTE_SCOPES": "GET /api/{proxy+}=read"}, "ROUTE_SCOPES"),
])
def test_osls_refuses_a_ttl_it_cannot_make_safe(osls, placeholder_zip, tmp_path, config, env, message):
    proc, _ = package(osls, tmp_path, config, f"artifact={placeholder_zip}", "authorizerTtl=300", env=env)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr and "docs/caching.md" in proc.stdout + proc.stderr
    # At TTL 0 the same settings deploy.
    proc, _ = package(osls, tmp_path / "zero", config, f"artifact={placeholder_zip}", "authorizerTtl=0", env=env)
    assert proc.returncode == 0, proc.stdout[-2000:]


@pytest.mark.parametrize("ttl", ["-1", "3601", "ten"])
def test_osls_refuses_a_ttl_out_of_range(osls, placeholder_zip, tmp_path, ttl):
    proc, _ = package(osls, tmp_path, "serverless.yml", f"artifact={placeholder_zip}", f"authorizerTtl={ttl}")
    assert proc.returncode != 0 and "authorizerTtl" in proc.stdout + proc.stderr


@pytest.mark.parametrize("given", [{"AllowToken": "tRuE"}, {"AllowToken": "true"},
                                   {"RouteScopes": "GET /api/{proxy+}=read"}])
def test_sam_keeps_rest_ttl_at_zero_where_caching_cannot_be_safe(sam_rendered, given):
    model = gateway(sam_stack(sam_rendered, ApiType="REST", AuthorizerResultTtl="300", **given))
    assert {s.ttl for s in model.authorizers.values()} == {0}
    assert {s.identity_sources for s in model.authorizers.values()} == {("method.request.header.Cookie",)}


def test_sam_http_api_with_allow_token_does_not_cache(sam_rendered):
    model = gateway(sam_stack(sam_rendered, ApiType="HTTP", AuthorizerResultTtl="300", AllowToken="true"))
    assert {s.ttl for s in model.authorizers.values()} == {0}


REMOVED_REST = {"integration.request.header.Cookie": "''", f"integration.request.header.{CSRF}": "''",
                "integration.request.header.token-handler-version": "''"}
REMOVED_HTTP = {"remove:header.cookie": "''", f"remove:header.{CSRF}": "''",
                "remove:header.token-handler-version": "''"}


def rest_integrations(template: dict) -> list[dict]:
    out = [m["Integration"]["RequestParameters"] for m in of_type(template, "AWS::ApiGateway::Method").values()
           if m["HttpMethod"] != "OPTIONS"]
    for api in of_type(template, "AWS::ApiGateway::RestApi").values():
        for path in api.get("Body", {}).get("paths", {}).values():
            out += [no_value(op["x-amazon-apigateway-integration"]["requestParameters"])
                    for verb, op in path.items() if verb != "options"]
    return out


def test_upstream_gets_no_cookie_and_no_csrf_headers(osls_rendered, sam_rendered):
    for template in (osls_rendered("serverless.yml", 0), sam_stack(sam_rendered, ApiType="REST")):
        params = rest_integrations(template)
        assert len(params) == 5
        for p in params:
            assert p["integration.request.header.Authorization"] == "context.authorizer.token"
            assert {k: p.get(k) for k in REMOVED_REST} == REMOVED_REST
    for template in (osls_rendered("serverless.http-api.yml", 0), sam_stack(sam_rendered, ApiType="HTTP")):
        (integration,) = of_type(template, "AWS::ApiGatewayV2::Integration").values()
        assert no_value(integration["RequestParameters"]) == {
            "overwrite:header.Authorization": "$context.authorizer.token", **REMOVED_HTTP}


def test_keep_cookie_header_is_an_explicit_option(osls_rendered, sam_rendered):
    for template in (osls_rendered("serverless.yml", 0, None, "keepCookieHeader=true"),
                     sam_stack(sam_rendered, ApiType="REST", KeepCookieHeader="true")):
        for p in rest_integrations(template):
            assert "integration.request.header.Cookie" not in p
            assert p[f"integration.request.header.{CSRF}"] == "''"
    for template in (osls_rendered("serverless.http-api.yml", 0, None, "keepCookieHeader=true"),
                     sam_stack(sam_rendered, ApiType="HTTP", KeepCookieHeader="true")):
        (integration,) = of_type(template, "AWS::ApiGatewayV2::Integration").values()
        params = no_value(integration["RequestParameters"])
        assert "remove:header.cookie" not in params and f"remove:header.{CSRF}" in params


@pytest.mark.parametrize("ttl", [0, 300])
def test_sam_http_api_matches_serverless_http_api_yml(osls_rendered, sam_rendered, ttl):
    """The two HTTP API descriptions cache and map headers alike."""
    def fields(template: dict) -> tuple:
        auths = sorted((a["Name"], a["AuthorizerResultTtlInSeconds"], tuple(a["IdentitySource"]))
                       for a in of_type(template, "AWS::ApiGatewayV2::Authorizer").values())
        (integration,) = of_type(template, "AWS::ApiGatewayV2::Integration").values()
        return [(n, int(t), s) for n, t, s in auths], no_value(integration["RequestParameters"])

    assert fields(sam_stack(sam_rendered, ApiType="HTTP", AuthorizerResultTtl=str(ttl))) == \
        fields(osls_rendered("serverless.http-api.yml", ttl))


def test_route_scopes_that_cannot_match_the_shipped_routes_are_reported(osls_rendered, tmp_path):
    """With the shipped descriptions every request arrives as the /api/{proxy+} resource: an entry written
    for a URL path can never apply, and the route check says so for each rendered description."""
    from oauth_proxy.route_check import report

    scopes = "* /admin/*=admin; DELETE /api/{proxy+}=admin; * /api/*=user"
    rendered = {name: osls_rendered(name, 0) for name in CONFIGS}
    for name, template in rendered.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template))
        lines, status = report(str(path), scopes)
        assert status == 1, lines
        assert len(lines) == 1 and "'* /admin/*': no route" in lines[0] and "/api/{proxy+}" in lines[0], lines
        assert report(str(path), "DELETE /api/{proxy+}=admin; * /api/*=user")[1] == 0
    # The SAM template itself (YAML, before the transform) holds both APIs: the command as a user runs it.
    proc = subprocess.run([sys.executable, "-m", "oauth_proxy", "check-routes", str(TEMPLATE),
                           "--route-scopes", scopes], capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1 and len(lines) == 2, proc.stdout + proc.stderr
    assert all("'* /admin/*': no route" in line for line in lines), lines


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_cached_descriptions_pass_cfn_lint(osls_rendered, tmp_path, config):
    path = tmp_path / "template.json"
    path.write_text(json.dumps(osls_rendered(config, 300, None, "keepCookieHeader=true")))
    cfn_lint(path, ignore=CFN_LINT_IGNORED)


def assert_keyed_on_version_header(model: GatewayConfig) -> None:
    for spec in model.authorizers.values():
        assert spec.ttl == 300
        assert any(s.endswith("header.token-handler-version") for s in spec.identity_sources), spec
        assert not any(s.endswith(CSRF) for s in spec.identity_sources), spec


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_osls_header_csrf_mode_keys_on_the_version_header(osls_rendered, config):
    """CSRF_MODE=header: every request carries token-handler-version instead of the CSRF cookie and header."""
    model = gateway(osls_rendered(config, 300, {"CSRF_MODE": "header"}))
    assert_keyed_on_version_header(model)
    check(model, {"csrf_mode": "header"})


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_sam_header_csrf_mode_keys_on_the_version_header(sam_rendered, api_type):
    model = gateway(sam_stack(sam_rendered, ApiType=api_type, AuthorizerResultTtl="300", CsrfMode="header"))
    assert_keyed_on_version_header(model)
    check(model, {"csrf_mode": "header"})


def test_sam_http_api_matches_serverless_http_api_yml_in_header_mode(osls_rendered, sam_rendered):
    def sources(template: dict) -> list:
        return sorted((a["Name"], tuple(a["IdentitySource"]))
                      for a in of_type(template, "AWS::ApiGatewayV2::Authorizer").values())

    assert sources(sam_stack(sam_rendered, ApiType="HTTP", AuthorizerResultTtl="300", CsrfMode="header")) == \
        sources(osls_rendered("serverless.http-api.yml", 300, {"CSRF_MODE": "header"}))
