"""A pure-Python OAuth Proxy authorizer: the baseline that the C extension is measured against.

It follows the same behaviour (docs/reference.md: the cookie format and the decision) and is written the way a competent Python
team would write it without a C extension: the `cryptography` package's AESGCM built once per key, a
plain split-based cookie parser, the standard library's json, base64, hmac and http.client. It is not
tuned to be slow and not micro-optimised either; its responses are checked against ours by
tests/test_reference_authorizer.py.

It is a benchmark baseline, not a product: introspection is here only so that cache hits and misses can be
compared, and strict base64url canonicality (trailing bits) is not checked.
"""
from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import http.client
import json
import logging
import os
import threading
import time
import urllib.parse

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger("reference_authorizer")

_MAX_COOKIE_HEADERS = 64 * 1024
_MAX_OUR_COOKIE = 16 * 1024
_WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_VERSION = 1
_IV_LEN = 12
_TAG_LEN = 16


class Unauthorized(Exception):
    def __init__(self):
        super().__init__("Unauthorized")


class IntrospectionError(Exception):
    pass


class _Deny(Exception):
    """A 403, carrying the reason code for the log line."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _b64url_decode(value: str) -> bytes:
    if "=" in value:
        raise ValueError("padding")
    return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)


def _parse_key(key_hex: str) -> AESGCM:
    if len(key_hex) != 64:
        raise ValueError("an encryption key must be 64 hex characters")
    return AESGCM(bytes.fromhex(key_hex))


class ReferenceAuthorizer:
    def __init__(self, trusted_web_origins, cookie_name_prefix, encryption_key, previous_encryption_keys=(),
                 allow_token=False, use_phantom_token=False, introspection_url=None, client_id=None,
                 client_secret=None, introspection_timeout_ms=3000, introspection_cache_ttl=300,
                 introspection_cache_size=1024, required_scopes=(), http_api_response_format="simple"):
        self._origins = frozenset(o.strip().lower() for o in trusted_web_origins if o.strip())
        if not self._origins or "*" in self._origins:
            raise ValueError("TRUSTED_WEB_ORIGINS must list at least one origin and not '*'")
        # One cipher object per key, built once: the expensive key schedule is not repeated per request.
        self._ciphers = [_parse_key(encryption_key)] + [_parse_key(k) for k in previous_encryption_keys]
        self._at_name = cookie_name_prefix + "-at"
        self._csrf_name = cookie_name_prefix + "-csrf"
        self._csrf_header = "x-" + cookie_name_prefix.lower() + "-csrf"
        self._allow_token = allow_token
        if isinstance(required_scopes, str):
            required_scopes = required_scopes.split()
        self._required_scopes = tuple(required_scopes)
        if http_api_response_format not in ("simple", "iam"):
            raise ValueError("HTTP_API_RESPONSE_FORMAT must be simple or iam")
        self._simple = http_api_response_format == "simple"
        self._introspector = None
        if use_phantom_token:
            self._introspector = _Introspector(introspection_url, client_id, client_secret,
                                               introspection_timeout_ms, introspection_cache_ttl,
                                               introspection_cache_size)

    @classmethod
    def from_env(cls, env):
        def get(name, default=None):
            value = env.get(name, "").strip()
            return value if value else default

        def flag(name):
            value = (get(name) or "false").lower()
            if value not in ("true", "false"):
                raise ValueError(f"{name} must be true or false")
            return value == "true"

        def items(name):
            return [item.strip() for item in (get(name) or "").split(",") if item.strip()]

        return cls(trusted_web_origins=items("TRUSTED_WEB_ORIGINS"),
                   cookie_name_prefix=get("COOKIE_NAME_PREFIX"),
                   encryption_key=get("ENCRYPTION_KEY"),
                   previous_encryption_keys=items("PREVIOUS_ENCRYPTION_KEYS"),
                   allow_token=flag("ALLOW_TOKEN"),
                   use_phantom_token=flag("USE_PHANTOM_TOKEN"),
                   introspection_url=get("INTROSPECTION_URL"),
                   client_id=get("CLIENT_ID"),
                   client_secret=get("CLIENT_SECRET"),
                   introspection_timeout_ms=int(get("INTROSPECTION_TIMEOUT_MS", "3000")),
                   introspection_cache_ttl=int(get("INTROSPECTION_CACHE_TTL", "300")),
                   introspection_cache_size=int(get("INTROSPECTION_CACHE_SIZE", "1024")),
                   required_scopes=(get("REQUIRED_SCOPES") or "").split(),
                   http_api_response_format=get("HTTP_API_RESPONSE_FORMAT", "simple"))

    # -- the decision, step by step ------------------------------------------------------------------

    def authorize(self, event):
        v2 = isinstance(event, dict) and event.get("version") == "2.0"
        arn = None
        try:
            if not isinstance(event, dict):
                raise _Deny("bad_event")
            arn = event.get("routeArn") if v2 else event.get("methodArn")
            resource = _api_wildcard(arn)
            if resource is None:
                raise _Deny("bad_event")
            token = self._token(event, v2)
            if self._introspector is not None:
                token = self._introspector.exchange(token)
            claims = _jwt_claims(token)
            if self._required_scopes:
                granted = claims.get("scope") if claims else None
                granted = granted.split() if isinstance(granted, str) else ()
                if not all(scope in granted for scope in self._required_scopes):
                    raise _Deny("insufficient_scope")
        except _Deny as deny:
            log.warning("denied reason=%s", deny.reason)
            if v2 and self._simple:
                return {"isAuthorized": False}
            return _policy("anonymous", "Deny", _api_wildcard(arn) or "*")
        context = {"token": "Bearer " + token}
        if v2 and self._simple:
            return {"isAuthorized": True, "context": context}
        sub = claims.get("sub") if claims else None
        principal = sub if isinstance(sub, str) and sub else _pseudonym(token)
        response = _policy(principal, "Allow", resource)
        response["context"] = context
        return response

    def _token(self, event, v2):
        headers = event.get("headers")
        if headers is None:
            headers = {}
        if not isinstance(headers, dict):
            raise _Deny("bad_event")
        if v2:
            http = (event.get("requestContext") or {}).get("http") or {}
            method = http.get("method") if isinstance(http, dict) else None
            cookies = event.get("cookies") or []
            if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
                raise _Deny("bad_event")
            lookup = headers.get
        else:
            method = event.get("httpMethod")
            multi = event.get("multiValueHeaders")
            if multi is not None and not isinstance(multi, dict):
                raise _Deny("bad_event")
            # Header names arrive in any case in payload 1.0: fold them once per request.
            lowered = {name.lower(): value for name, value in headers.items()}
            lookup = lowered.get
            cookies = None
            if multi:
                for name, values in multi.items():
                    if name.lower() == "cookie" and values:
                        if not isinstance(values, list):
                            raise _Deny("bad_event")
                        cookies = values
            if cookies is None:
                single = lowered.get("cookie")
                cookies = [single] if single else []
            if not all(isinstance(c, str) for c in cookies):
                raise _Deny("bad_event")
        if not isinstance(method, str) or not method:
            raise _Deny("bad_event")

        if self._allow_token:
            authorization = lookup("authorization")
            if isinstance(authorization, str):
                scheme, _, bearer = authorization.partition(" ")
                bearer = bearer.strip()
                if scheme.lower() == "bearer" and bearer:
                    return bearer

        if sum(len(c) for c in cookies) > _MAX_COOKIE_HEADERS:
            raise _Deny("bad_event")
        at_values, csrf_values = self._our_cookies(cookies, v2)

        origin = lookup("origin")
        if not origin:
            raise _Deny("missing_origin")
        if not isinstance(origin, str) or origin.lower() not in self._origins:
            raise _Deny("untrusted_origin")

        if method.upper() in _WRITE_METHODS:
            if not csrf_values:
                raise _Deny("csrf_cookie_missing")
            sent = lookup(self._csrf_header)
            if not isinstance(sent, str) or not sent:
                raise _Deny("csrf_header_missing")
            expected = self._decrypt_first(csrf_values)
            if expected is None:
                raise _Deny("csrf_decrypt_failed")
            if not hmac.compare_digest(sent.encode(), expected.encode()):
                raise _Deny("csrf_mismatch")

        if not at_values:
            log.warning("denied reason=at_cookie_missing")
            raise Unauthorized()
        token = self._decrypt_first(at_values)
        if token is None:
            log.warning("denied reason=at_decrypt_failed")
            raise Unauthorized()
        return token

    def _our_cookies(self, cookie_headers, v2):
        """Values of our two cookies, in order of appearance; a plain split, as RFC 6265 pairs are simple."""
        at_values, csrf_values = [], []
        at_name, csrf_name = self._at_name, self._csrf_name
        for header in cookie_headers:
            for pair in header.split(";"):
                name, sep, value = pair.strip().partition("=")
                if not sep:
                    continue
                if name == at_name:
                    target = at_values
                elif name == csrf_name:
                    target = csrf_values
                else:
                    continue
                value = value.strip()
                if len(value) > 1 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                if len(value) > _MAX_OUR_COOKIE:
                    raise _Deny("bad_event")
                target.append(value)
        return at_values, csrf_values

    def _decrypt_first(self, values):
        for value in values:
            plaintext = self.decrypt(value)
            if plaintext is not None:
                return plaintext
        return None

    def decrypt(self, value):
        """The cookie's plaintext under the current or a previous key, or None."""
        try:
            raw = _b64url_decode(value)
        except (ValueError, binascii.Error):
            return None
        if len(raw) < 1 + _IV_LEN + 1 + _TAG_LEN or raw[0] != _VERSION:
            return None
        iv, sealed = raw[1:1 + _IV_LEN], raw[1 + _IV_LEN:]
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(iv, sealed, None).decode("utf-8")
            except InvalidTag:
                continue
            except UnicodeDecodeError:
                return None
        return None


def encrypt_cookie(plaintext: str, key_hex: str) -> str:
    iv = os.urandom(_IV_LEN)
    sealed = AESGCM(bytes.fromhex(key_hex)).encrypt(iv, plaintext.encode("utf-8"), None)
    return base64.urlsafe_b64encode(bytes([_VERSION]) + iv + sealed).rstrip(b"=").decode("ascii")


def _api_wildcard(arn):
    """arn:aws:execute-api:<region>:<account>:<api>/<stage>/... -> .../<api>/<stage>/*, or None."""
    if not isinstance(arn, str):
        return None
    parts = arn.split("/", 2)
    head = parts[0].split(":", 5)
    if len(parts) < 3 or len(head) != 6 or head[0] != "arn" or head[2] != "execute-api" or not all(head) \
            or not parts[1]:
        return None
    if any(c in ": *" or c < "!" for c in head[5] + parts[1]):  # it becomes a policy resource
        return None
    return parts[0] + "/" + parts[1] + "/*"


def _policy(principal, effect, resource):
    return {"principalId": principal,
            "policyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                                              "Resource": resource}]}}


def _jwt_claims(token):
    """The JWT's payload as a dict, or None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, binascii.Error):
        return None
    return claims if isinstance(claims, dict) else None


def _pseudonym(token):
    # Stable per token and useless for recovering it; the same form as ours so that responses compare equal.
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


class _Introspector:
    """RFC 7662 exchange of an opaque token for a JWT, over one kept-alive connection, with an LRU cache."""

    def __init__(self, url, client_id, client_secret, timeout_ms, ttl, size):
        if not url or not client_id or not client_secret:
            raise ValueError("phantom tokens need INTROSPECTION_URL, CLIENT_ID and CLIENT_SECRET")
        parsed = urllib.parse.urlsplit(url)
        self._https = parsed.scheme == "https"
        self._host, self._port = parsed.hostname, parsed.port
        self._path = (parsed.path or "/") + ("?" + parsed.query if parsed.query else "")
        credentials = urllib.parse.quote_plus(client_id) + ":" + urllib.parse.quote_plus(client_secret)
        self._headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
                         "Accept": "application/jwt",
                         "Content-Type": "application/x-www-form-urlencoded"}
        self._timeout = timeout_ms / 1000
        self._ttl, self._size = ttl, size
        self._cache = collections.OrderedDict()
        self._lock = threading.Lock()
        self._conn = None

    def exchange(self, token):
        key = hashlib.sha256(token.encode("utf-8")).digest()
        if self._ttl > 0:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    jwt, expires = hit
                    if expires > time.monotonic():
                        self._cache.move_to_end(key)
                        return jwt
                    del self._cache[key]
        jwt = self._call(token)
        if self._ttl > 0:
            claims = _jwt_claims(jwt) or {}
            lifetime = self._ttl
            exp = claims.get("exp")
            if isinstance(exp, (int, float)):
                lifetime = min(lifetime, exp - time.time())
            if lifetime > 0:
                with self._lock:
                    self._cache[key] = (jwt, time.monotonic() + lifetime)
                    self._cache.move_to_end(key)
                    while len(self._cache) > self._size:
                        self._cache.popitem(last=False)
        return jwt

    def _call(self, token):
        body = urllib.parse.urlencode({"token": token})
        with self._lock:
            for attempt in (0, 1):
                if self._conn is None:
                    cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                    self._conn = cls(self._host, self._port, timeout=self._timeout)
                try:
                    self._conn.request("POST", self._path, body, self._headers)
                    response = self._conn.getresponse()
                    status, data = response.status, response.read()
                    if response.will_close:
                        self._conn.close()
                        self._conn = None
                    break
                except (OSError, http.client.HTTPException):
                    self._conn.close()
                    self._conn = None
                    if attempt:  # one retry: a kept-alive connection may have been closed by the server
                        raise IntrospectionError("introspection failed") from None
        text = data.decode("utf-8", "replace").strip()
        if status == 204 or (status == 200 and not text):
            log.warning("denied reason=token_inactive")
            raise Unauthorized()
        if status != 200:
            log.warning("denied reason=introspection_failed")
            raise IntrospectionError("introspection failed")
        if text.startswith("{"):
            try:
                active = json.loads(text).get("active")
            except (ValueError, AttributeError):
                active = None
            if active is False:
                log.warning("denied reason=token_inactive")
                raise Unauthorized()
            log.warning("denied reason=introspection_failed")
            raise IntrospectionError("introspection failed")
        if text.count(".") != 2:
            log.warning("denied reason=introspection_failed")
            raise IntrospectionError("introspection failed")
        return text


_authorizer = None


def handler(event, context):
    """Lambda entry point, one authorizer per process, built on the first call like ours."""
    global _authorizer
    if _authorizer is None:
        _authorizer = ReferenceAuthorizer.from_env(os.environ)
    return _authorizer.authorize(event)
