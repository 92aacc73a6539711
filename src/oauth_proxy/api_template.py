"""The routes and Lambda authorizers an API Gateway deployment description defines, read from its template.

One reader for `oauth-proxy check-routes` and for the gateway model of oauth_proxy.testing.gateway_cache. It
takes CloudFormation as osls renders it (a REST API as AWS::ApiGateway::Method and ::Resource resources), as
the SAM transform renders it (a REST API as the OpenAPI Body of AWS::ApiGateway::RestApi), a SAM template
before the transform (the DefinitionBody of AWS::Serverless::Api), and HTTP APIs as AWS::ApiGatewayV2::Route
and ::Authorizer resources. Values left as intrinsic functions (a TTL given as a parameter, say) are kept as
they are: a caller that needs them resolved resolves them first.

load() reads a template file: JSON, or YAML with CloudFormation's short tags (`!Ref`, `!Sub`, ...), for
which PyYAML must be installed (it is not needed for JSON, nor by the authorizer).
"""
from __future__ import annotations

import importlib
import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

__all__ = ["ApiRoute", "ApiAuthorizer", "ApiDescription", "load", "read"]

REST = "REST"
HTTP = "HTTP"


class ApiRoute(NamedTuple):
    """A method (or ANY) on a resource template (`/api/{proxy+}`), or an HTTP API's `$default` route (method
    ANY), with the logical id of its Lambda authorizer (None: none)."""
    method: str
    path: str
    authorizer: Optional[str]


class ApiAuthorizer(NamedTuple):
    name: str
    identity_sources: Tuple[Any, ...]
    ttl: Any  # seconds (API Gateway's default, 300, where the template leaves it out), or an intrinsic
    simple_responses: bool


class ApiDescription(NamedTuple):
    api_type: str  # REST or HTTP
    routes: Tuple[ApiRoute, ...]
    authorizers: Tuple[ApiAuthorizer, ...]


def read(template: Mapping[str, Any]) -> List[ApiDescription]:
    """Every API the template defines (a SAM template may hold a REST and an HTTP API at once)."""
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        raise ValueError("not a CloudFormation template: no Resources")
    apis: List[ApiDescription] = []
    http = _http(resources)
    if http is not None:
        apis.append(http)
    rest = _rest(resources)
    if rest is not None:
        apis.append(rest)
    return apis


def load(path: str) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        data = json.loads(text)
    else:
        data = _yaml(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a template (a JSON or YAML mapping)")
    return data


def _yaml(text: str) -> Any:
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise ValueError("reading a YAML template needs PyYAML (pip install pyyaml); a JSON one does not") from None
    # A loader of its own: the short tags must not be registered on PyYAML's shared SafeLoader.
    loader_class: Any = type("CloudFormationLoader", (yaml.SafeLoader,), {})

    def tag(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            return {"Fn::GetAtt": value.split(".", 1)}
        return {("Condition" if suffix == "Condition" else "Fn::" + suffix): value}

    loader_class.add_multi_constructor("!", tag)
    try:
        return yaml.load(text, Loader=loader_class)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ValueError(f"not a YAML template: {error}") from None


def _http(resources: Mapping[str, Any]) -> Optional[ApiDescription]:
    routes, authorizers = [], []
    for name, res in resources.items():
        props = res.get("Properties") or {}
        kind = res.get("Type")
        if kind == "AWS::ApiGatewayV2::Authorizer" and props.get("AuthorizerType") == "REQUEST":
            sources = props.get("IdentitySource") or []
            authorizers.append(ApiAuthorizer(name, tuple(sources) if isinstance(sources, list) else (sources,),
                                             props.get("AuthorizerResultTtlInSeconds", 300),
                                             props.get("EnableSimpleResponses") is True))
        elif kind == "AWS::ApiGatewayV2::Route":
            key = props.get("RouteKey")
            if not isinstance(key, str):
                continue
            authorizer = _ref(props.get("AuthorizerId")) if props.get("AuthorizationType") == "CUSTOM" else None
            method, _, path = key.partition(" ")
            routes.append(ApiRoute("ANY", "$default", authorizer) if key == "$default"
                          else ApiRoute(method.upper(), path, authorizer))
    if not routes:
        return None
    return ApiDescription(HTTP, tuple(routes), tuple(authorizers))


def _rest(resources: Mapping[str, Any]) -> Optional[ApiDescription]:
    routes: List[ApiRoute] = []
    authorizers: List[ApiAuthorizer] = []
    found = False
    for name, res in resources.items():
        props = res.get("Properties") or {}
        kind = res.get("Type")
        if kind == "AWS::ApiGateway::Authorizer":
            sources = props.get("IdentitySource")
            authorizers.append(ApiAuthorizer(name, _split(sources), props.get("AuthorizerResultTtlInSeconds", 300),
                                             False))
        elif kind == "AWS::ApiGateway::Method":
            found = True
            method = props.get("HttpMethod")
            if not isinstance(method, str):
                continue
            authorizer = _ref(props.get("AuthorizerId")) if props.get("AuthorizationType") == "CUSTOM" else None
            routes.append(ApiRoute(method.upper(), _resource_path(resources, props.get("ResourceId")), authorizer))
        elif kind in ("AWS::ApiGateway::RestApi", "AWS::Serverless::Api"):
            found = True
            body = props.get("Body") if kind == "AWS::ApiGateway::RestApi" else props.get("DefinitionBody")
            if isinstance(body, Mapping):
                _openapi(body, routes, authorizers)
    if not found:
        return None
    return ApiDescription(REST, tuple(routes), tuple(authorizers))


def _openapi(body: Mapping[str, Any], routes: List[ApiRoute], authorizers: List[ApiAuthorizer]) -> None:
    schemes = (body.get("components") or {}).get("securitySchemes") or body.get("securityDefinitions") or {}
    for scheme, spec in schemes.items():
        auth = spec.get("x-amazon-apigateway-authorizer") if isinstance(spec, Mapping) else None
        if isinstance(auth, Mapping) and str(auth.get("type", "")).lower() == "request":
            authorizers.append(ApiAuthorizer(scheme, _split(auth.get("identitySource")),
                                             auth.get("authorizerResultTtlInSeconds", 300), False))
    for path, methods in (body.get("paths") or {}).items():
        if not isinstance(methods, Mapping):
            continue
        for method, op in methods.items():
            if method == "x-amazon-apigateway-any-method":
                method = "ANY"
            elif method.startswith("x-") or method == "parameters" or not isinstance(op, Mapping):
                continue
            named = [n for item in op.get("security") or [] if isinstance(item, Mapping) for n in item
                     if n in schemes]
            routes.append(ApiRoute(method.upper(), path, named[0] if named else None))


def _split(value: Any) -> Tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(s.strip() for s in value.split(",") if s.strip())
    return (value,)  # an intrinsic function, left to the caller


def _ref(value: Any) -> Optional[str]:
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        att = value.get("Fn::GetAtt")
        if att is not None:
            return str(att[0] if isinstance(att, list) else str(att).split(".")[0])
    return value if isinstance(value, str) else None


def _resource_path(resources: Mapping[str, Any], ref: Any) -> str:
    parts: List[str] = []
    current = _ref(ref)
    for _ in range(128):  # API Gateway nests resources far less deep; the bound stops a loop
        res = resources.get(current) if current is not None else None
        if not isinstance(res, Mapping) or res.get("Type") != "AWS::ApiGateway::Resource":
            return "/" + "/".join(reversed(parts))
        props = res.get("Properties") or {}
        parts.append(str(props.get("PathPart")))
        current = _ref(props.get("ParentId"))
    raise ValueError("the template's resources form a loop")
