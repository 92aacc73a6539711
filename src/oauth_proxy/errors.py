"""The exceptions of oauth_proxy. The four raised on the request path are defined in C, so the hot path
raises them without calling back into Python. Unauthorized, Forbidden and IntrospectionError carry
``.status`` (401, 403, 500) and ``.reason`` (the reason code of the denial log line)."""
from ._core import CookieDecryptionError, Forbidden, IntrospectionError, Unauthorized


class ConfigError(ValueError):
    """Bad configuration. The message names the setting and what is wrong; never a secret value."""


__all__ = ["ConfigError", "CookieDecryptionError", "Forbidden", "IntrospectionError", "Unauthorized"]
