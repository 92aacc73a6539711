"""OAuth Proxy of the Token Handler pattern, as an AWS Lambda authorizer for API Gateway.

    import os, oauth_proxy
    proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config.from_env(os.environ))
    response = proxy.authorize(event)

or, in an authorizer with rules of its own:

    identity = proxy.authenticate(event)        # raises Forbidden, Unauthorized or IntrospectionError
    response = proxy.allow(event, identity, {"tenant": "acme"})   # or proxy.deny(event, reason="...")

REASONS maps every reason code a denial can carry to the status API Gateway answers (401, 403 or 500).
"""
from ._core import REASONS, Identity, decrypt_cookie, encrypt_cookie
from .config import Config
from .errors import ConfigError, CookieDecryptionError, Forbidden, IntrospectionError, Unauthorized
from .proxy import OAuthProxy

__all__ = [
    "Config",
    "ConfigError",
    "CookieDecryptionError",
    "Forbidden",
    "Identity",
    "IntrospectionError",
    "OAuthProxy",
    "REASONS",
    "Unauthorized",
    "decrypt_cookie",
    "encrypt_cookie",
]
