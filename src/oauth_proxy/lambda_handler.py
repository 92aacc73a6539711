"""What handler.handler does on Lambda: one OAuthProxy per process, built from the environment in the init
phase, and a function per invocation that records which invocation it is serving (so log lines carry its
id) and, with METRICS=true, writes one Embedded Metric Format line when the invocation ends.

Lambda freezes the process between invocations, so nothing is buffered for later: the counters of an
invocation are written before it returns."""
from __future__ import annotations

import sys

from .config import Config, _namespace
from .settings import BY_NAME
from .denial_log import invocation, log_configuration_error, log_secret_failure
from .errors import ConfigError
from .proxy import OAuthProxy
from .references import config_references

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Mapping, Optional

    from .secret_refs import SecretFetchError


def make_handler(environ: Mapping[str, str]) -> Callable[[Any, Any], Any]:
    """The handler(event, context) for this environment. Never raises: a configuration error is logged
    and raised on every invocation instead, so it shows up in each invocation's log, with its ids.

    With references to secrets in AWS (secret_refs), the values are fetched now and again at the first
    invocation after SECRETS_REFRESH_SECONDS; without, nothing of that is loaded or checked per request."""
    try:
        config = Config.from_env(environ)
        if not config_references(config):
            return _serving_handler(config)
    except Exception as error:  # noqa: BLE001 - any setup failure must surface per invocation, not at import
        return _refusing_handler(error, environ)
    return _refreshing_handler(config, environ)


def _serving_handler(config: Config) -> Callable[[Any, Any], Any]:
    """The handler of one configuration whose values are all at hand."""
    proxy = OAuthProxy(config)
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


def _refreshing_handler(config: Config, environ: Mapping[str, str]) -> Callable[[Any, Any], Any]:
    import time

    from .secret_refs import SecretFetchError, refreshing_handler, resolve_config

    def on_failure(error: SecretFetchError, event: object, context: object, kept: bool) -> None:
        log_secret_failure(error, event, context, kept)
        if config.metrics:
            # An invocation refused for want of values counts as a configuration error too.
            refused = not kept and event is not None
            _write_failure_metrics(config.metrics_namespace, refused, error.code, event, context)

    def serve(values: object) -> Callable[[Any, Any], Any]:
        return _serving_handler(values)  # type: ignore[arg-type]

    return refreshing_handler(lambda: resolve_config(config, environ), serve, config.secrets_refresh_seconds,
                              on_failure, time.monotonic)


def _refusing_handler(error: BaseException, environ: Mapping[str, str]) -> Callable[[Any, Any], Any]:
    message = f"oauth-proxy is not configured: {error}"
    namespace = _metrics_namespace(environ)
    code = getattr(error, "code", None)

    def handler(event: Any, context: Any) -> Any:
        log_configuration_error(error, event, context)
        if namespace is not None:
            _write_failure_metrics(namespace, True, code, event, context, fetch_failed=False)
        raise ConfigError(message)
    handler.setup_error = error  # type: ignore[attr-defined]  # for a debugger or a test, not used here
    return handler


def _metrics_namespace(environ: Mapping[str, str]) -> Optional[str]:
    """With METRICS=true in a configuration that was refused, the namespace its metrics go to (the default
    where METRICS_NAMESPACE is refused too); None without METRICS=true."""
    if str(environ.get("METRICS", "")).strip().lower() != "true":
        return None
    try:
        return _namespace(BY_NAME["metrics_namespace"], str(environ.get("METRICS_NAMESPACE", "")).strip() or "OAuthProxy")
    except ConfigError:
        return "OAuthProxy"


def _write_failure_metrics(namespace: str, refused: bool, code: Optional[str], event: object, context: object,
                           fetch_failed: bool = True) -> None:
    from .metrics import failure_line

    counts: Dict[str, int] = {}
    if refused:
        counts["ConfigErrors"] = 1
    if fetch_failed:
        counts["SecretFetchFailures"] = 1
    try:
        sys.stdout.write(failure_line(namespace, counts, code, event, context))
    except Exception:  # noqa: BLE001 - a metrics failure must never change the invocation's outcome
        pass
