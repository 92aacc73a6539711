"""Every configuration variable of the authorizer, one row each. Config is built and validated from this
table, and the tests hold the README's configuration table, .env-template and the deployment descriptions
to it. A new setting is one row appended here (plus its attribute declaration in Config, which the type
checker needs, and its use).

A row: the keyword name (the environment variable is its upper case), the kind (which parser and check
config.py applies), the default (in the keyword form's type), the limits (lowest and highest for a
number, the allowed words for a choice), whether the value is a secret (hidden in repr, never in a
message), whether it is required (True, or the name of the flag that makes it required), and one line on
what it does. A secret's value may also be a reference to where AWS keeps it (`secretsmanager:<secret>`,
`ssm:<parameter>`; secret_refs.py), fetched at run time.

Cold start imports this module: it holds plain tuples and one small class, no dataclasses or typing."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Tuple, Union

# Kinds: how a value is read from the environment and checked (config.py holds one parser and one check
# for each).
ORIGINS = "origins"          # comma-separated web origins, scheme://host[:port]
COOKIE_PREFIX = "cookie_prefix"  # RFC 6265 cookie-name characters, limits = (shortest, longest)
KEY = "key"                  # 64 hex characters
KEYS = "keys"                # comma-separated keys of the KEY kind
FLAG = "flag"                # true or false, any case
NUMBER = "number"            # a whole number within limits = (lowest, highest)
TEXT = "text"                # free text
URL = "url"                  # an http(s) URL, without credentials
FILE = "file"                # the path of a readable file
CHOICE = "choice"            # one of limits (any case in, limits' case out)
LIST = "list"                # comma-separated items; with limits, each one of them
SCOPES = "scopes"            # space-separated scope words
CLAIMS = "claims"            # comma-separated JWT claim names
ROUTES = "routes"            # ;-separated METHOD PATH=scope [scope...]
NAMESPACE = "namespace"      # a CloudWatch namespace
GENERATIONS = "generations"  # comma-separated words of limits, in any order; stored joined in limits' order

KINDS = (ORIGINS, COOKIE_PREFIX, KEY, KEYS, FLAG, NUMBER, TEXT, URL, FILE, CHOICE, LIST, SCOPES, CLAIMS, ROUTES,
         NAMESPACE, GENERATIONS)


class Setting:
    """One configuration variable (a row of SETTINGS)."""

    __slots__ = ("name", "env", "kind", "default", "limits", "secret", "required", "doc")

    def __init__(self, name: str, kind: str, default: object, limits: Optional[Tuple[object, ...]] = None, *,
                 secret: bool = False, required: Union[bool, str] = False, doc: str) -> None:
        self.name = name
        self.env = name.upper()
        self.kind = kind
        self.default = default
        self.limits = limits
        self.secret = secret
        self.required = required
        self.doc = doc

    def __repr__(self) -> str:
        return f"Setting({self.env})"


SETTINGS = (
    Setting("trusted_web_origins", ORIGINS, None, required=True,
            doc="comma-separated web origins (scheme://host[:port]) that may call the API; * is refused"),
    Setting("cookie_name_prefix", COOKIE_PREFIX, None, (1, 64), required=True,
            doc="the OAuth Agent's cookie name prefix: cookies <prefix>-at and <prefix>-csrf"),
    Setting("encryption_key", KEY, None, secret=True, required=True,
            doc="64 hex characters (32 bytes), the OAuth Agent's cookie key"),
    Setting("previous_encryption_keys", KEYS, (), secret=True,
            doc="comma-separated old keys still accepted for decryption while keys rotate"),
    Setting("allow_token", FLAG, False,
            doc="true: a request with Authorization: Bearer <token> is allowed with that token, no cookie checks"),
    Setting("use_phantom_token", FLAG, False,
            doc="true: exchange the opaque token for a JWT at the introspection endpoint"),
    Setting("introspection_url", URL, None, required="use_phantom_token",
            doc="the RFC 7662 introspection endpoint (http or https)"),
    Setting("client_id", TEXT, None, required="use_phantom_token",
            doc="HTTP Basic client id for introspection"),
    Setting("client_secret", TEXT, None, secret=True, required="use_phantom_token",
            doc="HTTP Basic client secret for introspection"),
    # The bounds also keep the C side's deadline and cache arithmetic far from overflow.
    Setting("introspection_timeout_ms", NUMBER, 3000, (1, 600_000),
            doc="milliseconds allowed for one whole introspection call, connect included"),
    Setting("introspection_ca_file", FILE, None,
            doc="PEM bundle trusted for the introspection endpoint's TLS (default: the system store)"),
    Setting("introspection_cache_ttl", NUMBER, 300, (0, 86_400),
            doc="seconds an introspection result may be reused, never past the JWT's exp; 0 disables"),
    Setting("introspection_cache_size", NUMBER, 1024, (0, 10_000_000),
            doc="most introspection results kept; least recently used go first"),
    Setting("required_scopes", SCOPES, (),
            doc="space-separated scopes the JWT's scope claim must all contain"),
    Setting("http_api_response_format", CHOICE, "simple", ("simple", "iam"),
            doc="payload 2.0 answers: simple (isAuthorized) or iam (a policy)"),
    Setting("log_level", CHOICE, "WARNING", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
            doc="level of the oauth_proxy logger; unset, AWS_LAMBDA_LOG_LEVEL, else WARNING"),
    Setting("introspection_pool_size", NUMBER, 4, (1, 64),
            doc="most connections to the introspection endpoint, made only when calls overlap"),
    Setting("metrics", FLAG, False,
            doc="true: one CloudWatch Embedded Metric Format line per invocation"),
    Setting("metrics_namespace", NAMESPACE, "OAuthProxy",
            doc="CloudWatch namespace of those metrics"),
    Setting("context_claims", CLAIMS, (),
            doc="comma-separated JWT claims copied into the allow context (string, number or boolean values)"),
    Setting("route_scopes", ROUTES, (),
            doc="';'-separated METHOD PATH=scope [scope...]: scopes a route needs on top of REQUIRED_SCOPES"),
    Setting("require_origin", CHOICE, "always", ("always", "writes"),
            doc="always, or writes: GET, HEAD and OPTIONS without an Origin header pass the origin check"),
    Setting("cookie_format", GENERATIONS, "v1", ("v1", "v2"),
            doc="the OAuth Agent's cookie generation: v1, v2 (no version byte, Curity's 2024 agents), or v1,v2"),
    Setting("csrf_mode", CHOICE, "double-submit", ("double-submit", "header"),
            doc="double-submit (-csrf cookie and x-<prefix>-csrf header), or header: token-handler-version: 1"),
    Setting("secrets_refresh_seconds", NUMBER, 300, (0, 86_400),
            doc="seconds after which values given as secretsmanager:/ssm: references are fetched again; "
                "0: once per process"),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}
