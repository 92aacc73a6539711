"""The settings table (oauth_proxy.settings) against Config and against what documents the variables: one row
per variable, and everything else follows it or fails here. The deployment descriptions are held to the same
table by tests/deploy (CONTRACT_VARIABLES comes from it)."""
from __future__ import annotations

import copy
import pickle
import re

import pytest

import oauth_proxy
from conftest import KEY, OLD_KEY, ORIGIN, REPO
from oauth_proxy import settings
from oauth_proxy.settings import SETTINGS

# Where the configuration reference (the table of every variable) lives. One constant, so moving the
# reference into docs/ is a one-line change here.
CONFIG_REFERENCE = REPO / "docs" / "configuration.md"
ENV_TEMPLATE = REPO / ".env-template"

BASE = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": "example", "ENCRYPTION_KEY": KEY}
PHANTOM = {"USE_PHANTOM_TOKEN": "true", "INTROSPECTION_URL": "https://login.example/introspect",
           "CLIENT_ID": "gateway", "CLIENT_SECRET": "s3cret"}

# An environment value of each kind that differs from any default of that kind.
SAMPLE_TEXT = {
    settings.ORIGINS: "https://app.example.com",
    settings.COOKIE_PREFIX: "__Host-shop",
    settings.KEY: OLD_KEY,
    settings.KEYS: OLD_KEY,
    settings.FLAG: "true",
    settings.TEXT: "some-text",
    settings.URL: "https://other.example/introspect",
    settings.SCOPES: "orders:read",
    settings.CLAIMS: "tenant",
    settings.ROUTES: "GET /orders=orders:read",
    settings.NAMESPACE: "Shop/Auth",
}


def sample_text(setting, tmp_path) -> str:
    if setting.kind == settings.NUMBER:
        return str(setting.limits[1])
    if setting.kind in (settings.CHOICE, settings.GENERATIONS):
        return next(word for word in setting.limits if word != setting.default).lower()
    if setting.kind == settings.FILE:
        path = tmp_path / "file.pem"
        path.write_text("-----BEGIN CERTIFICATE-----\n")
        return str(path)
    return SAMPLE_TEXT[setting.kind]


def env_text(value: object) -> str:
    """A default in the form an environment variable gives it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == ():
        return ""
    return str(value)


def test_every_kind_has_a_parser_and_a_check():
    from oauth_proxy import config

    assert set(config._CHECKS) == set(settings.KINDS)
    assert {setting.kind for setting in SETTINGS} <= set(settings.KINDS)


def test_config_declares_one_attribute_per_row_in_table_order():
    # The declarations are what the type checker sees; a row without one (or a stale one) fails here.
    names = [setting.name for setting in SETTINGS]
    assert list(oauth_proxy.Config.__annotations__) == names
    assert tuple(oauth_proxy.Config.__slots__) == tuple(names)
    assert len(set(names)) == len(names)
    assert all(setting.env == setting.name.upper() for setting in SETTINGS)


def test_rows_are_well_formed():
    for setting in SETTINGS:
        assert setting.doc, setting
        assert setting.required in (True, False) or setting.required in settings.BY_NAME, setting
        if setting.kind == settings.NUMBER:
            lowest, highest = setting.limits
            assert lowest <= setting.default <= highest, setting
        if setting.kind == settings.CHOICE:
            assert setting.default in setting.limits, setting
        if setting.kind == settings.GENERATIONS:
            assert set(setting.default.split(",")) <= set(setting.limits), setting


def test_defaults_are_what_an_unset_variable_gives_and_pass_their_checks():
    unset = oauth_proxy.Config.from_env(BASE)
    for setting in SETTINGS:
        if setting.required is not True:
            assert getattr(unset, setting.name) == setting.default, setting
    # Given explicitly, every default is accepted and stored unchanged.
    given = {setting.name: setting.default for setting in SETTINGS if setting.required is not True}
    explicit = oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix="example", encryption_key=KEY,
                                  **given)
    assert explicit == unset


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.env)
def test_from_env_reads_every_variable_of_the_table(setting, tmp_path):
    baseline = oauth_proxy.Config.from_env(dict(BASE, **PHANTOM))
    text = sample_text(setting, tmp_path)
    if setting.kind == settings.FLAG:
        text = "false" if getattr(baseline, setting.name) else "true"
    read = oauth_proxy.Config.from_env({**BASE, **PHANTOM, setting.env: f"  {text} "})
    assert getattr(read, setting.name) != getattr(baseline, setting.name)


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.kind == settings.NUMBER], ids=lambda s: s.env)
def test_number_bounds_come_from_the_table(setting):
    lowest, highest = setting.limits
    for value in (lowest, highest):
        assert getattr(oauth_proxy.Config.from_env({**BASE, setting.env: str(value)}), setting.name) == value
    for value in (lowest - 1, highest + 1):
        if value < 0:
            continue  # not a whole number in the environment: refused as text (tests/test_config.py)
        with pytest.raises(oauth_proxy.ConfigError) as caught:
            oauth_proxy.Config.from_env({**BASE, setting.env: str(value)})
        assert str(caught.value) == f"{setting.env} must be between {lowest} and {highest}, not {value}"


@pytest.mark.parametrize("setting", [s for s in SETTINGS if isinstance(s.required, str)], ids=lambda s: s.env)
def test_conditionally_required_settings(setting):
    flag = settings.BY_NAME[setting.required]
    env = {**BASE, **PHANTOM}
    del env[setting.env]
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.Config.from_env(env)
    assert str(caught.value) == f"{setting.env} is required when {flag.env} is true"
    assert getattr(oauth_proxy.Config.from_env({**env, flag.env: "false"}), setting.name) is None


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="introspection_timeout"):
        oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix="e", encryption_key=KEY,
                           introspection_timeout=5)


def test_missing_required_keyword_is_named():
    with pytest.raises(oauth_proxy.ConfigError, match="^ENCRYPTION_KEY is required$"):
        oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix="e")


def test_repr_hides_exactly_the_secret_settings(tmp_path):
    env = dict(BASE, **PHANTOM, PREVIOUS_ENCRYPTION_KEYS=OLD_KEY)
    text = repr(oauth_proxy.Config.from_env(env))
    for setting in SETTINGS:
        shown = re.search(rf"\b{setting.name}=([^,)]*)", text)
        assert shown is not None, setting
        assert (shown.group(1) == "<hidden>") is setting.secret, setting
    for secret in (KEY, OLD_KEY, PHANTOM["CLIENT_SECRET"]):
        assert secret not in text


def test_copy_pickle_and_hash_round_trip():
    cfg = oauth_proxy.Config.from_env(dict(BASE, **PHANTOM, ROUTE_SCOPES="get /a/*=x y", CONTEXT_CLAIMS="sub"))
    for twin in (copy.copy(cfg), copy.deepcopy(cfg), pickle.loads(pickle.dumps(cfg))):
        assert twin == cfg and hash(twin) == hash(cfg) and twin is not cfg
    assert cfg != oauth_proxy.Config.from_env(BASE)


def _reference_rows() -> dict:
    """variable -> (required cell, default cell) of the configuration reference's table."""
    rows = {}
    in_table = False
    for line in CONFIG_REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| variable | required | default | meaning |"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            for name in re.findall(r"`([A-Z_]+)`", cells[0]):
                rows[name] = (cells[1], cells[2])
    return rows


def test_configuration_reference_lists_exactly_the_table():
    rows = _reference_rows()
    assert rows, f"no configuration table in {CONFIG_REFERENCE.name}"
    assert sorted(rows) == sorted(setting.env for setting in SETTINGS)


def test_configuration_reference_agrees_on_required_and_defaults():
    rows = _reference_rows()
    for setting in SETTINGS:
        required, default = rows[setting.env]
        if setting.required is True:
            assert required == "yes", setting
        elif setting.required is False:
            assert required == "no", setting
        else:
            assert required.startswith("if "), setting
        text = env_text(setting.default)
        if text:
            assert f"`{text}`" in default, (setting, default)


def test_env_template_names_every_variable_with_its_default_or_blank():
    values = dict(re.findall(r"^#?([A-Z_]+)=(.*)$", ENV_TEMPLATE.read_text(encoding="utf-8"), re.MULTILINE))
    for setting in SETTINGS:
        assert setting.env in values, setting
        text = env_text(setting.default)
        if text and values[setting.env]:
            assert values[setting.env] == text, setting


def test_list_kind_for_rows_to_come():
    # No row uses it yet: comma-separated values such as an audience list or a set of algorithms.
    from oauth_proxy.config import _CHECKS, _PARSERS
    from oauth_proxy.settings import Setting

    free = Setting("audiences", settings.LIST, (), doc="test row")
    assert _CHECKS[settings.LIST](free, _PARSERS[settings.LIST](free, " a, b,,a ")) == ("a", "b")
    assert _CHECKS[settings.LIST](free, ["x"]) == ("x",)
    chosen = Setting("algorithms", settings.LIST, ("RS256",), ("RS256", "ES256"), doc="test row")
    assert _CHECKS[settings.LIST](chosen, "rs256,ES256") == ("RS256", "ES256")
    with pytest.raises(oauth_proxy.ConfigError, match="^ALGORITHMS: 'HS256' is not one of RS256, ES256$"):
        _CHECKS[settings.LIST](chosen, "HS256")
