"""Configuration: every value is parsed and validated here, once, before the first request; everything after
(OAuthProxy, the C core) trusts it. The variables themselves are the rows of settings.SETTINGS: this module
holds one parser (environment text to the keyword form) and one check (keyword value to the stored value)
per kind of setting, and the rules that join two settings.

Errors: ConfigError, whose message names the variable and what is wrong, never a secret value.

Imports nothing beyond os: this module is loaded in every cold start, and dataclasses, typing and re would
add about 15 ms and 3 MB there (benchmarks/RESULTS.md)."""
from __future__ import annotations

import os

from . import settings as kinds
from .errors import ConfigError
from .references import check_reference, is_reference
from .settings import BY_NAME, SETTINGS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

    from .settings import Setting

    RouteRule = Tuple[str, str, bool, Tuple[str, ...]]

_NAMES = tuple(setting.name for setting in SETTINGS)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_COOKIE_NAME_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_CHARS = frozenset("+.-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# AWS_LAMBDA_LOG_LEVEL (Lambda's advanced logging controls) names levels its own way.
_LAMBDA_LOG_LEVELS = {"TRACE": "DEBUG", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR",
                      "FATAL": "CRITICAL"}
# CloudWatch namespaces: 1 to 255 of these characters, and not AWS/ (reserved for AWS services).
_NAMESPACE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-_/#: ")


class Config:
    """Everything the authorizer needs. Build it with ``Config.from_env(os.environ)`` or with keywords (every
    variable in snake_case; lists as lists). Read-only once built; equal configurations compare and hash
    equal; copy and pickle rebuild it through the same checks."""

    __slots__ = _NAMES

    # One declaration per row of settings.SETTINGS, in its order (tests/test_settings.py holds them together),
    # so that the type checker knows what each attribute holds after the checks below.
    trusted_web_origins: Tuple[str, ...]
    cookie_name_prefix: str
    encryption_key: str
    previous_encryption_keys: Tuple[str, ...]
    allow_token: bool
    use_phantom_token: bool
    introspection_url: Optional[str]
    client_id: Optional[str]
    client_secret: Optional[str]
    introspection_timeout_ms: int
    introspection_ca_file: Optional[str]
    introspection_cache_ttl: int
    introspection_cache_size: int
    required_scopes: Tuple[str, ...]
    http_api_response_format: str
    log_level: str
    introspection_pool_size: int
    metrics: bool
    metrics_namespace: str
    context_claims: Tuple[str, ...]
    route_scopes: Tuple[str, ...]
    require_origin: str
    cookie_format: str
    csrf_mode: str
    secrets_refresh_seconds: int
    jwks_url: Optional[str]
    jwt_issuer: Optional[str]
    jwt_audience: Tuple[str, ...]
    jwt_algorithms: Tuple[str, ...]

    def __init__(self, **values: Any) -> None:
        for name in values:
            if name not in BY_NAME:
                raise TypeError(f"Config() got an unexpected keyword argument {name!r}")
        put = object.__setattr__
        for setting in SETTINGS:
            if setting.name in values:
                put(self, setting.name, _CHECKS[setting.kind](setting, values[setting.name]))
            elif setting.required is True:
                raise ConfigError(f"{setting.env} is required")
            else:
                put(self, setting.name, setting.default)
        self._check_together()

    def _check_together(self) -> None:
        """The rules that join settings, once each value has passed its own check."""
        for setting in SETTINGS:
            if isinstance(setting.required, str) and getattr(self, setting.required) and \
                    getattr(self, setting.name) is None:
                raise ConfigError(f"{setting.env} is required when {BY_NAME[setting.required].env} is true")
        if not self.jwt_algorithms:
            raise ConfigError("JWT_ALGORITHMS must name at least one algorithm")
        if self.allow_token and (self.required_scopes or self.route_scopes or self.context_claims) and \
                self.jwks_url is None and not self.use_phantom_token:
            # A bearer token nobody verified carries its sender's own scopes and claims.
            raise ConfigError("ALLOW_TOKEN=true with REQUIRED_SCOPES, ROUTE_SCOPES or CONTEXT_CLAIMS needs JWKS_URL "
                              "(or USE_PHANTOM_TOKEN=true): an unverified bearer token's scopes and claims prove "
                              "nothing")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Config is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Config is read-only: cannot delete {name!r}")

    def _values(self) -> Tuple[object, ...]:
        return tuple(getattr(self, name) for name in _NAMES)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> Tuple[Callable[..., Config], Tuple[type, Dict[str, object]]]:
        # copy, deepcopy and pickle rebuild through __init__, which validates again.
        return (_rebuild, (self.__class__, dict(zip(_NAMES, self._values()))))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Reads every variable of the settings table from any mapping (usually ``os.environ``). Values are
        stripped of surrounding blanks and an empty value means unset."""
        values: Dict[str, object] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env)
            if raw is None:
                continue
            if not isinstance(raw, str):
                raise ConfigError(f"{setting.env} must be a string")
            text = raw.strip()
            if text:
                values[setting.name] = _PARSERS.get(setting.kind, _as_text)(setting, text)
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
        shown = ", ".join(f"{setting.name}={'<hidden>' if setting.secret else repr(getattr(self, setting.name))}"
                          for setting in SETTINGS)
        return f"Config({shown})"


def _rebuild(cls: type, values: Dict[str, object]) -> Config:
    config = cls(**values)
    assert isinstance(config, Config)
    return config


def setting_from_env(env: Mapping[str, str], name: str) -> object:
    """One variable read and checked as Config.from_env would (its default when unset), for tools that need a
    single setting without a whole configuration, like the command line. ConfigError as from Config."""
    setting = BY_NAME[name]
    raw = env.get(setting.env)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return setting.default
    return _CHECKS[setting.kind](setting, _PARSERS.get(setting.kind, _as_text)(setting, text))


def route_rules(config: Config) -> List[RouteRule]:
    """ROUTE_SCOPES as the C side takes them: (method or *, path or prefix, is_prefix, scopes), best first
    (an exact path, then longer prefixes, then shorter; a named method before *), so the first that applies
    to a request is the one that counts. The entries are already checked and in canonical form
    (`METHOD PATH=scope ...`, single spaces), so they are only split here."""
    rules: List[RouteRule] = []
    for entry in config.route_scopes:
        head, _, scope_text = entry.partition("=")
        method, _, path = head.partition(" ")
        prefix = path.endswith("/*")
        rules.append((method, path[:-2] if prefix else path, prefix, tuple(scope_text.split(" "))))
    rules.sort(key=lambda rule: (rule[2], -len(rule[1]) if rule[2] else 0, rule[0] == "*"))
    return rules


# ---- environment text to the keyword form -------------------------------------------------------------

def _as_text(setting: Setting, text: str) -> object:
    return text


def _comma_list(setting: Setting, text: str) -> object:
    return [item.strip() for item in text.split(",")]


def _flag_text(setting: Setting, text: str) -> object:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ConfigError(f"{setting.env} must be true or false, not {text!r}")
    return lowered == "true"


def _number_text(setting: Setting, text: str) -> object:
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(f"{setting.env} must be a whole number, not {text!r}")
    return int(text)


_PARSERS: Dict[str, Callable[[Setting, str], object]] = {
    kinds.ORIGINS: _comma_list,
    kinds.KEYS: _comma_list,
    kinds.LIST: _comma_list,
    kinds.FLAG: _flag_text,
    kinds.NUMBER: _number_text,
}


# ---- the checks: a keyword value to the stored value, or ConfigError ---------------------------------------

def _text_list(setting: str, value: object) -> List[str]:
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{setting} must be a list of strings")
    try:
        items = list(value)  # type: ignore[call-overload]
    except TypeError:
        raise ConfigError(f"{setting} must be a list of strings") from None
    strings: List[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{setting} must be a list of strings")
        if not _is_utf8_text(item):
            raise ConfigError(f"{setting} holds an item that is not valid text (an undecodable byte or a lone surrogate)")
        strings.append(item)
    return strings


def _origins(setting: Setting, value: object) -> Tuple[str, ...]:
    name = setting.env
    origins = [item.strip() for item in _text_list(name, value)]
    origins = [item for item in origins if item]
    if not origins:
        raise ConfigError(f"{name} must list at least one origin, e.g. https://www.example.com")
    for origin in origins:
        if origin == "*":
            raise ConfigError(f"{name} must not be '*': list the web origins that may call the API")
        if not _is_origin(origin):
            raise ConfigError(f"{name}: {origin!r} is not an origin (scheme://host[:port], no path or trailing slash)")
    return tuple(origins)


def _cookie_prefix(setting: Setting, value: object) -> str:
    shortest, longest = _bounds(setting)
    if not isinstance(value, str) or not shortest <= len(value) <= longest or not _COOKIE_NAME_CHARS.issuperset(value):
        raise ConfigError(f"{setting.env} must be {shortest} to {longest} cookie-name characters "
                          "(letters, digits, !#$%&'*+-.^_`|~)")
    return value


def _key(setting: str, value: object) -> str:
    if not isinstance(value, str) or len(value) != 64 or not _HEX_DIGITS.issuperset(value):
        detail = f"got {len(value)} characters" if isinstance(value, str) else f"got a {type(value).__name__}"
        raise ConfigError(f"{setting} must be 64 hexadecimal characters (32 bytes); {detail}")
    return value


def _key_or_reference(setting: str, value: object) -> str:
    """A key, or a reference to one kept in AWS: only the reference's syntax here, the key itself when it is
    fetched (secret_refs)."""
    if is_reference(value):
        return check_reference(setting, value)  # type: ignore[arg-type]  # is_reference: a str
    return _key(setting, value)


def _one_key(setting: Setting, value: object) -> str:
    return _key_or_reference(setting.env, value)


def _keys(setting: Setting, value: object) -> Tuple[str, ...]:
    keys = [item.strip() for item in _text_list(setting.env, value)]
    keys = [item for item in keys if item]
    for position, item in enumerate(keys, 1):
        _key_or_reference(f"{setting.env} (item {position})", item)
    return tuple(keys)


def _flag(setting: Setting, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{setting.env} must be true or false")
    return value


def _bounds(setting: Setting) -> Tuple[int, int]:
    lowest, highest = setting.limits or (0, 0)
    assert isinstance(lowest, int) and isinstance(highest, int), setting
    return lowest, highest


def _number(setting: Setting, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{setting.env} must be a whole number")
    lowest, highest = _bounds(setting)
    if not lowest <= value <= highest:
        raise ConfigError(f"{setting.env} must be between {lowest} and {highest}, not {value}")
    return value


def _choice(setting: Setting, value: object) -> str:
    """The allowed word, as the table writes it, for a value in any case and with blanks around."""
    allowed = [str(word) for word in setting.limits or ()]
    if isinstance(value, str):
        for word in allowed:
            if value.strip().lower() == word.lower():
                return word
    raise ConfigError(f"{setting.env} must be one of {', '.join(allowed)}, not {value!r}")


def _namespace(setting: Setting, value: object) -> str:
    if (not isinstance(value, str) or not 1 <= len(value) <= 255 or not _NAMESPACE_CHARS.issuperset(value)
            or value.startswith("AWS/")):
        raise ConfigError(f"{setting.env} must be 1 to 255 letters, digits or . - _ / # : and spaces, "
                          "and not start with AWS/")
    return value


def _words(setting: Setting, value: object) -> Tuple[str, ...]:
    """Comma-separated items, blanks and empty items ignored, repeats dropped; with limits, each item one of
    them (any case in, the table's case out)."""
    if isinstance(value, str):
        value = value.split(",")
    allowed = [str(word) for word in setting.limits or ()]
    items: List[str] = []
    for item in (text.strip() for text in _text_list(setting.env, value)):
        if item and allowed:
            match = [word for word in allowed if word.lower() == item.lower()]
            if not match:
                raise ConfigError(f"{setting.env}: {item!r} is not one of {', '.join(allowed)}")
            item = match[0]
        if item and item not in items:
            items.append(item)
    return tuple(items)


def _generations(setting: Setting, value: object) -> str:
    """One or more of the allowed words (a comma-separated string or a list; any case, any order, blanks
    ignored), written back joined by commas in the table's order, so that "v2, V1" and ["v1", "v2"] are both
    "v1,v2"."""
    allowed = [str(word) for word in setting.limits or ()]
    if isinstance(value, str):
        value = value.split(",")
    try:
        given = {item.strip().lower() for item in _text_list(setting.env, value)}
    except ConfigError:
        given = set()
    if not given or not given <= {word.lower() for word in allowed}:
        raise ConfigError(f"{setting.env} must be {', '.join(allowed)} or several of them joined by commas "
                          f"(e.g. {','.join(allowed)}), not {value!r}")
    return ",".join(word for word in allowed if word.lower() in given)


def _scopes(setting: Setting, value: object) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = value.split()
    scopes = _text_list(setting.env, value)
    for scope in scopes:
        if not scope or any(c.isspace() for c in scope):
            raise ConfigError(f"{setting.env}: {scope!r} is not a single scope")
    return tuple(scopes)


def _claim_names(setting: Setting, value: object) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    names: List[str] = []
    for name in (item.strip() for item in _text_list(setting.env, value)):
        if name == "token":
            raise ConfigError(f"{setting.env} must not name 'token': that context entry is the upstream "
                              "Authorization header")
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _route_entries(setting: Setting, value: object) -> Tuple[str, ...]:
    """ROUTE_SCOPES in canonical form, one `METHOD PATH=scope ...` string per entry (route_rules splits it)."""
    if isinstance(value, str):
        value = value.split(";")
    entries: List[str] = []
    seen = set()
    for text in _text_list(setting.env, value):
        if not text.strip():
            continue
        method, path, scopes = _route_entry(setting.env, text)
        if (method, path) in seen:
            raise ConfigError(f"{setting.env}: {text.strip()!r} repeats {method} {path}: give each route one entry")
        seen.add((method, path))
        entries.append(f"{method} {path}={' '.join(scopes)}")
    return tuple(entries)


def _route_entry(name: str, text: str) -> Tuple[str, str, List[str]]:
    entry = text.strip()
    head, equals, scope_text = entry.partition("=")
    parts, scopes = head.split(), scope_text.split()
    if not equals or len(parts) != 2 or not scopes:
        raise ConfigError(f"{name}: {entry!r} is not 'METHOD PATH=scope [scope...]'")
    method, path = parts[0].upper(), parts[1]
    if method == "ANY":
        raise ConfigError(f"{name}: {entry!r}: write * for any method")
    if method != "*" and not (parts[0].isascii() and method.isalpha()):
        raise ConfigError(f"{name}: {entry!r}: the method must be an HTTP method or *")
    base = path[:-2] if path.endswith("/*") else path
    if not (path == "$default" or path.startswith("/")) or "*" in base:
        raise ConfigError(f"{name}: {entry!r}: the path must be a resource path (/orders/{{id}}), a prefix "
                          "ending in /* (/orders/*), or $default")
    return method, path, scopes


def _optional_text(setting: Setting, value: object) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{setting.env} must be a string")
    if not _is_utf8_text(value):
        # Checked here, so the error names the setting and carries no UnicodeEncodeError (whose args would
        # hold the value, e.g. the client secret) as its context.
        raise ConfigError(f"{setting.env} is not valid text (an undecodable byte or a lone surrogate)")
    if setting.secret and is_reference(value):
        check_reference(setting.env, value)
    return value or None


def _url(setting: Setting, value: object) -> Optional[str]:
    text = _optional_text(setting, value)
    if text is None:
        return None
    lowered = text[:8].lower()
    rest = text[8:] if lowered.startswith("https://") else text[7:] if lowered.startswith("http://") else None
    host, _, path = (rest or "").partition("/")
    if not host or any(c in "?#" or c.isspace() for c in host) or any(c.isspace() for c in path):
        raise ConfigError(f"{setting.env} must be an http:// or https:// URL")
    if "@" in host:
        # user:password@ would put a credential where repr(Config) and logs show it; the client
        # credentials belong in CLIENT_ID and CLIENT_SECRET.
        raise ConfigError(f"{setting.env} must not carry credentials (user@ or user:password@): use CLIENT_ID "
                          "and CLIENT_SECRET")
    return text


def _file(setting: Setting, value: object) -> Optional[str]:
    path = _optional_text(setting, value)
    if path is not None and not os.path.isfile(path):
        raise ConfigError(f"{setting.env}: {path!r} is not a readable file")
    return path


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


_CHECKS: Dict[str, Callable[[Setting, object], object]] = {
    kinds.ORIGINS: _origins,
    kinds.COOKIE_PREFIX: _cookie_prefix,
    kinds.KEY: _one_key,
    kinds.KEYS: _keys,
    kinds.FLAG: _flag,
    kinds.NUMBER: _number,
    kinds.TEXT: _optional_text,
    kinds.URL: _url,
    kinds.FILE: _file,
    kinds.CHOICE: _choice,
    kinds.LIST: _words,
    kinds.SCOPES: _scopes,
    kinds.CLAIMS: _claim_names,
    kinds.ROUTES: _route_entries,
    kinds.NAMESPACE: _namespace,
    kinds.GENERATIONS: _generations,
}
