from typing import Any, Callable, Mapping, Sequence

class Unauthorized(Exception): ...
class IntrospectionError(Exception): ...
class CookieDecryptionError(ValueError): ...

def encrypt_cookie(plaintext: str, key_hex: str) -> str: ...
def decrypt_cookie(value: str, key_hex: str) -> str: ...
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
        on_deny: Callable[[str, int, object], object],
    ) -> None: ...
    def authorize(self, event: Mapping[str, Any]) -> dict[str, Any]: ...
    def _enable_phantom(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        timeout_ms: int,
        ca_file: str | None = None,
        cache_ttl: int = 300,
        cache_size: int = 1024,
    ) -> None: ...
