"""Configuration: parsed and validated once, before the first request (contract, section 3).

Imports nothing beyond os: this module is loaded in every cold start, and dataclasses, typing and re would
add about 15 ms and 3 MB there (benchmarks/RESULTS.md)."""
from __future__ import annotations

import os

from .errors import ConfigError
from .secret_refs import check_reference, is_reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional, Sequence, Union

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_COOKIE_NAME_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_CHARS = frozenset("+.-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# AWS_LAMBDA_LOG_LEVEL (Lambda's advanced logging controls) names levels its own way.
_LAMBDA_LOG_LEVELS = {"TRACE": "DEBUG", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR",
                      "FATAL": "CRITICAL"}
# CloudWatch namespaces: 1 to 255 of these characters, and not AWS/ (reserved for AWS services).
_NAMESPACE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-_/#: ")
_RESPONSE_FORMATS = ("simple", "iam")
_ORIGIN_REQUIREMENTS = ("always", "writes")
_SECRET_FIELDS = ("encryption_key", "previous_encryption_keys", "client_secret")
_FIELDS = ("trusted_web_origins", "cookie_name_prefix", "encryption_key", "previous_encryption_keys", "allow_token",
           "use_phantom_token", "introspection_url", "client_id", "client_secret", "introspection_timeout_ms",
           "introspection_ca_file", "introspection_cache_ttl", "introspection_cache_size", "required_scopes",
           "http_api_response_format", "log_level", "introspection_pool_size", "metrics", "metrics_namespace",
           "context_claims", "route_scopes", "require_origin", "secrets_refresh_seconds")


class Config:
    """Everything the authorizer needs. Build it with ``Config.from_env(os.environ)`` or with keywords.
    Read-only once built."""

    __slots__ = _FIELDS

    def __init__(self, trusted_web_origins: Sequence[str], cookie_name_prefix: str, encryption_key: str,
                 previous_encryption_keys: Sequence[str] = (), allow_token: bool = False,
                 use_phantom_token: bool = False, introspection_url: Optional[str] = None,
                 client_id: Optional[str] = None, client_secret: Optional[str] = None,
                 introspection_timeout_ms: int = 3000, introspection_ca_file: Optional[str] = None,
                 introspection_cache_ttl: int = 300, introspection_cache_size: int = 1024,
                 required_scopes: Union[Sequence[str], str] = (), http_api_response_format: str = "simple",
                 log_level: str = "WARNING", introspection_pool_size: int = 4, metrics: bool = False,
                 metrics_namespace: str = "OAuthProxy", context_claims: Union[Sequence[str], str] = (),
                 route_scopes: Union[Sequence[str], str] = (), require_origin: str = "always",
                 secrets_refresh_seconds: int = 300) -> None:
        given = locals()
        put = object.__setattr__
        for name in _FIELDS:
            put(self, name, given[name])
        self._validate()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Config is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Config is read-only: cannot delete {name!r}")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple:
        # copy, deepcopy and pickle rebuild through __init__, which validates again.
        return (self.__class__, self._values())

    def _validate(self) -> None:
        put = object.__setattr__
        put(self, "trusted_web_origins", _origins(self.trusted_web_origins))
        put(self, "cookie_name_prefix", _cookie_prefix(self.cookie_name_prefix))
        put(self, "encryption_key", _key_or_reference("ENCRYPTION_KEY", self.encryption_key))
        put(self, "previous_encryption_keys", _previous_keys(self.previous_encryption_keys))
        put(self, "allow_token", _flag("ALLOW_TOKEN", self.allow_token))
        put(self, "use_phantom_token", _flag("USE_PHANTOM_TOKEN", self.use_phantom_token))
        put(self, "introspection_timeout_ms", _number("INTROSPECTION_TIMEOUT_MS", self.introspection_timeout_ms, 1, 600_000))
        put(self, "introspection_cache_ttl", _number("INTROSPECTION_CACHE_TTL", self.introspection_cache_ttl, 0, 86_400))
        put(self, "introspection_cache_size", _number("INTROSPECTION_CACHE_SIZE", self.introspection_cache_size, 0, 10_000_000))
        put(self, "introspection_pool_size", _number("INTROSPECTION_POOL_SIZE", self.introspection_pool_size, 1, 64))
        put(self, "secrets_refresh_seconds", _number("SECRETS_REFRESH_SECONDS", self.secrets_refresh_seconds, 0, 86_400))
        put(self, "metrics", _flag("METRICS", self.metrics))
        put(self, "metrics_namespace", _namespace(self.metrics_namespace))
        put(self, "required_scopes", _scopes(self.required_scopes))
        put(self, "http_api_response_format", _choice("HTTP_API_RESPONSE_FORMAT", self.http_api_response_format, _RESPONSE_FORMATS).lower())
        put(self, "log_level", _choice("LOG_LEVEL", self.log_level, _LOG_LEVELS).upper())
        put(self, "context_claims", _claim_names(self.context_claims))
        put(self, "route_scopes", _route_entries(self.route_scopes))
        put(self, "require_origin", _choice("REQUIRE_ORIGIN", self.require_origin, _ORIGIN_REQUIREMENTS).lower())
        for name in ("introspection_url", "client_id", "client_secret", "introspection_ca_file"):
            put(self, name, _optional_text(name.upper(), getattr(self, name)))
        if is_reference(self.client_secret):
            check_reference("CLIENT_SECRET", self.client_secret)  # type: ignore[arg-type]
        if self.introspection_url is not None:
            _url("INTROSPECTION_URL", self.introspection_url)
        if self.introspection_ca_file is not None and not os.path.isfile(self.introspection_ca_file):
            raise ConfigError(f"INTROSPECTION_CA_FILE: {self.introspection_ca_file!r} is not a readable file")
        if self.use_phantom_token:
            for name in ("introspection_url", "client_id", "client_secret"):
                if getattr(self, name) is None:
                    raise ConfigError(f"{name.upper()} is required when USE_PHANTOM_TOKEN is true")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Config":
        """Reads the variables of section 3 from any mapping (usually ``os.environ``). Values are stripped
        of surrounding blanks and an empty value means unset."""
        values = {}
        for name in _FIELDS:
            raw = env.get(name.upper())
            if raw is None:
                continue
            if not isinstance(raw, str):
                raise ConfigError(f"{name.upper()} must be a string")
            text = raw.strip()
            if text:
                values[name] = _from_text(name, text)
        for name in ("trusted_web_origins", "cookie_name_prefix", "encryption_key"):
            if name not in values:
                raise ConfigError(f"{name.upper()} is required")
        if "log_level" not in values:
            lambda_level = env.get("AWS_LAMBDA_LOG_LEVEL")
            if isinstance(lambda_level, str) and lambda_level.strip():
                level = _LAMBDA_LOG_LEVELS.get(lambda_level.strip().upper())
                if level is None:
                    raise ConfigError(f"AWS_LAMBDA_LOG_LEVEL (used while LOG_LEVEL is unset) must be one of "
                                      f"{', '.join(_LAMBDA_LOG_LEVELS)}, not {lambda_level.strip()!r}")
                values["log_level"] = level
        return cls(**values)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'<hidden>' if name in _SECRET_FIELDS else repr(getattr(self, name))}" for name in _FIELDS
        )
        return f"Config({shown})"


def _from_text(name: str, text: str) -> object:
    """Environment text to the keyword form's types."""
    if name in ("trusted_web_origins", "previous_encryption_keys"):
        return [item.strip() for item in text.split(",")]
    if name in ("allow_token", "use_phantom_token", "metrics"):
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ConfigError(f"{name.upper()} must be true or false, not {text!r}")
        return lowered == "true"
    if name.startswith("introspection_") and name[len("introspection_"):] in ("timeout_ms", "cache_ttl", "cache_size",
                                                                                   "pool_size") \
            or name == "secrets_refresh_seconds":
        if not (text.isascii() and text.isdigit()):
            raise ConfigError(f"{name.upper()} must be a whole number, not {text!r}")
        return int(text)
    return text


def _text_list(setting: str, value: object) -> list:
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{setting} must be a list of strings")
    try:
        items = list(value)  # type: ignore[call-overload]
    except TypeError:
        raise ConfigError(f"{setting} must be a list of strings") from None
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{setting} must be a list of strings")
        if not _is_utf8_text(item):
            raise ConfigError(f"{setting} holds an item that is not valid text (an undecodable byte or a lone surrogate)")
    return items


def _origins(value: object) -> tuple:
    origins = [item.strip() for item in _text_list("TRUSTED_WEB_ORIGINS", value)]
    origins = [item for item in origins if item]
    if not origins:
        raise ConfigError("TRUSTED_WEB_ORIGINS must list at least one origin, e.g. https://www.example.com")
    for origin in origins:
        if origin == "*":
            raise ConfigError("TRUSTED_WEB_ORIGINS must not be '*': list the web origins that may call the API")
        if not _is_origin(origin):
            raise ConfigError(
                f"TRUSTED_WEB_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path or trailing slash)"
            )
    return tuple(origins)


def _cookie_prefix(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or not _COOKIE_NAME_CHARS.issuperset(value):
        raise ConfigError("COOKIE_NAME_PREFIX must be 1 to 64 cookie-name characters (letters, digits, !#$%&'*+-.^_`|~)")
    return value


def _key(setting: str, value: object) -> str:
    if not isinstance(value, str) or len(value) != 64 or not _HEX_DIGITS.issuperset(value):
        detail = f"got {len(value)} characters" if isinstance(value, str) else f"got a {type(value).__name__}"
        raise ConfigError(f"{setting} must be 64 hexadecimal characters (32 bytes); {detail}")
    return value


def _key_or_reference(setting: str, value: object) -> str:
    """A key, or a reference to one in AWS (secret_refs): only its syntax here, the key when it is fetched."""
    if is_reference(value):
        return check_reference(setting, value)  # type: ignore[arg-type]
    return _key(setting, value)


def _previous_keys(value: object) -> tuple:
    keys = [item.strip() for item in _text_list("PREVIOUS_ENCRYPTION_KEYS", value)]
    keys = [item for item in keys if item]
    for position, item in enumerate(keys, 1):
        _key_or_reference(f"PREVIOUS_ENCRYPTION_KEYS (item {position})", item)
    return tuple(keys)


def _flag(setting: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{setting} must be true or false")
    return value


def _number(setting: str, value: object, lowest: int, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{setting} must be a whole number")
    if not lowest <= value <= highest:
        raise ConfigError(f"{setting} must be between {lowest} and {highest}, not {value}")
    return value


def _choice(setting: str, value: object, allowed: tuple) -> str:
    if not isinstance(value, str) or value.strip().lower() not in [a.lower() for a in allowed]:
        raise ConfigError(f"{setting} must be one of {', '.join(allowed)}, not {value!r}")
    return value.strip()


def _namespace(value: object) -> str:
    if (not isinstance(value, str) or not 1 <= len(value) <= 255 or not _NAMESPACE_CHARS.issuperset(value)
            or value.startswith("AWS/")):
        raise ConfigError("METRICS_NAMESPACE must be 1 to 255 letters, digits or . - _ / # : and spaces, "
                          "and not start with AWS/")
    return value


def _scopes(value: object) -> tuple:
    if isinstance(value, str):
        value = value.split()
    scopes = _text_list("REQUIRED_SCOPES", value)
    for scope in scopes:
        if not scope or any(c.isspace() for c in scope):
            raise ConfigError(f"REQUIRED_SCOPES: {scope!r} is not a single scope")
    return tuple(scopes)


def _claim_names(value: object) -> tuple:
    if isinstance(value, str):
        value = value.split(",")
    names = []
    for name in (item.strip() for item in _text_list("CONTEXT_CLAIMS", value)):
        if name == "token":
            raise ConfigError("CONTEXT_CLAIMS must not name 'token': that context entry is the upstream Authorization header")
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _route_entries(value: object) -> tuple:
    """ROUTE_SCOPES in canonical form, one `METHOD PATH=scope ...` string per entry."""
    if isinstance(value, str):
        value = value.split(";")
    entries, seen = [], set()
    for text in _text_list("ROUTE_SCOPES", value):
        if not text.strip():
            continue
        method, path, scopes = _route_entry(text)
        if (method, path) in seen:
            raise ConfigError(f"ROUTE_SCOPES: {text.strip()!r} repeats {method} {path}: give each route one entry")
        seen.add((method, path))
        entries.append(f"{method} {path}={' '.join(scopes)}")
    return tuple(entries)


def _route_entry(text: str) -> tuple:
    entry = text.strip()
    head, equals, scope_text = entry.partition("=")
    parts, scopes = head.split(), scope_text.split()
    if not equals or len(parts) != 2 or not scopes:
        raise ConfigError(f"ROUTE_SCOPES: {entry!r} is not 'METHOD PATH=scope [scope...]'")
    method, path = parts[0].upper(), parts[1]
    if method == "ANY":
        raise ConfigError(f"ROUTE_SCOPES: {entry!r}: write * for any method")
    if method != "*" and not (parts[0].isascii() and method.isalpha()):
        raise ConfigError(f"ROUTE_SCOPES: {entry!r}: the method must be an HTTP method or *")
    base = path[:-2] if path.endswith("/*") else path
    if not (path == "$default" or path.startswith("/")) or "*" in base:
        raise ConfigError(f"ROUTE_SCOPES: {entry!r}: the path must be a resource path (/orders/{{id}}), a prefix "
                          "ending in /* (/orders/*), or $default")
    return method, path, tuple(scopes)


def route_rules(config: "Config") -> list:
    """ROUTE_SCOPES as the C side takes them: (method or *, path or prefix, is_prefix, scopes), best first
    (an exact path, then longer prefixes, then shorter; a named method before *), so the first that applies
    to a request is the one that counts."""
    rules = []
    for entry in config.route_scopes:
        method, path, scopes = _route_entry(entry)
        prefix = path.endswith("/*")
        rules.append((method, path[:-2] if prefix else path, prefix, scopes))
    rules.sort(key=lambda rule: (rule[2], -len(rule[1]) if rule[2] else 0, rule[0] == "*"))
    return rules


def _optional_text(setting: str, value: object) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{setting} must be a string")
    if not _is_utf8_text(value):
        # Checked here, so the error names the setting and carries no UnicodeEncodeError (whose args would
        # hold the value, e.g. the client secret) as its context.
        raise ConfigError(f"{setting} is not valid text (an undecodable byte or a lone surrogate)")
    return value or None


def _is_utf8_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_origin(text: str) -> bool:
    """scheme://host[:port] and nothing after: an Origin header never carries a path, so a trusted origin
    written with one (or with a trailing slash) could never match, and the mistake is better caught here."""
    scheme, sep, host = text.partition("://")
    return (bool(sep) and scheme[:1].isascii() and scheme[:1].isalpha() and _SCHEME_CHARS.issuperset(scheme)
            and bool(host) and not any(c in "/?#,*" or c.isspace() for c in host))


def _url(setting: str, value: str) -> None:
    lowered = value[:8].lower()
    rest = value[8:] if lowered.startswith("https://") else value[7:] if lowered.startswith("http://") else None
    host, _, path = (rest or "").partition("/")
    if not host or any(c in "?#" or c.isspace() for c in host) or any(c.isspace() for c in path):
        raise ConfigError(f"{setting} must be an http:// or https:// URL")
    if "@" in host:
        # user:password@ would put a credential where repr(Config) and logs show it; the client
        # credentials belong in CLIENT_ID and CLIENT_SECRET.
        raise ConfigError(f"{setting} must not carry credentials (user@ or user:password@): use CLIENT_ID and CLIENT_SECRET")
