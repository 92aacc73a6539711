"""The Lambda entry point: handler.handler. One OAuthProxy per process, configured from the environment.

Built at import, in Lambda's init phase; a configuration error is kept and raised on each invocation, so
importing this module never fails and the error shows up in the invocation's log."""
import os

import oauth_proxy

try:
    _proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config.from_env(os.environ))
    _setup_error = None
except Exception as error:  # noqa: BLE001 - any setup failure must surface per invocation, not at import
    _proxy = None
    _setup_error = error


def handler(event, context):
    if _proxy is None:
        raise oauth_proxy.ConfigError(f"oauth-proxy is not configured: {_setup_error}")
    return _proxy.authorize(event)
