"""secret_refs.refreshing_handler: when referenced values are fetched again, what a failed fetch leaves in
place, and that a handler is rebuilt only when the values changed. A fake clock and fetch; the real fetches
against moto are in tests/test_secrets_handler.py."""
from __future__ import annotations

import pytest

from oauth_proxy import ConfigError
from oauth_proxy.secret_refs import RETRY_SECONDS, SecretFetchError, refreshing_handler


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """fetch(): the next queued outcome (a value, or an exception to raise); counts calls."""

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def throttled() -> SecretFetchError:
    return SecretFetchError("ENCRYPTION_KEY", "secretsmanager:k", "ThrottlingException",
                            "ENCRYPTION_KEY: could not fetch secretsmanager:k: ThrottlingException: ...")


def make(source, interval=300.0):
    clock, built, failures = Clock(), [], []

    def build(values):
        built.append(values)
        return lambda event, context: (values, event)

    handler = refreshing_handler(source, build, interval, lambda *args: failures.append(args), clock)
    return handler, clock, built, failures


def test_fetched_at_creation_and_again_only_after_the_interval():
    source = Source("v1")
    handler, clock, built, _ = make(source)
    assert source.calls == 1 and built == ["v1"]  # in the init phase, before any invocation
    assert handler("e", None) == ("v1", "e")
    clock.now += 299
    handler("e", None)
    assert source.calls == 1
    clock.now += 1
    handler("e", None)
    assert source.calls == 2 and built == ["v1"]  # same values: the handler (its caches, its pool) is kept


def test_changed_values_build_a_new_handler():
    source = Source("v1", "v2")
    handler, clock, built, _ = make(source)
    clock.now += 300
    assert handler("e", None) == ("v2", "e") and built == ["v1", "v2"]


def test_a_failed_refresh_keeps_the_last_values_and_retries_soon():
    source = Source("v1", throttled(), "v2")
    handler, clock, built, failures = make(source)
    clock.now += 300
    assert handler("e", "ctx") == ("v1", "e")
    (error, event, context, kept), = failures
    assert (error.code, event, context, kept) == ("ThrottlingException", "e", "ctx", True)
    clock.now += RETRY_SECONDS - 1
    handler("e", None)
    assert source.calls == 2
    clock.now += 1
    assert handler("e", None) == ("v2", "e") and source.calls == 3


def test_nothing_fetched_yet_is_a_config_error_on_every_invocation_until_a_fetch_succeeds():
    source = Source(throttled(), throttled(), "v1")
    handler, clock, built, failures = make(source)
    assert [kept for *_, kept in failures] == [False]  # the init-phase attempt, reported with no event
    assert failures[0][1:3] == (None, None)
    with pytest.raises(ConfigError) as caught:
        handler("e", "ctx")
    assert "ENCRYPTION_KEY" in str(caught.value) and "ThrottlingException" in str(caught.value)
    assert not isinstance(caught.value, SecretFetchError) and caught.value.__cause__ is None
    assert handler("e", None) == ("v1", "e")  # retried at the very next invocation
    assert [kept for *_, kept in failures] == [False, False] and built == ["v1"]


def test_interval_zero_fetches_once_per_process():
    source = Source("v1", "v2")
    handler, clock, _, _ = make(source, interval=0)
    clock.now += 10 ** 9
    assert handler("e", None) == ("v1", "e") and source.calls == 1


def test_a_handler_that_cannot_be_built_counts_as_a_failed_fetch():
    source = Source("v1", "v2")
    clock, failures = Clock(), []

    def build(values):
        if values == "v2":
            raise ConfigError("INTROSPECTION_CA_FILE: gone")
        return lambda event, context: values

    handler = refreshing_handler(source, build, 60, lambda *args: failures.append(args), clock)
    clock.now += 60
    assert handler("e", None) == "v1"
    assert failures[0][0].code == "InvalidValue" and failures[0][3] is True
