"""The Lambda entry point: handler.handler. One OAuthProxy per process, configured from the environment.

Built at import, in Lambda's init phase; a configuration error is kept, logged and raised on each
invocation, so importing this module never fails and the error shows up in the invocation's log
(src/oauth_proxy/lambda_handler.py)."""
import os

from oauth_proxy.lambda_handler import make_handler

handler = make_handler(os.environ)
