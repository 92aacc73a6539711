"""Test helpers for people testing an SPA, an API or their own authorizer with oauth-proxy.

    from oauth_proxy.testing import SpaSession, IntrospectionEndpoint, decide, make_jwt

- SpaSession: the browser after an OAuth Agent login (encrypted cookies, the CSRF value) and the REQUEST
  events API Gateway sends the authorizer for its requests, payload 1.0 (REST) and 2.0 (HTTP APIs).
- IntrospectionEndpoint: an RFC 7662 endpoint on loopback that exchanges opaque tokens for JWTs (phantom
  tokens), with inactive, slow and failing tokens.
- decide(): the status API Gateway would answer (200, 401, 403, 500) and the denial's reason code, for an
  `authorize(event)` callable or a Lambda handler `handler(event, context)` (given a LambdaContext).
- make_jwt(): an unsigned JWT for given claims.
- oauth_proxy.testing.gateway_cache (imported on its own): API Gateway in front of an authorizer, with its
  result cache keyed on identity sources, to check that a deployment's cache never allows what the authorizer
  refuses (docs/caching.md).

With pytest, the plugin `oauth_proxy.testing.pytest_plugin` (loaded automatically once oauth-proxy is
installed) provides them as fixtures: `spa_session`, `oauth_proxy_factory`, `introspection_endpoint`, ...
This package needs only the standard library; `import oauth_proxy` does not load it.
"""
from .decision import Decision, DenialLog, LambdaContext, decide
from .events import SPOIL, SpaSession, make_jwt
from .introspection import IntrospectionEndpoint, IntrospectionRequest, Reply

__all__ = [
    "SPOIL",
    "Decision",
    "DenialLog",
    "IntrospectionEndpoint",
    "IntrospectionRequest",
    "LambdaContext",
    "Reply",
    "SpaSession",
    "decide",
    "make_jwt",
]
