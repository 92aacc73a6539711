from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping, Sequence, final

# Every reason code of a denial -> the status API Gateway answers (401, 403 or 500); read-only.
REASONS: MappingProxyType[str, int]

class Unauthorized(Exception):
    status: ClassVar[int]  # 401
    reason: str | None  # the reason code of the denial log line
class Forbidden(Exception):
    status: ClassVar[int]  # 403
    reason: str | None
class IntrospectionError(Exception):
    status: ClassVar[int]  # 500
    reason: str | None  # "introspection_failed"
class CookieDecryptionError(ValueError): ...

@final
class Identity:
    """Made by OAuthProxy.authenticate only; immutable. allow() takes it back only from the same proxy and for
    an event with the same method or route ARN."""
    @property
    def token(self) -> str: ...
    @property
    def principal(self) -> str: ...
    @property
    def claims(self) -> Mapping[str, Any]: ...
    @property
    def scopes(self) -> frozenset[str]: ...
    @property
    def source(self) -> str: ...  # "cookie" or "bearer"
    @property
    def resource(self) -> str: ...

def encrypt_cookie(plaintext: str, key_hex: str, format: str = "v1") -> str: ...  # format: "v1" or "v2"
def decrypt_cookie(value: str, key_hex: str, format: str = "v1") -> str: ...
def _system_ca_bundle() -> str | None: ...

class Authorizer:
    def __init__(
        self,
        trusted_origins: Sequence[str],
        cookie_name_prefix: str,
        keys: Sequence[str],
        allow_token: bool,
        required_scopes: Sequence[str],
        simple_responses: bool,
        on_deny: Callable[..., object],  # (reason, status, event) or, for an introspection failure, (..., detail)
        *,
        reads_without_origin: bool = False,
        context_claims: Sequence[str] = (),
        route_scopes: Sequence[tuple[str, str, bool, Sequence[str]]] = (),
        cookie_format: str = "v1",  # "v1", "v2" or "v1,v2"
        csrf_header: bool = False,  # CSRF_MODE=header
    ) -> None: ...
    def authorize(self, event: Mapping[str, Any]) -> dict[str, Any]: ...
    def authenticate(self, event: Mapping[str, Any]) -> Identity: ...
    def allow(
        self, event: Mapping[str, Any], identity: Identity, context: Mapping[str, str | int | float | bool] | None = None
    ) -> dict[str, Any]: ...
    def deny(self, event: Mapping[str, Any], reason: str | None = None) -> dict[str, Any]: ...
    def _enable_phantom(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        timeout_ms: int,
        ca_file: str | None = None,
        cache_ttl: int = 300,
        cache_size: int = 1024,
        pool_size: int = 4,
    ) -> None: ...
    def _enable_metrics(self) -> None: ...
    def _take_metrics(self) -> dict[str, Any] | None: ...
