"""What handler.handler does on Lambda: one OAuthProxy per process, built from the environment in the init
phase, and a function per invocation that records which invocation it is serving (so log lines carry its
id) and, with METRICS=true, writes one Embedded Metric Format line when the invocation ends.

Lambda freezes the process between invocations, so nothing is buffered for later: the counters of an
invocation are written before it returns."""
from __future__ import annotations

import sys

from .config import Config
from .denial_log import invocation, log_configuration_error
from .errors import ConfigError
from .proxy import OAuthProxy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping


def make_handler(environ: Mapping[str, str]) -> Callable[[Any, Any], Any]:
    """The handler(event, context) for this environment. Never raises: a configuration error is logged
    and raised on every invocation instead, so it shows up in each invocation's log, with its ids."""
    try:
        config = Config.from_env(environ)
        proxy = OAuthProxy(config)
    except Exception as error:  # noqa: BLE001 - any setup failure must surface per invocation, not at import
        return _refusing_handler(error)
    authorize = proxy.authorize

    # Two functions rather than one that tests a flag per call: with METRICS off, an invocation does no
    # metrics work at all.
    if not config.metrics:
        def handler(event: Any, context: Any) -> Any:
            # Not reset afterwards (a try/finally and a second store would double the cost): the next
            # invocation on this thread replaces it, and nothing but an invocation logs on Lambda.
            invocation.context = context
            return authorize(event)
        return handler

    from .metrics import EmfWriter

    take = proxy._take_metrics
    emf = EmfWriter(config.metrics_namespace, phantom=config.use_phantom_token)

    def handler_with_metrics(event: Any, context: Any) -> Any:
        invocation.context = context
        try:
            return authorize(event)
        finally:
            try:
                # sys.stdout is looked up per call: the Lambda runtime replaces it after the handler is imported.
                sys.stdout.write(emf.lines(take(), event, context))
            except Exception:  # noqa: BLE001 - a metrics failure must never change the request's outcome
                pass
    return handler_with_metrics


def _refusing_handler(error: BaseException) -> Callable[[Any, Any], Any]:
    message = f"oauth-proxy is not configured: {error}"

    def handler(event: Any, context: Any) -> Any:
        log_configuration_error(error, event, context)
        raise ConfigError(message)
    handler.setup_error = error  # type: ignore[attr-defined]  # for a debugger or a test, not used here
    return handler
