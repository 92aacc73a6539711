"""oauth-proxy (or python -m oauth_proxy): keys, cookies and trial runs of the authorizer, for debugging a deployment.

Keys are read from the environment (ENCRYPTION_KEY, or the variable named by --key-env), never from the
command line, where other users of the machine could read them; and no key is ever printed except the one
`keygen` has just made."""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
from typing import Any, Dict, List, Optional

from ._core import decrypt_cookie, encrypt_cookie
from .config import Config, setting_from_env
from .errors import ConfigError, CookieDecryptionError, IntrospectionError, Unauthorized


def _read_argument(value: Optional[str], what: str) -> str:
    """The value itself, or standard input for '-' or no value (keeps tokens out of shell history)."""
    if value is None or value == "-":
        text = sys.stdin.read().strip()
        if not text:
            raise SystemExit(f"oauth-proxy: no {what} given on standard input")
        return text
    return value


def _key_from_env(name: str) -> str:
    key = os.environ.get(name, "").strip()
    if not key:
        raise SystemExit(f"oauth-proxy: set {name} to the 64-hex encryption key (oauth-proxy keygen makes one)")
    return key


def _env_setting(name: str) -> str:
    """A setting the authorizer would read from this environment (COOKIE_FORMAT, CSRF_MODE), checked as it would."""
    try:
        return str(setting_from_env(os.environ, name))
    except ConfigError as error:
        raise SystemExit(f"oauth-proxy: {error}") from None


def _cookie_formats(given: Optional[str]) -> List[str]:
    """The generations named by --format, else by $COOKIE_FORMAT (default v1)."""
    return [given] if given is not None else _env_setting("cookie_format").split(",")


def _csrf_mode(given: Optional[str]) -> str:
    """--csrf-mode, else $CSRF_MODE (default double-submit)."""
    return given if given is not None else _env_setting("csrf_mode")


class _ReasonCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: List[Dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(json.loads(record.getMessage()))
        except ValueError:
            pass


def _redact(response: Dict[str, Any]) -> Dict[str, Any]:
    context = response.get("context")
    if isinstance(context, dict) and isinstance(context.get("token"), str):
        token = context["token"]
        context = dict(context, token=f"Bearer <{len(token) - 7} characters; --show-token prints it>")
        response = dict(response, context=context)
    return response


def _authorize(args: argparse.Namespace) -> int:
    from .proxy import OAuthProxy

    try:
        if args.event == "-":
            event = json.load(sys.stdin)
        else:
            with open(args.event, encoding="utf-8") as stream:
                event = json.load(stream)
    except (OSError, ValueError) as error:
        print(f"oauth-proxy: cannot read the event: {error}", file=sys.stderr)
        return 2
    try:
        proxy = OAuthProxy(Config.from_env(os.environ))
    except ConfigError as error:
        print(f"oauth-proxy: configuration error: {error}", file=sys.stderr)
        return 2
    catcher = _ReasonCatcher()
    logger = logging.getLogger("oauth_proxy")
    logger.addHandler(catcher)
    logger.propagate = False
    try:
        response = proxy.authorize(event)
    except Unauthorized:
        return _outcome(401, catcher, None)
    except IntrospectionError:
        return _outcome(500, catcher, None)
    finally:
        logger.removeHandler(catcher)
        logger.propagate = True
    if catcher.records:
        return _outcome(403, catcher, response)
    print("allow")
    print(json.dumps(response if args.show_token else _redact(response), indent=2))
    return 0


def _check_config() -> int:
    """Says whether the configuration in the environment is usable and, per reference to a secret in AWS,
    whether it resolved (what it found, never the value). 0: usable; 1: not."""
    from .proxy import OAuthProxy
    from .references import config_references
    from .secret_refs import Resolver, SecretFetchError

    try:
        config = Config.from_env(os.environ)
    except ConfigError as error:
        print(f"configuration: refused: {error}")
        return 1
    references = config_references(config)
    if not references:
        print("references: none (every value is in the environment)")
    resolver = Resolver(os.environ)
    failed = False
    for setting, reference in references:
        try:
            print(f"{setting}: {reference}: resolved: {resolver.describe(setting, reference)}")
        except SecretFetchError as error:
            failed = True
            print(f"{setting}: {reference}: not resolved: {error.detail}")
    if failed:
        print("configuration: not usable")
        return 1
    try:
        OAuthProxy(config)
    except ConfigError as error:
        print(f"configuration: refused: {error}")
        return 1
    print("configuration: usable")
    return 0


_PARTS = ("origin", "csrf-header", "at-cookie", "csrf-cookie")
_FORMAT_HELP = ("cookie generation: v1 (0x01 || iv || ciphertext || tag) or v2 (Curity's 2024 agents, no version "
                "byte); default: $COOKIE_FORMAT, else v1")


def _event(args: argparse.Namespace) -> int:
    """An SPA request's event, with cookies encrypted by the key in the environment (as the OAuth Agent would)."""
    from .testing import SPOIL, SpaSession

    origins = os.environ.get("TRUSTED_WEB_ORIGINS", "").split(",")
    origin = args.origin or origins[0].strip() or "https://www.example.com"
    prefix = os.environ.get("COOKIE_NAME_PREFIX", "").strip() or "example"
    if args.token not in (None, "-"):
        # Not echoed: other users can read a command line in the process list, and the shell keeps it.
        print("oauth-proxy: --token takes only '-' (the token on standard input), never the token itself",
              file=sys.stderr)
        return 2
    token = _read_argument("-", "token") if args.token == "-" else None
    try:
        # A migration (v1,v2) issues new cookies in the new generation.
        session = SpaSession(_key_from_env(args.key_env), prefix, origin, token=token,
                             cookie_format=_cookie_formats(args.format)[-1], csrf_mode=_csrf_mode(args.csrf_mode))
    except ValueError as error:
        print(f"oauth-proxy: {error}", file=sys.stderr)
        return 2
    options: Dict[str, Any] = {part.replace("-", "_"): None for part in args.drop}
    options.update({part.replace("-", "_"): SPOIL for part in args.spoil})
    build = session.http_event if args.http_api else session.rest_event
    print(json.dumps(build(args.method, args.path, **options), indent=2))
    return 0


def _decrypt_any(value: str, key: str, formats: List[str]) -> str:
    for fmt in formats[:-1]:
        try:
            return decrypt_cookie(value, key, fmt)
        except CookieDecryptionError:
            pass
    return decrypt_cookie(value, key, formats[-1])


def _outcome(status: int, catcher: _ReasonCatcher, response: Optional[Dict[str, Any]]) -> int:
    reason = catcher.records[-1].get("reason") if catcher.records else "unknown"
    print(f"{status} {reason}")
    if response is not None:
        print(json.dumps(response, indent=2))
    return 1


def _check_routes(args: argparse.Namespace) -> int:
    from .route_check import report

    scopes = args.route_scopes if args.route_scopes is not None else os.environ.get("ROUTE_SCOPES", "")
    if not scopes.strip():
        print("oauth-proxy: no ROUTE_SCOPES to check (set it, or give --route-scopes)", file=sys.stderr)
        return 2
    try:
        lines, status = report(args.template, scopes, args.api)
    except ConfigError as error:
        print(f"oauth-proxy: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"oauth-proxy: {args.template}: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return status


def main(argv: Optional[List[str]] = None) -> int:
    """The command. Output into a pipe whose reader has gone (`oauth-proxy authorize - | head -1`) ends it quietly
    with the status a shell gives a writer killed by SIGPIPE: Python ignores SIGPIPE, so the write raises
    BrokenPipeError instead, which would otherwise end in a traceback (or an "Exception ignored" at exit)."""
    try:
        status = _run(argv)
        sys.stdout.flush()  # still inside the try: a failure of the final flush is the same broken pipe
        return status
    except BrokenPipeError:
        # Nothing more can be written there; stdout on /dev/null keeps the interpreter's flush at exit quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 128 + signal.SIGPIPE


def _run(argv: Optional[List[str]]) -> int:
    parser = argparse.ArgumentParser(prog="oauth-proxy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("keygen", help="print a new random 64-hex encryption key")
    for name, what in (("encrypt", "plaintext"), ("decrypt", "cookie value")):
        sub = commands.add_parser(name, help=f"{name} a cookie with the key in $ENCRYPTION_KEY")
        sub.add_argument("value", nargs="?", help=f"the {what}; '-' or nothing reads standard input")
        sub.add_argument("--key-env", default="ENCRYPTION_KEY", help="environment variable holding the key")
        sub.add_argument("--format", choices=("v1", "v2"), help=_FORMAT_HELP + (
            " (v1,v2 there: both are tried)" if name == "decrypt" else " (v1,v2 there: v2)"))
    sub = commands.add_parser("authorize", help="run the authorizer configured from the environment on an event")
    sub.add_argument("event", help="a JSON file holding an API Gateway authorizer event; '-' reads standard input")
    sub.add_argument("--show-token", action="store_true", help="print the token in an allow response")
    sub = commands.add_parser("event", help="print the API Gateway event of an SPA request, with cookies encrypted "
                                             "with the key in $ENCRYPTION_KEY (input for authorize)")
    sub.add_argument("method", nargs="?", default="GET")
    sub.add_argument("path", nargs="?", default="/orders")
    sub.add_argument("--http-api", action="store_true", help="payload 2.0 (HTTP API) instead of 1.0 (REST API)")
    sub.add_argument("--token", help="'-' reads the access token from standard input (default: an unsigned "
                                     "test JWT); a token itself is refused here")
    sub.add_argument("--origin", help="the Origin header (default: the first of $TRUSTED_WEB_ORIGINS)")
    sub.add_argument("--drop", action="append", default=[], choices=_PARTS, help="leave this part out")
    sub.add_argument("--spoil", action="append", default=[], choices=_PARTS, help="send this part, but wrong")
    sub.add_argument("--key-env", default="ENCRYPTION_KEY", help="environment variable holding the key")
    sub.add_argument("--format", choices=("v1", "v2"), help=_FORMAT_HELP + " (v1,v2 there: v2)")
    sub.add_argument("--csrf-mode", choices=("double-submit", "header"),
                     help="double-submit (-csrf cookie and x-<prefix>-csrf header) or header (token-handler-version: "
                          "1 on every request but OPTIONS; csrf-header then names it); default: $CSRF_MODE, else "
                          "double-submit")
    commands.add_parser("demo", help="a local authorization demo with a throwaway key")
    commands.add_parser("check-config", help="check the configuration in the environment, fetching the secrets "
                                             "it names by reference (secretsmanager:, ssm:); prints no value")
    sub = commands.add_parser("check-routes", help="list ROUTE_SCOPES entries that match no route the API in a "
                                                    "CloudFormation or SAM template defines (exit status 1)")
    sub.add_argument("template", help="a rendered CloudFormation template (JSON) or a SAM template (YAML)")
    sub.add_argument("--route-scopes", help="the ROUTE_SCOPES to check (default: $ROUTE_SCOPES)")
    sub.add_argument("--api", choices=["REST", "HTTP"], help="check only this API of a template holding both")
    args = parser.parse_args(argv)

    if args.command == "keygen":
        print(secrets.token_hex(32))
        return 0
    if args.command == "encrypt":
        try:
            print(encrypt_cookie(_read_argument(args.value, "plaintext"), _key_from_env(args.key_env),
                                 _cookie_formats(args.format)[-1]))
        except ValueError as error:
            print(f"oauth-proxy: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "decrypt":
        try:
            print(_decrypt_any(_read_argument(args.value, "cookie value"), _key_from_env(args.key_env),
                               _cookie_formats(args.format)))
        except CookieDecryptionError:
            print("oauth-proxy: not a valid cookie for this key", file=sys.stderr)
            return 1
        except ValueError as error:
            print(f"oauth-proxy: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "authorize":
        return _authorize(args)
    if args.command == "event":
        return _event(args)
    if args.command == "check-config":
        return _check_config()
    if args.command == "check-routes":
        return _check_routes(args)
    from .demo import run_demo

    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
