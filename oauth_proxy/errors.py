"""The exceptions of oauth_proxy. The three raised on the request path are defined in C, so the hot path
raises them without calling back into Python."""
from ._core import CookieDecryptionError, IntrospectionError, Unauthorized


class ConfigError(ValueError):
    """Bad configuration. The message names the setting and what is wrong; never a secret value."""


__all__ = ["ConfigError", "CookieDecryptionError", "IntrospectionError", "Unauthorized"]
