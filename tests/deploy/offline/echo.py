"""Upstream stand-in for the gateway emulator: answers with what it received."""

import json


def mapped(event, context):
    # `lambda` integration: the event is the rendered request mapping template.
    return event


def proxy(event, context):
    # `lambda-proxy` integration: the event is API Gateway's proxy event.
    body = {
        "headers": event.get("headers") or {},
        "authorizer": (event.get("requestContext") or {}).get("authorizer") or {},
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}
