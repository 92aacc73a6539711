"""Identity.claims: the JWT payload as read-only Python values, made on first access (json is imported then,
not at cold start). The C scanner has already decided that the payload is a strict JSON object."""
from __future__ import annotations

from types import MappingProxyType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(value: object) -> object:
    if isinstance(value, dict):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def _whole_number(text: str) -> object:
    try:
        return int(text)
    except ValueError:  # past Python's limit on integer digits (sys.set_int_max_str_digits): inf, not an error
        return float(text)


def read_payload(payload: Optional[bytes]) -> Mapping[str, Any]:
    """The claims of a JWT payload (bytes of a JSON object), or an empty mapping for None (an opaque token)."""
    if payload is None:
        return _EMPTY
    import json

    claims = _frozen(json.loads(payload, parse_int=_whole_number))
    assert isinstance(claims, MappingProxyType)  # the C scanner passes only a JSON object
    return claims
