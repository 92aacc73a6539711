"""The log lines of oauth_proxy: one per denial, with its reason code, and one per invocation
that meets a configuration error. Each carries the request's ids (API Gateway's, from the event, and
Lambda's, from the invocation `handler` is running) and the reason, status, method and path: never a
header, a cookie, a token, a key or a secret.

Two shapes, chosen like the Lambda runtime chooses its own: a JSON text line by default, and with Lambda's
JSON log format (AWS_LAMBDA_LOG_FORMAT=JSON) the same fields as attributes of the record, which the
runtime's formatter writes as top-level fields of its JSON object (with "message" set to the event name)
instead of quoting our line inside its "message"."""
from __future__ import annotations

import os
import sys
from _thread import _local

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any, Dict, Tuple


class _Invocation(_local):
    """The Lambda context of the invocation each thread is running (or ran last), set by
    oauth_proxy.lambda_handler. A thread-local, so a denial is never logged with another thread's
    invocation id; _thread is built in, nothing to import at a cold start."""

    context = None  # a thread that never set it reads this, without an AttributeError raised and caught


invocation = _Invocation()

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


def _logger() -> logging.Logger:
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


def _method_and_path(event: object) -> Tuple[object, object]:
    if not isinstance(event, dict):
        return None, None
    if event.get("version") == "2.0":
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, dict) else None
        method = http.get("method") if isinstance(http, dict) else None
        return _field(method), _field(event.get("rawPath"))
    return _field(event.get("httpMethod")), _field(event.get("path"))


def api_request_id(event: object) -> object:
    """requestContext.requestId: the same place in payload 1.0 and 2.0 events."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    return _field(context.get("requestId")) if isinstance(context, dict) else None


def lambda_request_id(context: object = None) -> object:
    """context.aws_request_id of the given Lambda context, else of the invocation this thread is running."""
    if context is None:
        context = invocation.context
        if context is None:
            return None
    return _field(getattr(context, "aws_request_id", None))


def _json_format() -> bool:
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").strip().upper() == "JSON"


def _write(level: int, line: Dict[str, object]) -> None:
    logger = _logger()
    if not logger.isEnabledFor(level):
        return
    if _json_format():
        # The runtime's JsonFormatter turns the record's extra attributes into fields of its object.
        logger.log(level, str(line["event"]), extra=line)
        return
    import json  # here, not at the top: a cold start that denies nothing need not load it

    logger.log(level, json.dumps(line, separators=(",", ":")))


def log_denial(reason: str, status: int, event: object, detail: object = None) -> None:
    """Called by the C authorizer before every denial; detail (introspection failures: an HTTP status or a
    transport error category, never a secret or the endpoint's answer) is added when given."""
    level = 40 if status >= 500 else 30  # ERROR, WARNING
    if not _logger().isEnabledFor(level):
        return
    method, path = _method_and_path(event)
    line = {"event": "authorizer_denied", "reason": reason, "status": status, "method": method, "path": path,
            "apiRequestId": api_request_id(event), "awsRequestId": lambda_request_id()}
    if detail is not None:
        line["detail"] = _field(detail)
    _write(level, line)


def log_configuration_error(error: BaseException, event: object, context: object) -> None:
    """One ERROR line for an invocation that cannot be served: the configuration was refused at start.
    ConfigError messages name the setting and never hold its value when that is a secret (config.py)."""
    _write(40, {"event": "configuration_error", "error": f"{type(error).__name__}: {error}",
                "apiRequestId": api_request_id(event), "awsRequestId": lambda_request_id(context)})


def log_secret_failure(error: Any, event: object, context: object, kept: bool) -> None:
    """One line for a fetch of referenced secrets that failed (secret_refs.SecretFetchError: the variable,
    the reference and the AWS error code; its message never holds a value). kept: the values fetched
    before stay in use (WARNING, secret_refresh_failed); else nothing is held and the invocation, if there
    is one, is refused (ERROR, configuration_error, as for any configuration that cannot serve)."""
    _write(30 if kept else 40, {"event": "secret_refresh_failed" if kept else "configuration_error",
                                "error": f"{type(error).__name__}: {error}", "setting": error.setting,
                                "reference": error.reference, "code": error.code,
                                "apiRequestId": api_request_id(event), "awsRequestId": lambda_request_id(context)})
