"""One JSON line per denial, with the contract's reason code. Only the reason, the status, the method and
the path are written: never a header, a cookie or a token."""
from __future__ import annotations

import json
import logging

logger = logging.getLogger("oauth_proxy")

_MAX_FIELD = 256


def _field(value: object) -> object:
    return value[:_MAX_FIELD] if isinstance(value, str) else None


def _method_and_path(event: object) -> tuple:
    if not isinstance(event, dict):
        return None, None
    if event.get("version") == "2.0":
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, dict) else None
        method = http.get("method") if isinstance(http, dict) else None
        return _field(method), _field(event.get("rawPath"))
    return _field(event.get("httpMethod")), _field(event.get("path"))


def log_denial(reason: str, status: int, event: object) -> None:
    """Called by the C authorizer before every denial."""
    level = logging.ERROR if status >= 500 else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    method, path = _method_and_path(event)
    line = {"event": "authorizer_denied", "reason": reason, "status": status, "method": method, "path": path}
    logger.log(level, json.dumps(line, separators=(",", ":")))
