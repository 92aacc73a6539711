"""One JSON line per denial, with the contract's reason code. Only the reason, the status, the method and
the path are written: never a header, a cookie or a token."""
from __future__ import annotations

import sys

# logging is imported on the first denial, not at import: it costs about 8 ms and 2 MB of a cold start
# (the Lambda runtime has usually loaded it already, a bare interpreter has not).
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_pending_level = None


def set_level(name: str) -> None:
    """Sets the level of the "oauth_proxy" logger now if logging is loaded, else when it is first needed."""
    global _pending_level
    logging = sys.modules.get("logging")
    if logging is None:
        _pending_level = _LEVELS[name]
    else:
        _pending_level = None
        logging.getLogger("oauth_proxy").setLevel(_LEVELS[name])


def _logger():
    global _pending_level
    import logging

    logger = logging.getLogger("oauth_proxy")
    if _pending_level is not None:
        logger.setLevel(_pending_level)
        _pending_level = None
    return logger


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
    level = 40 if status >= 500 else 30  # ERROR, WARNING
    logger = _logger()
    if not logger.isEnabledFor(level):
        return
    import json  # here, not at the top: a cold start that denies nothing need not load it

    method, path = _method_and_path(event)
    line = {"event": "authorizer_denied", "reason": reason, "status": status, "method": method, "path": path}
    logger.log(level, json.dumps(line, separators=(",", ":")))
