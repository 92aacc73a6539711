"""A Lambda authorizer of your own, built on oauth_proxy: the token handler's checks, then one rule of this
API's: the JWT claim `tenant` must equal the first segment of the request path (/acme/orders belongs to
tenant acme). The upstream gets the tenant as context.authorizer.tenant, beside the token.

Entry point: app.handler. Configured from the environment like handler.py (the same variables). Serves REST
APIs (payload 1.0) and HTTP APIs (payload 2.0). aws-lambda-powertools provides the event classes (on Lambda:
AWS's public Powertools layer)."""
import os

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerRequestEvent,
)

import oauth_proxy

proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config.from_env(os.environ))


def first_path_segment(event: dict) -> str:
    if event.get("version") == "2.0":
        request = APIGatewayAuthorizerEventV2(event)
        path, stage = request.raw_path, request.request_context.stage
        if stage != "$default" and path.startswith(f"/{stage}/"):
            path = path[len(stage) + 1:]  # an HTTP API's rawPath starts with a named stage
    else:
        path = APIGatewayAuthorizerRequestEvent(event).path
    return path[1:].partition("/")[0] if path.startswith("/") else ""


def handler(event, context):
    try:
        return decide(event)
    finally:
        proxy.emit_metrics(event, context)  # with METRICS=true, this invocation's EMF line; else nothing


def decide(event: dict) -> dict:
    try:
        identity = proxy.authenticate(event)
    except oauth_proxy.Forbidden:
        return proxy.deny(event)  # 403; authenticate has logged the reason
    # Unauthorized (401) and IntrospectionError (500) propagate: Lambda turns them into those answers.

    tenant = identity.claims.get("tenant")
    if not tenant or tenant != first_path_segment(event):
        return proxy.deny(event, reason="tenant_mismatch")  # 403, logged with this reason code
    return proxy.allow(event, identity, {"tenant": tenant})
