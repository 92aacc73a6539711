"""Configuration: parsed and validated once, before the first request (contract, section 3)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Iterable, Mapping, Optional, Sequence, Union

from .errors import ConfigError

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}")
# scheme://host[:port], nothing after: an Origin header never carries a path, so a trusted origin written
# with one (or with a trailing slash) could never match, and the mistake is better caught here.
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s,*]+")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RESPONSE_FORMATS = ("simple", "iam")
_SECRET_FIELDS = ("encryption_key", "previous_encryption_keys", "client_secret")


@dataclass(frozen=True)
class Config:
    """Everything the authorizer needs. Build it with ``Config.from_env(os.environ)`` or with keywords."""

    trusted_web_origins: Sequence[str]
    cookie_name_prefix: str
    encryption_key: str = field(repr=False)
    previous_encryption_keys: Sequence[str] = field(default=(), repr=False)
    allow_token: bool = False
    use_phantom_token: bool = False
    introspection_url: Optional[str] = None
    client_id: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False)
    introspection_timeout_ms: int = 3000
    introspection_ca_file: Optional[str] = None
    introspection_cache_ttl: int = 300
    introspection_cache_size: int = 1024
    required_scopes: Union[Sequence[str], str] = ()
    http_api_response_format: str = "simple"
    log_level: str = "WARNING"

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "trusted_web_origins", _origins(self.trusted_web_origins))
        put(self, "cookie_name_prefix", _cookie_prefix(self.cookie_name_prefix))
        put(self, "encryption_key", _key("ENCRYPTION_KEY", self.encryption_key))
        put(self, "previous_encryption_keys", _previous_keys(self.previous_encryption_keys))
        put(self, "allow_token", _flag("ALLOW_TOKEN", self.allow_token))
        put(self, "use_phantom_token", _flag("USE_PHANTOM_TOKEN", self.use_phantom_token))
        put(self, "introspection_timeout_ms", _number("INTROSPECTION_TIMEOUT_MS", self.introspection_timeout_ms, 1, 600_000))
        put(self, "introspection_cache_ttl", _number("INTROSPECTION_CACHE_TTL", self.introspection_cache_ttl, 0, 86_400))
        put(self, "introspection_cache_size", _number("INTROSPECTION_CACHE_SIZE", self.introspection_cache_size, 0, 10_000_000))
        put(self, "required_scopes", _scopes(self.required_scopes))
        put(self, "http_api_response_format", _choice("HTTP_API_RESPONSE_FORMAT", self.http_api_response_format, _RESPONSE_FORMATS).lower())
        put(self, "log_level", _choice("LOG_LEVEL", self.log_level, _LOG_LEVELS).upper())
        for name in ("introspection_url", "client_id", "client_secret", "introspection_ca_file"):
            put(self, name, _optional_text(name.upper(), getattr(self, name)))
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
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None:
                continue
            if not isinstance(raw, str):
                raise ConfigError(f"{f.name.upper()} must be a string")
            text = raw.strip()
            if text:
                values[f.name] = _from_text(f.name, text)
        for name in ("trusted_web_origins", "cookie_name_prefix", "encryption_key"):
            if name not in values:
                raise ConfigError(f"{name.upper()} is required")
        return cls(**values)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'<hidden>' if f.name in _SECRET_FIELDS else repr(getattr(self, f.name))}" for f in fields(self)
        )
        return f"Config({shown})"


def _from_text(name: str, text: str) -> object:
    """Environment text to the keyword form's types."""
    if name in ("trusted_web_origins", "previous_encryption_keys"):
        return [item.strip() for item in text.split(",")]
    if name in ("allow_token", "use_phantom_token"):
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ConfigError(f"{name.upper()} must be true or false, not {text!r}")
        return lowered == "true"
    if name.startswith("introspection_") and name[len("introspection_"):] in ("timeout_ms", "cache_ttl", "cache_size"):
        if not re.fullmatch(r"[0-9]+", text):
            raise ConfigError(f"{name.upper()} must be a whole number, not {text!r}")
        return int(text)
    return text


def _text_list(setting: str, value: object) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigError(f"{setting} must be a list of strings")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{setting} must be a list of strings")
    return items


def _origins(value: object) -> tuple:
    origins = [item.strip() for item in _text_list("TRUSTED_WEB_ORIGINS", value)]
    origins = [item for item in origins if item]
    if not origins:
        raise ConfigError("TRUSTED_WEB_ORIGINS must list at least one origin, e.g. https://www.example.com")
    for origin in origins:
        if origin == "*":
            raise ConfigError("TRUSTED_WEB_ORIGINS must not be '*': list the web origins that may call the API")
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"TRUSTED_WEB_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path or trailing slash)"
            )
    return tuple(origins)


def _cookie_prefix(value: object) -> str:
    if not isinstance(value, str) or not _COOKIE_NAME.fullmatch(value):
        raise ConfigError("COOKIE_NAME_PREFIX must be 1 to 64 cookie-name characters (letters, digits, !#$%&'*+-.^_`|~)")
    return value


def _key(setting: str, value: object) -> str:
    if not isinstance(value, str) or not _HEX_KEY.fullmatch(value):
        detail = f"got {len(value)} characters" if isinstance(value, str) else f"got a {type(value).__name__}"
        raise ConfigError(f"{setting} must be 64 hexadecimal characters (32 bytes); {detail}")
    return value


def _previous_keys(value: object) -> tuple:
    keys = [item.strip() for item in _text_list("PREVIOUS_ENCRYPTION_KEYS", value)]
    keys = [item for item in keys if item]
    for position, item in enumerate(keys, 1):
        _key(f"PREVIOUS_ENCRYPTION_KEYS (item {position})", item)
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


def _scopes(value: object) -> tuple:
    if isinstance(value, str):
        return tuple(value.split())
    scopes = _text_list("REQUIRED_SCOPES", value)
    for scope in scopes:
        if not scope or any(c.isspace() for c in scope):
            raise ConfigError(f"REQUIRED_SCOPES: {scope!r} is not a single scope")
    return tuple(scopes)


def _optional_text(setting: str, value: object) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{setting} must be a string")
    return value or None


def _url(setting: str, value: str) -> None:
    if not re.fullmatch(r"(?i)https?://[^/?#\s]+(/[^\s]*)?", value):
        raise ConfigError(f"{setting} must be an http:// or https:// URL")
