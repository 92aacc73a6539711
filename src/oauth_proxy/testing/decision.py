"""decide(): what API Gateway would make of the authorizer's answer to one event, with the denial's reason.

The authorizer answers in three ways: a response (allow, or a 403 Deny policy / `isAuthorized: false`), the
exception Unauthorized (API Gateway answers 401) or IntrospectionError (500). The exceptions carry the reason
(`.reason`); a 403 response does not, so decide() also listens to the `oauth_proxy` logger while the call
runs and takes the reason of a 403 from its log line.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..errors import IntrospectionError, Unauthorized

__all__ = ["Decision", "DenialLog", "decide"]

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


def decide(authorize: Callable[[Mapping[str, Any]], Dict[str, Any]], event: Mapping[str, Any]) -> Decision:
    """Runs `authorize(event)` (an OAuthProxy's authorize, or your own authorizer's handler) and tells
    what API Gateway would answer, with the reason of a denial."""
    with DenialLog() as log:
        try:
            response = authorize(event)
        except Unauthorized as denial:
            return Decision(401, getattr(denial, "reason", None), None)
        except IntrospectionError as failure:
            return Decision(500, getattr(failure, "reason", None), None)
    if _is_allow(response):
        return Decision(200, None, response)
    return Decision(403, log.reasons[-1] if log.reasons else None, response)
