"""Which configuration values are references to secrets kept in AWS (`secretsmanager:<secret id or ARN>`,
`ssm:<parameter name or ARN>`), and whether a reference is well formed: what Config checks where a value
enters. Kept apart from secret_refs (which fetches them) so that a cold start with literal values loads
neither that module nor the AWS client."""
from __future__ import annotations

from .errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence, Tuple

    from .config import Config

PREFIXES = ("secretsmanager:", "ssm:")
_MAX_REFERENCE = 2048
# Secret names take letters, digits and /_+=.@-; parameter names letters, digits and _.-/ (and :version or
# :label after them); ARNs add ':'. Nothing else can name either, so nothing else is let through to a log.
_REFERENCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+=.@:-")

def is_reference(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIXES)


def check_reference(setting: str, text: str) -> str:
    """The reference itself, once its syntax is checked; ConfigError naming `setting` otherwise."""
    kind, _, identifier = text.partition(":")
    if not identifier:
        raise ConfigError(f"{setting}: {kind}: needs a {'secret name or ARN' if kind == 'secretsmanager' else 'parameter name or ARN'} after the colon")
    if len(identifier) > _MAX_REFERENCE or not _REFERENCE_CHARS.issuperset(identifier):
        # The text is not echoed: it could be a literal secret that merely starts like a reference.
        raise ConfigError(f"{setting}: the {kind}: reference must be a name or ARN of at most {_MAX_REFERENCE} letters, "
                          "digits and / _ + = . @ : - characters")
    return text


def references(encryption_key: str, previous_keys: Sequence[str], client_secret: Optional[str]) -> List[Tuple[str, str]]:
    """(variable, reference) for every reference among these values, in configuration order."""
    found = []
    if is_reference(encryption_key):
        found.append(("ENCRYPTION_KEY", encryption_key))
    for item in previous_keys:
        if is_reference(item):
            found.append(("PREVIOUS_ENCRYPTION_KEYS", item))
    if is_reference(client_secret):
        found.append(("CLIENT_SECRET", client_secret))  # type: ignore[arg-type]  # is_reference: a str
    return found


def config_references(config: Config) -> List[Tuple[str, str]]:
    """(variable, reference) for every reference of a configuration."""
    return references(config.encryption_key, config.previous_encryption_keys, config.client_secret)
