"""SpaSession: the browser's side of a Token Handler login, and the events API Gateway builds from it.

After an OAuth Agent login the browser holds two encrypted, HttpOnly cookies (`<prefix>-at` with the access
token, `<prefix>-csrf` with the CSRF value) and the SPA holds the CSRF value in clear, which it sends in the
`x-<prefix>-csrf` header on data-changing requests. A SpaSession makes those cookies with the same key and
format as the agent (oauth_proxy.encrypt_cookie) and builds the authorizer events API Gateway would send for
a request: REST APIs (payload 1.0, `rest_event`) and HTTP APIs (payload 2.0, `http_event`).

The shapes follow AWS's documented REQUEST authorizer inputs: payload 1.0 passes `headers` (the last value of
each header) and `multiValueHeaders` (every value), with `null` for absent query strings, path parameters
and stage variables; payload 2.0 lower-cases header names, moves the cookies into the `cookies` list (no
`cookie` header) and comma-joins repeated headers.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any, Dict, List, Mapping, Optional

from .._core import encrypt_cookie

__all__ = ["SPOIL", "SpaSession", "make_jwt"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# CSRF_MODE=header: the custom header of Curity's second generation, which the SPA sends on every request.
# A browser sends its CORS pre-flight (OPTIONS) without it: the pre-flight asks whether it may be sent.
HANDLER_VERSION_HEADER = "token-handler-version"
HANDLER_VERSION = "1"


class _Spoil:
    """The SPOIL marker: a present but wrong value (see SpaSession.rest_event)."""

    _instance: Optional["_Spoil"] = None

    def __new__(cls) -> "_Spoil":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "SPOIL"


SPOIL: Any = _Spoil()
_KEEP: Any = object()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: Mapping[str, Any], header: Optional[Mapping[str, Any]] = None,
             signature: str = "c2lnbmF0dXJl") -> str:
    """A JWT-shaped token carrying `claims`, with a junk signature.

    The authorizer reads a JWT's claims (`sub`, `scope`, `exp`...) but never verifies its signature: the API
    behind the gateway does. So this is enough to test the authorizer, and must never be accepted by an API.
    """
    head = dict(header) if header is not None else {"alg": "RS256", "typ": "JWT", "kid": "test"}
    compact = (",", ":")
    return ".".join([_b64url(json.dumps(head, separators=compact).encode()),
                     _b64url(json.dumps(dict(claims), separators=compact).encode()), signature])


def _request_id() -> str:
    """A random request id in the UUID form REST APIs use (without loading uuid's C extension)."""
    digits = secrets.token_hex(16)
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def _tamper(cookie_value: str) -> str:
    """The same cookie with one ciphertext character changed: well-formed, but AES-GCM rejects it."""
    middle = len(cookie_value) // 2
    replacement = "A" if cookie_value[middle] != "A" else "B"
    return cookie_value[:middle] + replacement + cookie_value[middle + 1:]


class SpaSession:
    """A browser session after an OAuth Agent login, for testing an authorizer, an SPA or an API.

        session = SpaSession(key_hex, "example", "https://www.example.com")
        proxy.authorize(session.rest_event("GET", "/orders/1"))          # allowed
        proxy.authorize(session.http_event("POST", "/orders", csrf_header=None))  # 403 csrf_header_missing

    `token` is what the `-at` cookie carries (default: an unsigned JWT for subject `test-user`, see make_jwt);
    `csrf` the CSRF value (default: random). Both can be replaced later with `login()`.

    `cookie_format` is the OAuth Agent's cookie generation, as COOKIE_FORMAT names it: `"v1"` (default) or `"v2"`
    (Curity's 2024 agents: no version byte). `csrf_mode` is CSRF_MODE: `"double-submit"` (default: the `-csrf`
    cookie and the `x-<prefix>-csrf` header) or `"header"` (no `-csrf` cookie; the SPA sends
    `token-handler-version: 1` on every request but the browser's OPTIONS pre-flight). In header mode the
    `csrf_header` option below is that header (SPOIL sends `2`), and `csrf_cookie` is absent unless given.

    The event builders take the method and the request path, then keyword options:

    - `origin`, `csrf_header`, `at_cookie`, `csrf_cookie`: `None` drops that part of the request, `SPOIL` makes
      it present but wrong (an untrusted origin; a CSRF header that does not match; a cookie with one
      ciphertext character changed, so decryption fails), a string uses that exact value (for cookies: the
      encrypted cookie value). By default the request carries all that the browser and the SPA would send:
      the origin, both cookies, and the CSRF header on methods other than GET, HEAD and OPTIONS.
    - `token`: the access token of this request only (encrypted into the `-at` cookie).
    - `bearer`: adds `Authorization: Bearer <bearer>` (clients that send their own token, ALLOW_TOKEN).
    - `headers`: extra headers (a value of `None` removes a header the session would send).
    - `query`: query string parameters; `path_parameters`; `stage_variables`.
    - `resource`: the resource template the request matched (`/orders/{id}`; default the path itself). It is
      the REST event's `resource` and, for HTTP APIs, the route key `"<METHOD> <resource>"` unless
      `route_key` is given (`"$default"`, `"ANY /{proxy+}"`).
    - `stage`: the stage in the ARN and request context (default `prod` for REST, `$default` for HTTP).
    - `split_cookies` (REST only): each cookie in its own `Cookie` header, as HTTP/2 clients send them; API
      Gateway then puts the last one in `headers` and all of them in `multiValueHeaders`.
    """

    region = "eu-west-1"
    account_id = "123456789012"
    api_id = "abc123"
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) oauth-proxy-testing"
    source_ip = "203.0.113.10"

    def __init__(self, key_hex: str, cookie_name_prefix: str = "example",
                 origin: str = "https://www.example.com", *, token: Optional[str] = None,
                 csrf: Optional[str] = None, cookie_format: str = "v1", csrf_mode: str = "double-submit") -> None:
        if cookie_format not in ("v1", "v2"):
            raise ValueError('cookie_format must be "v1" or "v2"')
        if csrf_mode not in ("double-submit", "header"):
            raise ValueError('csrf_mode must be "double-submit" or "header"')
        self.key_hex = key_hex
        self.cookie_name_prefix = cookie_name_prefix
        self.origin = origin
        self.cookie_format = cookie_format
        self.csrf_mode = csrf_mode
        self.login(token, csrf)

    # ---- the browser's state ------------------------------------------------------------------------

    def login(self, token: Optional[str] = None, csrf: Optional[str] = None) -> None:
        """A new login: new cookies for `token` (default: an unsigned JWT for `test-user`) and `csrf` (in
        header mode there is no CSRF cookie, and `csrf` is the header's value, `1`)."""
        self.token = token if token is not None else make_jwt(
            {"sub": "test-user", "scope": "openid", "exp": int(time.time()) + 3600})
        self.at_cookie = self.encrypt(self.token)
        self.csrf_cookie: Optional[str]
        if self.csrf_mode == "header":
            self.csrf = csrf if csrf is not None else HANDLER_VERSION
            self.csrf_cookie = None
        else:
            self.csrf = csrf if csrf is not None else secrets.token_urlsafe(48)
            self.csrf_cookie = self.encrypt(self.csrf)

    def encrypt(self, plaintext: str) -> str:
        """A cookie value as the OAuth Agent encrypts it with this session's key and cookie generation."""
        return encrypt_cookie(plaintext, self.key_hex, self.cookie_format)

    @property
    def at_cookie_name(self) -> str:
        return f"{self.cookie_name_prefix}-at"

    @property
    def csrf_cookie_name(self) -> str:
        return f"{self.cookie_name_prefix}-csrf"

    @property
    def csrf_header_name(self) -> str:
        """The header the SPA sends against CSRF: `x-<prefix>-csrf`, or in header mode `token-handler-version`."""
        if self.csrf_mode == "header":
            return HANDLER_VERSION_HEADER
        return f"x-{self.cookie_name_prefix}-csrf"

    def cookies(self, *, token: Optional[str] = None, at_cookie: Any = _KEEP, csrf_cookie: Any = _KEEP) -> List[str]:
        """The `name=value` pairs the browser sends, with the same options as the event builders."""
        pairs = []
        at_value = self._cookie_value(at_cookie, self.encrypt(token) if token is not None else self.at_cookie)
        if at_value is not None:
            pairs.append(f"{self.at_cookie_name}={at_value}")
        csrf_value = self._cookie_value(csrf_cookie, self.csrf_cookie)
        if csrf_value is not None:
            pairs.append(f"{self.csrf_cookie_name}={csrf_value}")
        return pairs

    def cookie_header(self, **options: Any) -> str:
        """The `Cookie` header the browser sends (options as for cookies())."""
        return "; ".join(self.cookies(**options))

    @staticmethod
    def _cookie_value(option: Any, current: Optional[str]) -> Optional[str]:
        if option is _KEEP:
            return current
        if option is SPOIL:
            # In header mode there is no CSRF cookie to spoil: send a well-formed one that no key opens.
            return _tamper(current) if current is not None else _b64url(secrets.token_bytes(48))
        return None if option is None else str(option)

    def _spa_headers(self, method: str, origin: Any, csrf_header: Any, bearer: Optional[str],
                     extra: Optional[Mapping[str, Optional[str]]]) -> Dict[str, str]:
        """The request headers of the browser, without cookies, in the case a browser writes them."""
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if origin is SPOIL:
            origin = "https://attacker.example"
        elif origin is _KEEP:
            origin = self.origin
        if origin is not None:
            headers["Origin"] = origin
        if csrf_header is _KEEP:
            if self.csrf_mode == "header":
                csrf_header = None if method.upper() == "OPTIONS" else self.csrf
            else:
                csrf_header = None if method.upper() in _SAFE_METHODS else self.csrf
        elif csrf_header is SPOIL:
            if self.csrf_mode == "header":
                csrf_header = "2"
            else:
                csrf_header = self.csrf[:-1] + ("A" if self.csrf[-1] != "A" else "B")
        if csrf_header is not None:
            headers[self.csrf_header_name] = csrf_header
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        for name, value in (extra or {}).items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            if value is not None:
                headers[name] = value
        return headers

    # ---- the events ---------------------------------------------------------------------------------

    def arn(self, method: str, path: str, stage: str) -> str:
        """The method ARN (REST) or route ARN (HTTP) API Gateway gives this request."""
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{stage}/{method}{path}"

    def rest_event(self, method: str = "GET", path: str = "/orders", *, origin: Any = _KEEP,
                   csrf_header: Any = _KEEP, at_cookie: Any = _KEEP, csrf_cookie: Any = _KEEP,
                   token: Optional[str] = None, bearer: Optional[str] = None,
                   headers: Optional[Mapping[str, Optional[str]]] = None,
                   query: Optional[Mapping[str, str]] = None, path_parameters: Optional[Mapping[str, str]] = None,
                   stage_variables: Optional[Mapping[str, str]] = None, resource: Optional[str] = None,
                   stage: str = "prod", split_cookies: bool = False) -> Dict[str, Any]:
        """A REST API REQUEST authorizer event (payload 1.0) for this request. Options: see the class."""
        method = method.upper()
        sent = self._spa_headers(method, origin, csrf_header, bearer, headers)
        multi: Dict[str, List[str]] = {name: [value] for name, value in sent.items()}
        pairs = self.cookies(token=token, at_cookie=at_cookie, csrf_cookie=csrf_cookie)
        if pairs and not any(name.lower() == "cookie" for name in sent):
            values = pairs if split_cookies else ["; ".join(pairs)]
            sent["Cookie"] = values[-1]
            multi["Cookie"] = list(values)
        host = f"{self.api_id}.execute-api.{self.region}.amazonaws.com"
        sent.setdefault("Host", host)
        multi.setdefault("Host", [host])
        resource = resource if resource is not None else path
        now = time.time()
        return {
            "type": "REQUEST",
            "methodArn": self.arn(method, path, stage),
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": sent,
            "multiValueHeaders": multi,
            "queryStringParameters": dict(query) if query else None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": dict(path_parameters) if path_parameters else None,
            "stageVariables": dict(stage_variables) if stage_variables else None,
            "requestContext": {
                "resourceId": "a1b2c3",
                "resourcePath": resource,
                "httpMethod": method,
                "extendedRequestId": _b64url(secrets.token_bytes(12)),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "path": f"/{stage}{path}",
                "accountId": self.account_id,
                "protocol": "HTTP/1.1",
                "stage": stage,
                "domainPrefix": self.api_id,
                "requestTimeEpoch": int(now * 1000),
                "requestId": _request_id(),
                "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
                "domainName": host,
                "apiId": self.api_id,
            },
        }

    def http_event(self, method: str = "GET", path: str = "/orders", *, origin: Any = _KEEP,
                   csrf_header: Any = _KEEP, at_cookie: Any = _KEEP, csrf_cookie: Any = _KEEP,
                   token: Optional[str] = None, bearer: Optional[str] = None,
                   headers: Optional[Mapping[str, Optional[str]]] = None,
                   query: Optional[Mapping[str, str]] = None, path_parameters: Optional[Mapping[str, str]] = None,
                   stage_variables: Optional[Mapping[str, str]] = None, resource: Optional[str] = None,
                   route_key: Optional[str] = None, stage: str = "$default") -> Dict[str, Any]:
        """An HTTP API Lambda authorizer event, payload 2.0, for this request. Options: see the class."""
        method = method.upper()
        sent: Dict[str, str] = {}
        for name, value in self._spa_headers(method, origin, csrf_header, bearer, headers).items():
            name = name.lower()
            sent[name] = f"{sent[name]},{value}" if name in sent else value
        cookies = self.cookies(token=token, at_cookie=at_cookie, csrf_cookie=csrf_cookie)
        if "cookie" in sent:  # a Cookie header given in `headers`: API Gateway moves it into the list
            cookies = [part.strip() for part in sent.pop("cookie").split(";") if part.strip()]
        host = f"{self.api_id}.execute-api.{self.region}.amazonaws.com"
        sent.setdefault("host", host)
        route_key = route_key if route_key is not None else f"{method} {resource if resource is not None else path}"
        raw_query = "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        now = time.time()
        event: Dict[str, Any] = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": self.arn(method, path, stage),
            "identitySource": ["; ".join(cookies)] if cookies else [],
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": raw_query,
            "headers": sent,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "domainName": host,
                "domainPrefix": self.api_id,
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": self.source_ip,
                         "userAgent": sent.get("user-agent", "")},
                "requestId": _b64url(secrets.token_bytes(12)),
                "routeKey": route_key,
                "stage": stage,
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = dict(query)
        if path_parameters:
            event["pathParameters"] = dict(path_parameters)
        if stage_variables:
            event["stageVariables"] = dict(stage_variables)
        return event

