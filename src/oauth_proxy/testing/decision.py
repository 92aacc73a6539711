"""decide(): what API Gateway would make of the authorizer's answer to one event, with the denial's reason.

The authorizer answers in three ways: a response (allow, or a 403 Deny policy / `isAuthorized: false`), the
exception Unauthorized (API Gateway answers 401) or IntrospectionError (500). The exceptions carry the reason
(`.reason`); a 403 response does not, so decide() also listens to the `oauth_proxy` logger while the call
runs and takes the reason of a 403 from its log line.

decide() takes the authorizer in either shape: `authorize(event)` (OAuthProxy.authorize, or any callable
of one argument) or a Lambda handler `handler(event, context)`, which gets a LambdaContext (a stand-in for
the runtime's context object, with a fresh aws_request_id).
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import secrets
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..errors import IntrospectionError, Unauthorized

__all__ = ["Decision", "DenialLog", "LambdaContext", "decide"]

# What oauth_proxy's log lines may hold (oauth_proxy/denial_log.py).
_LINE_FIELDS = ("event", "reason", "status", "method", "path", "apiRequestId", "awsRequestId", "detail", "error")


class DenialLog(logging.Handler):
    """Collects the JSON denial lines of the `oauth_proxy` logger (attach() / detach(), or `with`)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: List[Dict[str, Any]] = []
        self.raw: List[str] = []
        self._level: Optional[int] = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.raw.append(message)
        if getattr(record, "event", None) == message:
            # AWS_LAMBDA_LOG_FORMAT=JSON: the fields are the record's attributes, the message is the event name.
            self.lines.append({name: getattr(record, name) for name in _LINE_FIELDS if hasattr(record, name)})
        else:
            self.lines.append(json.loads(message))

    @property
    def reasons(self) -> List[str]:
        return [line["reason"] for line in self.lines if "reason" in line]

    def attach(self) -> "DenialLog":
        logging.getLogger("oauth_proxy").addHandler(self)
        return self

    def detach(self) -> None:
        logging.getLogger("oauth_proxy").removeHandler(self)

    def __enter__(self) -> "DenialLog":
        logger = logging.getLogger("oauth_proxy")
        self._level = logger.level
        if not logger.isEnabledFor(logging.WARNING):
            logger.setLevel(logging.WARNING)  # a LOG_LEVEL of ERROR or CRITICAL would hide the 403 reasons
        return self.attach()

    def __exit__(self, *exc_info: Any) -> None:
        self.detach()
        if self._level is not None:
            logging.getLogger("oauth_proxy").setLevel(self._level)


@dataclasses.dataclass(frozen=True)
class Decision:
    """`status`: 200 (allowed), 401, 403 or 500; `reason`: the denial's reason code (None when allowed);
    `response`: what the authorizer returned (None for 401 and 500); `token`: the upstream Authorization
    value of an allow (`Bearer ...`)."""

    status: int
    reason: Optional[str]
    response: Optional[Dict[str, Any]]

    @property
    def allowed(self) -> bool:
        return self.status == 200

    @property
    def token(self) -> Optional[str]:
        if not self.allowed or self.response is None:
            return None
        token = self.response.get("context", {}).get("token")
        return token if isinstance(token, str) else None


def _is_allow(response: Mapping[str, Any]) -> bool:
    if "isAuthorized" in response:
        return response["isAuthorized"] is True
    statements = response.get("policyDocument", {}).get("Statement", [])
    return bool(statements) and all(statement.get("Effect") == "Allow" for statement in statements)


class LambdaContext:
    """What the Lambda runtime passes a handler as its second argument, as far as an authorizer uses it: the
    invocation's `aws_request_id` (random unless given), the function's names and limits, and the time left."""

    function_name = "oauth-proxy-authorizer"
    function_version = "$LATEST"
    memory_limit_in_mb = "256"
    log_group_name = "/aws/lambda/oauth-proxy-authorizer"
    log_stream_name = "2026/01/01/[$LATEST]00000000000000000000000000000000"

    def __init__(self, aws_request_id: Optional[str] = None, *, remaining_ms: int = 10_000) -> None:
        if aws_request_id is None:
            digits = secrets.token_hex(16)
            aws_request_id = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def _takes_context(handler: Callable[..., Any]) -> bool:
    """True for a Lambda handler (event, context): a second positional parameter that is required or named
    `context`, or *args. False for a callable of one argument, and for one whose signature cannot be read
    (OAuthProxy.authorize is a C method)."""
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 2:
        second = positional[1]
        return second.default is second.empty or second.name == "context"
    return len(positional) == 1 and any(p.kind is p.VAR_POSITIONAL for p in parameters)


def decide(handler: Callable[..., Dict[str, Any]], event: Mapping[str, Any],
           context: Optional[Any] = None) -> Decision:
    """Runs `handler(event)` (an OAuthProxy's authorize, or any callable of one argument) or, for a Lambda
    handler `handler(event, context)`, `handler(event, context or LambdaContext())`, and tells what API
    Gateway would answer, with the reason of a denial."""
    if _takes_context(handler):
        lambda_context = context if context is not None else LambdaContext()

        def call(event: Mapping[str, Any]) -> Dict[str, Any]:
            return handler(event, lambda_context)
    else:
        call = handler
    with DenialLog() as log:
        try:
            response = call(event)
        except Unauthorized as denial:
            return Decision(401, getattr(denial, "reason", None), None)
        except IntrospectionError as failure:
            return Decision(500, getattr(failure, "reason", None), None)
    if _is_allow(response):
        return Decision(200, None, response)
    return Decision(403, log.reasons[-1] if log.reasons else None, response)
