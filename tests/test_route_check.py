"""oauth_proxy.route_check: ROUTE_SCOPES entries that can never apply to a request of an API (the template
side, rendered descriptions: tests/deploy/test_deploy_cache.py)."""

from __future__ import annotations

import json

import pytest

from oauth_proxy import ConfigError
from oauth_proxy.api_template import ApiRoute, load, read
from oauth_proxy.route_check import check, parse_rules, report

PROXY = [ApiRoute(m, "/api/{proxy+}", "auth") for m in ("GET", "POST", "DELETE")]


def problems(route_scopes: str, routes) -> dict:
    return {f.entry: f.problem for f in check(parse_rules(route_scopes), routes)}


def test_an_entry_for_a_url_path_never_matches_a_proxy_resource():
    assert problems("* /admin/*=admin; GET /api/orders=read", PROXY) == {
        "* /admin/*": "no route", "GET /api/orders": "no route"}


def test_entries_on_the_resource_template_apply():
    assert problems("DELETE /api/{proxy+}=admin; * /api/*=user", PROXY) == {}
    # A longer prefix wins whatever the method: GET /* never gets a say here.
    assert problems("* /api/*=user; GET /*=any", PROXY) == {"GET /*": "shadowed"}


def test_an_entry_always_beaten_by_a_better_one_is_shadowed():
    found = problems("* /api/{proxy+}=a; GET /api/*=b", PROXY)
    assert found == {"GET /api/*": "shadowed"}
    (finding,) = check(parse_rules("* /api/{proxy+}=a; GET /api/*=b"), PROXY)
    assert "GET /api/{proxy+}" in finding.detail


def test_a_method_the_api_does_not_route_is_no_route():
    assert problems("PUT /api/{proxy+}=w", PROXY) == {"PUT /api/{proxy+}": "no route"}


def test_slash_star_covers_the_default_route_and_any_routes_take_every_method():
    default = [ApiRoute("ANY", "$default", "auth")]
    assert problems("* /*=x", default) == {}
    assert problems("PATCH /*=x", default) == {}
    assert problems("PATCH /*=x; * $default=y", default) == {"PATCH /*": "shadowed"}  # exact beats prefix
    assert problems("* /api/*=x", default) == {"* /api/*": "no route"}


def test_routes_without_an_authorizer_do_not_count():
    assert problems("GET /public=x", [ApiRoute("GET", "/public", None)]) == {"GET /public": "no route"}


def test_prefix_matches_whole_segments_only():
    routes = [ApiRoute("GET", "/orders", "a"), ApiRoute("GET", "/ordersX/{id}", "a")]
    assert problems("GET /orders/*=x", routes) == {}
    assert problems("GET /ord/*=x", routes) == {"GET /ord/*": "no route"}


def test_bad_route_scopes_are_the_authorizer_s_config_errors():
    with pytest.raises(ConfigError, match="ROUTE_SCOPES"):
        parse_rules("ANY /x=y")


def test_report_reads_json_and_sam_yaml(tmp_path):
    template = {"Resources": {"R": {"Type": "AWS::ApiGatewayV2::Route",
                                    "Properties": {"RouteKey": "$default", "AuthorizationType": "CUSTOM",
                                                   "AuthorizerId": {"Ref": "A"}}}}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    lines, status = report(str(path), "* /*=x")
    assert status == 0 and "every ROUTE_SCOPES entry (1) applies" in lines[0]
    lines, status = report(str(path), "GET /admin/*=admin")
    assert status == 1 and "'GET /admin/*': no route" in lines[0] and "$default" in lines[0]

    sam = tmp_path / "template.yaml"
    sam.write_text("""
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      DefinitionBody:
        paths:
          /orders/{id}:
            get:
              security: [{Auth: []}]
              x-amazon-apigateway-integration: {uri: !Sub '${Up}/x'}
            x-amazon-apigateway-any-method:
              security: [{Auth: []}]
        components:
          securitySchemes:
            Auth:
              x-amazon-apigateway-authorizer: {type: request, identitySource: !If [C, a, b]}
""")
    (api,) = read(load(str(sam)))
    assert api.routes == (ApiRoute("GET", "/orders/{id}", "Auth"), ApiRoute("ANY", "/orders/{id}", "Auth"))
    lines, status = report(str(sam), "DELETE /orders/{id}=admin; * /orders/*=user")
    assert status == 0, lines


def test_report_of_a_template_without_an_api(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"Resources": {}}')
    lines, status = report(str(path), "GET /x=y")
    assert status == 2 and "no API Gateway API" in lines[0]


def test_cli_check_routes(tmp_path, capsys, monkeypatch):
    from oauth_proxy.cli import main

    template = {"Resources": {"R": {"Type": "AWS::ApiGatewayV2::Route",
                                    "Properties": {"RouteKey": "GET /api/{proxy+}", "AuthorizationType": "CUSTOM",
                                                   "AuthorizerId": {"Ref": "A"}}}}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    assert main(["check-routes", str(path), "--route-scopes", "* /admin/*=admin; GET /api/*=read"]) == 1
    out = capsys.readouterr().out
    assert "'* /admin/*': no route (the API's routes: GET /api/{proxy+})" in out and "GET /api/*'" not in out
    monkeypatch.setenv("ROUTE_SCOPES", "GET /api/*=read")
    assert main(["check-routes", str(path)]) == 0
    assert "every ROUTE_SCOPES entry (1) applies" in capsys.readouterr().out
    assert main(["check-routes", str(path), "--route-scopes", "ANY /x=y"]) == 2
    assert "write * for any method" in capsys.readouterr().err
    monkeypatch.delenv("ROUTE_SCOPES")
    assert main(["check-routes", str(path)]) == 2
    assert "no ROUTE_SCOPES" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("Resources: [unclosed")
    assert main(["check-routes", str(tmp_path / "bad.yaml"), "--route-scopes", "GET /x=y"]) == 2
    assert "not a YAML template" in capsys.readouterr().err
    assert main(["check-routes", str(tmp_path / "missing.json"), "--route-scopes", "GET /x=y"]) == 2
