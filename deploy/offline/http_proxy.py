"""What serverless.yml's HTTP proxy integration does, as a function serverless-offline can run.

serverless-offline cannot put an HTTP_PROXY integration behind an authorizer: it runs the authorizer, then
invokes the authorizer function a second time as the route's handler and answers 200 with an empty body,
never calling the upstream. So the emulator's routes are lambda-proxy routes to this function, which does
what the real integration does: the request goes to UPSTREAM_API_URL/{proxy} with its method, query, headers
and body, `Authorization` replaced by the authorizer's context.authorizer.token and the headers named in
UPSTREAM_REMOVED_HEADERS (the session cookies and CSRF headers; deploy/upstream-headers.js) left out (the
integration request mapping), and the upstream's status, headers and body come back unchanged.
"""

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request

# Hop-by-hop and framing headers: the HTTP client sets its own.
_NOT_FORWARDED = {"host", "connection", "content-length", "transfer-encoding", "keep-alive", "authorization",
                  "accept-encoding"}
# No proxy from the environment: the upstream is reached directly, as API Gateway does.
_REMOVED = {name.strip().lower() for name in os.environ.get("UPSTREAM_REMOVED_HEADERS", "").split(",")
            if name.strip()}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_TIMEOUT_SECONDS = 29  # API Gateway's integration timeout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # an HTTP proxy integration passes redirects to the client


_OPENER.add_handler(_NoRedirect())


def forward(event, context):
    # The path parameter arrives decoded; re-encode what cannot stand in a path as it is.
    proxy = urllib.parse.quote((event.get("pathParameters") or {}).get("proxy", ""), safe="/:@!$&'()*+,;=~")
    url = os.environ["UPSTREAM_API_URL"].rstrip("/") + "/" + proxy
    query = event.get("multiValueQueryStringParameters")
    if query:
        url += "?" + urllib.parse.urlencode([(k, v) for k, values in query.items() for v in values])
    headers = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if name.lower() not in _NOT_FORWARDED and name.lower() not in _REMOVED:
            headers[name] = ", ".join(values) if name.lower() != "cookie" else "; ".join(values)
    token = ((event.get("requestContext") or {}).get("authorizer") or {}).get("token")
    if token:
        headers["Authorization"] = token
    body = event.get("body")
    data = None
    if body is not None:
        data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    request = urllib.request.Request(url, data=data, method=event["httpMethod"], headers=headers)
    try:
        response = _OPENER.open(request, timeout=_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        response = error  # 4xx/5xx from the upstream pass through as they are
    except OSError as error:
        # The upstream could not be reached (refused, timed out). API Gateway answers with its own 5xx
        # then (504 for a timeout); this one names the cause for the developer, which is not secret.
        return {"statusCode": 502, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"message": f"upstream {url} unreachable: {type(error).__name__}"})}
    with response:
        payload = response.read()
        multi = {}
        for name, value in response.headers.items():
            if name.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive"):
                multi.setdefault(name, []).append(value)
        return {"statusCode": response.status, "multiValueHeaders": multi,
                "body": base64.b64encode(payload).decode(), "isBase64Encoded": True}
