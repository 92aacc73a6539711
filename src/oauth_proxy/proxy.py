"""OAuthProxy: the configured authorizer. authorize(), authenticate(), allow() and deny() are the C methods
themselves, with no Python frame in between, because they run on every API call.

The Config it is built from has checked every value; nothing here checks one again."""
from __future__ import annotations

import sys

from . import _core
from .config import Config, route_rules
from .denial_log import log_denial, set_level
from .errors import ConfigError
from .references import config_references

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .metrics import EmfWriter


class OAuthProxy(_core.Authorizer):
    """The Lambda authorizer for one configuration. Build one per process and call ``authorize(event)``, or,
    in an authorizer of your own, ``authenticate(event)`` and then ``allow(event, identity, context)`` or
    ``deny(event, reason)``."""

    def __init__(self, config: Config) -> None:
        if not isinstance(config, Config):
            raise TypeError("OAuthProxy needs an oauth_proxy.Config")
        if config_references(config):
            # Fetched once, now; handler.handler fetches again every SECRETS_REFRESH_SECONDS (lambda_handler).
            import os

            from .secret_refs import resolve_config

            config = resolve_config(config, os.environ)
        super().__init__(
            trusted_origins=list(config.trusted_web_origins),
            cookie_name_prefix=config.cookie_name_prefix,
            keys=[config.encryption_key, *config.previous_encryption_keys],
            allow_token=config.allow_token,
            required_scopes=list(config.required_scopes),
            simple_responses=config.http_api_response_format == "simple",
            on_deny=log_denial,
            reads_without_origin=config.require_origin == "writes",
            context_claims=list(config.context_claims),
            route_scopes=route_rules(config),
            cookie_format=config.cookie_format,
            csrf_header=config.csrf_mode == "header",
        )
        if config.use_phantom_token:
            url, client_id, client_secret = config.introspection_url, config.client_id, config.client_secret
            # Config refuses USE_PHANTOM_TOKEN=true without all three.
            assert url is not None and client_id is not None and client_secret is not None
            try:
                self._enable_phantom(
                    url,
                    client_id,
                    client_secret,
                    config.introspection_timeout_ms,
                    config.introspection_ca_file,
                    config.introspection_cache_ttl,
                    config.introspection_cache_size,
                    config.introspection_pool_size,
                )
            except ValueError as exc:
                # What Config cannot know in advance (libcurl missing or refusing the CA file). The C messages
                # name the setting (or libcurl) and never carry a credential.
                raise ConfigError(f"phantom tokens: {exc}") from None
        if config.jwks_url is not None:
            try:
                self._enable_jwks(config.jwks_url, config.introspection_timeout_ms, config.introspection_ca_file,
                                  config.jwt_issuer, list(config.jwt_audience), list(config.jwt_algorithms),
                                  config.introspection_cache_ttl, config.introspection_cache_size)
            except ValueError as exc:
                # libcurl missing: what Config cannot know in advance. The messages never carry a secret.
                raise ConfigError(f"JWT verification: {exc}") from None
        if config.metrics:
            self._enable_metrics()
        self.config = config
        self._emf: Optional[EmfWriter] = None
        set_level(config.log_level)

    def emit_metrics(self, event: object = None, context: object = None) -> None:
        """With METRICS=true, writes one CloudWatch EMF line (stdout) with the counts since the last call, tagged
        with the event's and the Lambda context's request ids; does nothing otherwise. handler.handler calls
        it at the end of every invocation; an authorizer of your own built on authenticate() should too (in
        a ``finally``: Lambda may freeze the process right after the invocation returns)."""
        if not self.config.metrics:
            return
        if self._emf is None:
            from .metrics import EmfWriter

            self._emf = EmfWriter(self.config.metrics_namespace, phantom=self.config.use_phantom_token)
        # sys.stdout is looked up per call: the Lambda runtime replaces it after the handler is imported.
        sys.stdout.write(self._emf.lines(self._take_metrics(), event, context))
