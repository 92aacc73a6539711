"""A model of API Gateway in front of a Lambda REQUEST authorizer, its result cache included.

API Gateway does not call the authorizer for every request. It first reads the authorizer's identity
sources from the request; when one is missing or empty it answers 401 without calling anything. With a
result TTL above 0 it then looks for an earlier answer stored under the same identity-source values and,
while that answer is younger than the TTL, uses it instead of calling the authorizer:

- REST APIs (payload 1.0): the stored answer is the policy. It is evaluated again against each later
  request's own method ARN, so an Allow for `.../stage/*` serves every method and path, and an Allow for one
  method ARN serves only that one.
- HTTP APIs, simple responses (`{"isAuthorized": ...}`): the stored answer carries no resource and applies to
  every route of that authorizer.
- HTTP APIs, IAM policies: as REST, against the route ARN.

Gateway replays requests through that model, so a test can check that a deployment's identity sources and
TTL never let a cached answer allow a request the authorizer itself would refuse (`Gateway.alone` answers a
request as if there were no cache and no identity-source check). GatewayConfig.from_template reads the
authorizers and routes of a rendered CloudFormation template (osls output, or a SAM template after the SAM
transform, with its intrinsic functions resolved) through oauth_proxy.api_template.

Modelled assumptions, where AWS does not document the behaviour: a 401 (the authorizer raised
"Unauthorized") and a failed invocation are not cached, Allow and Deny policies are; a request carries at
most one value per header name here (API Gateway's handling of repeated Cookie header fields in the cache
key is not modelled).
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..api_template import read as read_api_template

__all__ = ["Answer", "AuthorizerSpec", "Gateway", "GatewayConfig", "Request", "Route", "arn_matches"]

REST = "REST"
HTTP = "HTTP"

Authorize = Callable[[Dict[str, Any]], Any]


class Request:
    """What the client sent: a method, a path (with an optional query string) and headers."""

    __slots__ = ("method", "path", "query", "headers")

    def __init__(self, method: str, path: str, headers: Optional[Mapping[str, str]] = None) -> None:
        self.method = method.upper()
        self.path, _, self.query = path.partition("?")
        self.headers: Tuple[Tuple[str, str], ...] = tuple((headers or {}).items())

    def header(self, name: str) -> Optional[str]:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def query_value(self, name: str) -> Optional[str]:
        for item in self.query.split("&") if self.query else []:
            key, _, value = item.partition("=")
            if key == name:
                return value
        return None

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.headers)
        return f"Request({self.method} {self.path}, headers: {names})"  # values may be secrets


class AuthorizerSpec:
    """One API Gateway authorizer: its identity sources (mapping expressions as API Gateway writes them),
    its result TTL in seconds, and for an HTTP API whether it gives simple responses."""

    __slots__ = ("name", "identity_sources", "ttl", "simple_responses")

    def __init__(self, name: str, identity_sources: Sequence[str], ttl: int, simple_responses: bool = False) -> None:
        self.name = name
        self.identity_sources = tuple(identity_sources)
        self.ttl = int(ttl)
        self.simple_responses = simple_responses
        if self.ttl > 0 and not self.identity_sources:
            raise ValueError(f"authorizer {name}: caching needs identity sources")

    def __repr__(self) -> str:
        return f"AuthorizerSpec({self.name!r}, {list(self.identity_sources)!r}, ttl={self.ttl})"


class Route:
    """A method (or ANY) on a resource template (`/api/{proxy+}`; an HTTP API may also have `$default`),
    protected by the named authorizer (None: no authorizer)."""

    __slots__ = ("method", "template", "authorizer")

    def __init__(self, method: str, template: str, authorizer: Optional[str]) -> None:
        self.method = method.upper()
        self.template = template
        self.authorizer = authorizer

    @property
    def key(self) -> str:
        """The HTTP API route key: `GET /api/{proxy+}`, `$default`."""
        return self.template if self.template == "$default" else f"{self.method} {self.template}"

    def __repr__(self) -> str:
        return f"Route({self.key!r}, authorizer={self.authorizer!r})"


class GatewayConfig:
    """The API: its type (REST or HTTP), routes and authorizers."""

    def __init__(self, api_type: str, routes: Sequence[Route], authorizers: Sequence[AuthorizerSpec],
                 stage: str = "dev", api_id: str = "a1b2c3d4e5", region: str = "us-east-1",
                 account_id: str = "123456789012") -> None:
        if api_type not in (REST, HTTP):
            raise ValueError("api_type is REST or HTTP")
        self.api_type = api_type
        self.routes = tuple(routes)
        self.authorizers = {spec.name: spec for spec in authorizers}
        for route in self.routes:
            if route.authorizer is not None and route.authorizer not in self.authorizers:
                raise ValueError(f"{route!r} names an unknown authorizer")
        self.stage = stage if api_type == REST else "$default"
        self.api_id = api_id
        self.region = region
        self.account_id = account_id

    def with_ttl(self, ttl: int) -> "GatewayConfig":
        """The same API with every authorizer's TTL replaced (the cost model replays one API at several)."""
        specs = [AuthorizerSpec(s.name, s.identity_sources, ttl, s.simple_responses) for s in self.authorizers.values()]
        return GatewayConfig(self.api_type, self.routes, specs, self.stage, self.api_id, self.region, self.account_id)

    def arn(self, request: Request) -> str:
        """The method ARN (REST) or route ARN (HTTP API) of a request."""
        api = f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}"
        return f"{api}/{self.stage}/{request.method}{request.path}"

    def route_for(self, request: Request) -> Optional[Route]:
        """The route API Gateway picks: a named method before ANY, then the most specific path."""
        best: Optional[Tuple[Tuple[int, ...], Route]] = None
        for route in self.routes:
            if route.method not in (request.method, "ANY") or route.template == "$default":
                continue
            score = _template_score(route.template, request.path)
            if score is None:
                continue
            rank = (*score, route.method != "ANY")
            if best is None or rank > best[0]:
                best = (rank, route)
        if best is not None:
            return best[1]
        return next((r for r in self.routes if r.template == "$default"), None)

    @classmethod
    def from_template(cls, template: Mapping[str, Any], api_type: Optional[str] = None) -> "GatewayConfig":
        """Routes and authorizers of a rendered template (oauth_proxy.api_template reads them). Identity sources
        and TTLs must already be resolved (no intrinsic functions left); `api_type` picks one API of a template
        that defines both."""
        apis = [api for api in read_api_template(template) if api_type in (None, api.api_type)]
        if len(apis) != 1:
            raise ValueError(f"the template defines {len(apis)} API Gateway APIs; name the api_type wanted")
        api = apis[0]
        specs = [AuthorizerSpec(a.name, [_text(s, a.name) for s in a.identity_sources], _seconds(a.ttl, a.name),
                                a.simple_responses) for a in api.authorizers]
        routes = [Route(r.method, r.path, r.authorizer) for r in api.routes]
        return cls(api.api_type, routes, specs)


class Answer:
    """What the gateway answered: the status (200: passed to the integration), whether the authorizer was
    called, whether a cached answer was used, and the authorizer context that reached the integration."""

    __slots__ = ("status", "invoked", "cached", "context")

    def __init__(self, status: int, invoked: bool = False, cached: bool = False,
                 context: Optional[Mapping[str, Any]] = None) -> None:
        self.status = status
        self.invoked = invoked
        self.cached = cached
        self.context = dict(context) if context is not None else None

    @property
    def allowed(self) -> bool:
        return self.status == 200

    def __repr__(self) -> str:
        return f"Answer({self.status}, invoked={self.invoked}, cached={self.cached})"


class Gateway:
    """API Gateway in front of `authorize` (the authorizer function: event -> response; raising an exception
    whose text is "Unauthorized", or any oauth_proxy.Unauthorized, is a 401; any other exception is a 500).
    `clock` gives seconds (monotonic); tests pass a fake one to move time."""

    def __init__(self, config: GatewayConfig, authorize: Authorize,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._authorize = authorize
        self._clock = clock
        self._cache: Dict[Tuple[str, Tuple[str, ...]], Tuple[float, Any]] = {}
        self.invocations = 0
        self.requests = 0

    def flush(self) -> None:
        """What flushing the stage's authorizer cache does (`aws apigateway flush-stage-authorizers-cache`)."""
        self._cache.clear()

    def handle(self, request: Request) -> Answer:
        self.requests += 1
        route = self.config.route_for(request)
        if route is None:
            return Answer(403 if self.config.api_type == REST else 404)
        if route.authorizer is None:
            return Answer(200)
        spec = self.config.authorizers[route.authorizer]
        values = [identity_value(source, request, route, self.config.api_type) for source in spec.identity_sources]
        if any(v is None or v == "" for v in values):
            return Answer(401)
        key = (spec.name, tuple(v or "" for v in values))
        now = self._clock()
        if spec.ttl > 0:
            hit = self._cache.get(key)
            if hit is not None and now < hit[0]:
                return self._evaluate(hit[1], spec, request, invoked=False, cached=True)
        outcome = self._invoke(self._event(request, route, [v or "" for v in values]))
        if isinstance(outcome, int):
            return Answer(outcome, invoked=True)
        if spec.ttl > 0:
            self._cache[key] = (now + spec.ttl, outcome)
        return self._evaluate(outcome, spec, request, invoked=True, cached=False)

    def alone(self, request: Request) -> Answer:
        """The authorizer's own answer to this request: called every time, without the cache and without the
        identity-source check (which can only refuse)."""
        route = self.config.route_for(request)
        if route is None or route.authorizer is None:
            return Answer(200 if route is not None else 404)
        spec = self.config.authorizers[route.authorizer]
        values = [identity_value(s, request, route, self.config.api_type) or "" for s in spec.identity_sources]
        outcome = _call(self._authorize, self._event(request, route, values))
        if isinstance(outcome, int):
            return Answer(outcome, invoked=True)
        return self._evaluate(outcome, spec, request, invoked=True, cached=False)

    def _invoke(self, event: Dict[str, Any]) -> Any:
        self.invocations += 1
        return _call(self._authorize, event)

    def _evaluate(self, response: Any, spec: AuthorizerSpec, request: Request, invoked: bool, cached: bool) -> Answer:
        if not isinstance(response, Mapping):
            return Answer(500, invoked, cached)
        context = response.get("context")
        if self.config.api_type == HTTP and spec.simple_responses:
            ok = response.get("isAuthorized") is True
        else:
            ok = policy_allows(response.get("policyDocument"), self.config.arn(request))
        return Answer(200 if ok else 403, invoked, cached, context if ok and isinstance(context, Mapping) else None)

    def _event(self, request: Request, route: Route, identity: List[str]) -> Dict[str, Any]:
        cfg = self.config
        arn = cfg.arn(request)
        if cfg.api_type == REST:
            headers: Dict[str, str] = {}
            for name, value in request.headers:
                headers[name] = value
            query = dict(item.partition("=")[::2] for item in request.query.split("&")) if request.query else None
            return {
                "type": "REQUEST", "methodArn": arn, "resource": route.template, "path": request.path,
                "httpMethod": request.method, "headers": headers,
                "multiValueHeaders": {name: [value] for name, value in headers.items()},
                "queryStringParameters": query,
                "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
                "pathParameters": None, "stageVariables": None,
                "requestContext": {"path": f"/{cfg.stage}{request.path}", "accountId": cfg.account_id,
                                   "resourceId": "r1", "stage": cfg.stage, "requestId": "gateway-model",
                                   "resourcePath": route.template, "httpMethod": request.method,
                                   "apiId": cfg.api_id},
            }
        lowered: Dict[str, str] = {}
        cookies: List[str] = []
        for name, value in request.headers:
            if name.lower() == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
            else:
                lowered[name.lower()] = f"{lowered[name.lower()]},{value}" if name.lower() in lowered else value
        event: Dict[str, Any] = {
            "version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": identity,
            "routeKey": route.key, "rawPath": request.path, "rawQueryString": request.query, "headers": lowered,
            "requestContext": {"accountId": cfg.account_id, "apiId": cfg.api_id, "routeKey": route.key,
                               "stage": cfg.stage, "requestId": "gateway-model",
                               "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                                        "sourceIp": "192.0.2.1", "userAgent": "gateway-model"}},
        }
        if cookies:
            event["cookies"] = cookies
        return event


def identity_value(source: str, request: Request, route: Route, api_type: str) -> Optional[str]:
    """The value API Gateway reads for one identity source (None: absent). Unknown expressions are an error,
    so a template using one this model does not know fails instead of being modelled wrongly."""
    text = source.strip()
    if api_type == HTTP:
        if not text.startswith("$"):
            raise ValueError(f"HTTP API identity sources start with $: {source!r}")
        text = text[1:]
        prefixes = {"request.header.": "header", "request.querystring.": "query", "context.": "context",
                    "stageVariables.": "stage"}
    else:
        prefixes = {"method.request.header.": "header", "method.request.querystring.": "query",
                    "context.": "context", "stageVariables.": "stage"}
    for prefix, kind in prefixes.items():
        if text.startswith(prefix):
            name = text[len(prefix):]
            if kind == "header":
                return request.header(name)
            if kind == "query":
                return request.query_value(name)
            if kind == "stage":
                return None
            if name == "httpMethod":
                return request.method
            if name == "routeKey" and api_type == HTTP:
                return route.key
            if name == "resourcePath" and api_type == REST:
                return route.template
            if name == "path":
                return request.path
            raise ValueError(f"identity source not modelled: {source!r}")
    raise ValueError(f"not an identity source: {source!r}")


def policy_allows(policy: Any, arn: str) -> bool:
    """IAM evaluation of an authorizer's policy for execute-api:Invoke on `arn`: an explicit Deny wins, then an
    Allow is needed; Resource patterns use `*` (any run of characters, `/` included) and `?` (one character)."""
    if not isinstance(policy, Mapping):
        return False
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for st in statements if isinstance(statements, list) else []:
        if not isinstance(st, Mapping):
            continue
        actions = _as_list(st.get("Action"))
        if not any(arn_matches(a, "execute-api:Invoke") for a in actions):
            continue
        if not any(arn_matches(r, arn) for r in _as_list(st.get("Resource"))):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


def arn_matches(pattern: str, value: str) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` exactly one, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _call(authorize: Authorize, event: Dict[str, Any]) -> Any:
    try:
        return authorize(event)
    except Exception as exc:  # the Lambda runtime reports any exception; API Gateway maps it to a status
        if type(exc).__name__ == "Unauthorized" or str(exc) == "Unauthorized":
            return 401
        return 500


def _as_list(value: Any) -> List[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _template_score(template: str, path: str) -> Optional[Tuple[int, ...]]:
    """How specifically a REST resource template or HTTP route path matches a path (None: it does not)."""
    t_parts = template.strip("/").split("/") if template.strip("/") else []
    p_parts = path.strip("/").split("/") if path.strip("/") else []
    literal = params = 0
    for i, part in enumerate(t_parts):
        if part.startswith("{") and part.endswith("+}"):
            return (literal, params, 0) if len(p_parts) > i else None
        if i >= len(p_parts):
            return None
        if part.startswith("{") and part.endswith("}"):
            params += 1
        elif part != p_parts[i]:
            return None
        else:
            literal += 1
    return (literal, params, 1) if len(p_parts) == len(t_parts) else None


def _seconds(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValueError(f"{where}: the TTL is not a resolved whole number: {value!r}")
    return int(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a resolved string, found {type(value).__name__} "
                         "(resolve intrinsic functions first)")
    return value
