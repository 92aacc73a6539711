"""References to secrets kept in AWS: ENCRYPTION_KEY, PREVIOUS_ENCRYPTION_KEYS (each item) and CLIENT_SECRET
may hold `secretsmanager:<secret id or ARN>` or `ssm:<parameter name or ARN>` instead of a value.

A reference's syntax is checked where it enters (Config); the value behind it is checked when it is
fetched (here), like a literal one: a key must be 64 hexadecimal characters. For a Secrets Manager key the
version staged AWSCURRENT is the current key and the one staged AWSPREVIOUS, when there is one, is accepted
for decryption too: after a rotation in Secrets Manager, cookies sealed with the old key still open until
the next rotation.

Error convention: every failure is a SecretFetchError (a ConfigError) naming the variable, the reference
and the AWS error code (or InvalidValue for a value that is not what the variable takes); never the value.

Imported only where a configuration holds a reference (the syntax check itself is references.py, which
every cold start loads): a function with literal values loads neither this module nor the AWS client."""
from __future__ import annotations

from .aws_secrets import AwsClient, AwsError
from .errors import ConfigError
from .references import is_reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

    from .config import Config

    Handler = Callable[[Any, Any], Any]

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class SecretFetchError(ConfigError):
    """A referenced value that could not be had: ``setting`` (the variable), ``reference`` and ``code`` (the
    AWS error code, or this package's category: see oauth_proxy.aws_secrets; InvalidValue when the value
    fetched is not what the variable takes)."""

    def __init__(self, setting: str, reference: str, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.setting = setting
        self.reference = reference
        self.code = code
        self.detail = detail or message  # what went wrong, without the variable and the reference


def resolve_config(config: Config, env: Mapping[str, str], client: Optional[AwsClient] = None) -> Config:
    """The configuration with every reference replaced by the value fetched for it (checked as a value
    given in the environment would be). Raises SecretFetchError."""
    key, previous, secret = Resolver(env, client).resolve(config.encryption_key, config.previous_encryption_keys,
                                                          config.client_secret)
    cls = type(config)
    values = {name: getattr(config, name) for name in cls.__slots__}
    values.update(encryption_key=key, previous_encryption_keys=previous, client_secret=secret)
    return cls(**values)


class Resolver:
    """Fetches the values behind references with one AwsClient. Each resolve() fetches afresh; within one,
    a reference named twice is fetched once."""

    def __init__(self, env: Mapping[str, str], client: Optional[AwsClient] = None) -> None:
        self.client = client if client is not None else AwsClient(env)
        self._fetched: Dict[Tuple[str, Optional[str]], object] = {}

    def resolve(self, encryption_key: str, previous_keys: Sequence[str],
                client_secret: Optional[str]) -> Tuple[str, Tuple[str, ...], Optional[str]]:
        """(current key, previous keys, client secret) with every reference replaced by its value. A
        Secrets Manager ENCRYPTION_KEY adds its AWSPREVIOUS version, when there is one, first among the
        previous keys. Raises SecretFetchError at the first reference that cannot be had."""
        self._fetched = {}
        jobs: List[Tuple[str, Optional[str]]] = []
        if is_reference(encryption_key):
            jobs.append((encryption_key, None))
            if encryption_key.startswith("secretsmanager:"):
                jobs.append((encryption_key, "AWSPREVIOUS"))
        jobs.extend((item, None) for item in previous_keys if is_reference(item))
        if is_reference(client_secret):
            jobs.append((client_secret, None))  # type: ignore[arg-type]  # is_reference: a str
        self._prefetch(jobs)
        previous: List[str] = []
        current = encryption_key
        if is_reference(encryption_key):
            current = self.key("ENCRYPTION_KEY", encryption_key)
            if encryption_key.startswith("secretsmanager:"):
                staged = self._fetch("ENCRYPTION_KEY", encryption_key, "AWSPREVIOUS")
                if staged is not None:
                    previous.append(_key("ENCRYPTION_KEY", encryption_key, staged))
        for item in previous_keys:
            previous.extend(self.keys("PREVIOUS_ENCRYPTION_KEYS", item) if is_reference(item) else [item])
        secret = client_secret
        if client_secret is not None and is_reference(client_secret):
            secret = self.text("CLIENT_SECRET", client_secret)
        unique: List[str] = []
        for key in previous:
            if key.lower() != current.lower() and key.lower() not in [k.lower() for k in unique]:
                unique.append(key)
        return current, tuple(unique), secret

    def describe(self, setting: str, reference: str) -> str:
        """Fetches and checks the value behind one reference, as resolve() would, and says what was found
        without saying what it is (for `oauth-proxy check-config`). Raises SecretFetchError."""
        if setting == "ENCRYPTION_KEY":
            self.key(setting, reference)
            if not reference.startswith("secretsmanager:"):
                return "a key"
            staged = self._fetch(setting, reference, "AWSPREVIOUS")
            if staged is None:
                return "a key (AWSCURRENT; no AWSPREVIOUS version yet)"
            _key(setting, reference, staged)
            return "a key (AWSCURRENT), and the previous one (AWSPREVIOUS)"
        if setting == "PREVIOUS_ENCRYPTION_KEYS":
            count = len(self.keys(setting, reference))
            return "1 key" if count == 1 else f"{count} keys"
        self.text(setting, reference)
        return "a value"

    def key(self, setting: str, reference: str) -> str:
        """The one key behind a reference (its AWSCURRENT version for Secrets Manager)."""
        return _key(setting, reference, self._fetch(setting, reference) or "")

    def keys(self, setting: str, reference: str) -> List[str]:
        """The keys behind a reference of PREVIOUS_ENCRYPTION_KEYS: one, or several separated by commas."""
        text = self._fetch(setting, reference) or ""
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise SecretFetchError(setting, reference, "InvalidValue", f"{setting}: the value of {reference} is empty",
                                   "InvalidValue: the value is empty")
        return [_key(setting, reference, item) for item in items]

    def text(self, setting: str, reference: str) -> str:
        """The value behind a reference, stripped of surrounding blanks like a value given in the environment."""
        value = (self._fetch(setting, reference) or "").strip()
        if not value:
            raise SecretFetchError(setting, reference, "InvalidValue", f"{setting}: the value of {reference} is empty",
                                   "InvalidValue: the value is empty")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SecretFetchError(setting, reference, "InvalidValue",
                                   f"{setting}: the value of {reference} is not valid text",
                                   "InvalidValue: the value is not valid text") from None
        return value

    def _fetch(self, setting: str, reference: str, stage: Optional[str] = None) -> Optional[str]:
        """The value at `reference` (None only for a missing AWSPREVIOUS: a secret never rotated has none)."""
        memo = (reference, stage)
        if memo not in self._fetched:
            self._fetched[memo] = self._get(reference, stage)
        outcome = self._fetched[memo]
        if isinstance(outcome, AwsError):
            if stage == "AWSPREVIOUS" and outcome.code == "ResourceNotFoundException":
                return None
            raise SecretFetchError(setting, reference, outcome.code, f"{setting}: could not fetch {reference}: {outcome}",
                                   str(outcome))
        assert outcome is None or isinstance(outcome, str)
        return outcome

    def _get(self, reference: str, stage: Optional[str]) -> object:
        """The value, or the AwsError that stood in its way."""
        kind, _, identifier = reference.partition(":")
        try:
            if kind == "secretsmanager":
                return self.client.get_secret_value(identifier, stage)
            return self.client.get_parameter(identifier)
        except AwsError as error:
            return error

    def _prefetch(self, jobs: List[Tuple[str, Optional[str]]]) -> None:
        """Makes every (reference, stage) fetch at once, one thread each, so a cold start waits about one
        round trip, not one per fetch (a Secrets Manager key alone takes two: AWSCURRENT and AWSPREVIOUS).
        _thread rather than threading: it is built in, nothing to import. A fetch that did not finish here
        is made again, in order, by _fetch."""
        jobs = list(dict.fromkeys(jobs))
        if len(jobs) < 2:
            return
        import _thread

        self.client.prepare()  # the client's imports, once, before the threads would queue for them
        waits = []
        for job in jobs[1:]:
            lock = _thread.allocate_lock()
            lock.acquire()

            def run(job: Tuple[str, Optional[str]] = job, lock: Any = lock) -> None:
                try:
                    self._fetched[job] = self._get(*job)
                finally:
                    lock.release()
            try:
                _thread.start_new_thread(run, ())
            except RuntimeError:  # no thread to be had: _fetch makes this one in turn
                continue
            waits.append(lock)
        self._fetched[jobs[0]] = self._get(*jobs[0])
        for lock in waits:
            lock.acquire(timeout=self.client.timeout + 5)  # every fetch ends by its own deadline before this


def _key(setting: str, reference: str, text: str) -> str:
    value = text.strip()
    if len(value) == 64 and _HEX_DIGITS.issuperset(value):
        return value
    hint = ""
    if value.startswith("{"):
        hint = " (it looks like JSON: store the key itself as the secret's text, as `oauth-proxy keygen` prints it)"
    what = f"not a key: it must be 64 hexadecimal characters (32 bytes); got {len(value)} characters{hint}"
    raise SecretFetchError(setting, reference, "InvalidValue", f"{setting}: the value of {reference} is {what}",
                           f"InvalidValue: the value is {what}")


# After a failed refresh the last values stay in use; the next attempt waits this long (or the refresh
# interval, if shorter), so an outage or throttling costs one call per this many seconds, not one per
# request, and a rotation missed by a failed refresh is picked up soon after AWS answers again.
RETRY_SECONDS = 10.0


def refreshing_handler(fetch: Callable[[], object], build: Callable[[object], Handler], interval: float,
                       on_failure: Callable[[SecretFetchError, object, object, bool], None],
                       clock: Callable[[], float]) -> Handler:
    """A Lambda handler that serves with build(fetch()) and fetches again at the first invocation after
    `interval` seconds (0: never again once fetched). fetch() returns the configuration with every reference
    replaced, or raises SecretFetchError; a new handler is built only when what it returns has changed, so
    a refresh that finds the same values keeps the proxy, its caches and its connections.

    A refresh that fails keeps the last handler (on_failure(error, event, context, True)); with nothing
    fetched yet, on_failure(error, event, context, False) and the invocation raises a ConfigError naming the
    variable and the AWS error code. Per invocation with nothing due, the cost is one clock read.

    The first fetch is made here; on_failure then gets None for the event and the context."""
    import _thread  # built in: threading would cost a cold start some 5 ms of imports

    lock = _thread.allocate_lock()
    # [serving handler or None, the values it was built from, when the next fetch is due]
    state: List[object] = [None, None, 0.0]

    def refresh(event: object, context: object) -> None:
        if not lock.acquire(blocking=state[0] is None):
            return  # another thread is refreshing: keep serving with the current values meanwhile
        try:
            if clock() < state[2]:  # type: ignore[operator]
                return
            try:
                values = fetch()
                serving = build(values) if state[0] is None or values != state[1] else state[0]
            except ConfigError as refused:
                # fetch() checks every value it returns, so build() refusing one would be a bug; it is
                # still handled like a failed fetch, so the last good handler keeps serving.
                error = refused if isinstance(refused, SecretFetchError) else SecretFetchError(
                    "configuration", "", "InvalidValue", str(refused))
                kept = state[0] is not None
                on_failure(error, event, context, kept)
                # Nothing held yet: try again at the next invocation; else keep the values a while.
                state[2] = clock() + min(RETRY_SECONDS, interval or RETRY_SECONDS) if kept else 0.0
                if not kept:
                    raise ConfigError(f"oauth-proxy is not configured: {error}") from None
                return
            state[0], state[1] = serving, values
            state[2] = clock() + interval if interval else float("inf")
        finally:
            lock.release()

    def handler(event: object, context: object) -> object:
        if clock() >= state[2]:  # type: ignore[operator]
            refresh(event, context)
        return state[0](event, context)  # type: ignore[operator]

    # The first fetch happens now, in Lambda's init phase (not billed to a request, and with more CPU); a
    # failure there is reported, and the first invocation tries again.
    try:
        refresh(None, None)
    except ConfigError:
        pass
    return handler
