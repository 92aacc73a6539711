"""OAuth Proxy of the Token Handler pattern, as an AWS Lambda authorizer for API Gateway.

    import os, oauth_proxy
    proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config.from_env(os.environ))
    response = proxy.authorize(event)
"""
from ._core import decrypt_cookie, encrypt_cookie
from .config import Config
from .errors import ConfigError, CookieDecryptionError, IntrospectionError, Unauthorized
from .proxy import OAuthProxy

__all__ = [
    "Config",
    "ConfigError",
    "CookieDecryptionError",
    "IntrospectionError",
    "OAuthProxy",
    "Unauthorized",
    "decrypt_cookie",
    "encrypt_cookie",
]
