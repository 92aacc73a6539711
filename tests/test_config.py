"""The configuration: every variable, its default, and a clear ConfigError that never shows a secret."""
from __future__ import annotations

import pytest

import oauth_proxy
from conftest import KEY, OLD_KEY, ORIGIN

SECRET = "client-secret-that-must-never-show"
BASE = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": "example", "ENCRYPTION_KEY": KEY}


def from_env(**changes):
    env = dict(BASE)
    env.update(changes)
    env = {k: v for k, v in env.items() if v is not None}
    return oauth_proxy.Config.from_env(env)


def config_error(**changes) -> str:
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        from_env(**changes)
    message = str(caught.value)
    for secret in (KEY, OLD_KEY, SECRET, KEY[:-1], KEY + "0"):
        assert secret not in message
    return message


def test_defaults():
    cfg = from_env()
    assert cfg.trusted_web_origins == (ORIGIN,)
    assert cfg.cookie_name_prefix == "example"
    assert cfg.encryption_key == KEY
    assert cfg.previous_encryption_keys == ()
    assert cfg.allow_token is False and cfg.use_phantom_token is False
    assert cfg.introspection_timeout_ms == 3000
    assert cfg.introspection_cache_ttl == 300 and cfg.introspection_cache_size == 1024
    assert cfg.required_scopes == () and cfg.http_api_response_format == "simple" and cfg.log_level == "WARNING"
    assert cfg.introspection_url is None and cfg.client_id is None and cfg.client_secret is None


def test_environment_values_are_stripped_and_lists_split():
    cfg = from_env(TRUSTED_WEB_ORIGINS=f"  {ORIGIN} ,https://app.example.com:8443,, ",
                   COOKIE_NAME_PREFIX=" example ", ENCRYPTION_KEY=f" {KEY}\n",
                   PREVIOUS_ENCRYPTION_KEYS=f" {OLD_KEY} , ,", REQUIRED_SCOPES="  read   write ")
    assert cfg.trusted_web_origins == (ORIGIN, "https://app.example.com:8443")
    assert cfg.previous_encryption_keys == (OLD_KEY,)
    assert cfg.required_scopes == ("read", "write")


@pytest.mark.parametrize("name", ["ALLOW_TOKEN", "USE_PHANTOM_TOKEN"])
@pytest.mark.parametrize("text, value", [("true", True), ("TRUE", True), ("True", True), ("false", False), ("FaLsE", False)])
def test_booleans_in_any_case(name, text, value):
    extra = {"INTROSPECTION_URL": "https://as.example/introspect", "CLIENT_ID": "id", "CLIENT_SECRET": SECRET}
    assert getattr(from_env(**{name: text}, **extra), name.lower()) is value


@pytest.mark.parametrize("text", ["yes", "1", "on", "tru"])
def test_other_boolean_words_are_errors(text):
    assert "ALLOW_TOKEN" in config_error(ALLOW_TOKEN=text)


def test_empty_values_mean_unset():
    cfg = from_env(ALLOW_TOKEN="  ", INTROSPECTION_TIMEOUT_MS="", LOG_LEVEL="", PREVIOUS_ENCRYPTION_KEYS=" ")
    assert cfg.allow_token is False and cfg.introspection_timeout_ms == 3000 and cfg.log_level == "WARNING"


@pytest.mark.parametrize("name", ["TRUSTED_WEB_ORIGINS", "COOKIE_NAME_PREFIX", "ENCRYPTION_KEY"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_variables(name, value):
    assert name in config_error(**{name: value})


@pytest.mark.parametrize("origins", ["*", f"{ORIGIN},*", ",", "www.example.com", f"{ORIGIN}/", f"{ORIGIN}/app",
                                     "https://", "https://a b.example"])
def test_bad_origins(origins):
    assert "TRUSTED_WEB_ORIGINS" in config_error(TRUSTED_WEB_ORIGINS=origins)


@pytest.mark.parametrize("prefix", ["a b", "a;b", "a=b", "x" * 65, "é", "a,b", 'a"b'])
def test_bad_cookie_prefixes(prefix):
    assert "COOKIE_NAME_PREFIX" in config_error(COOKIE_NAME_PREFIX=prefix)


@pytest.mark.parametrize("prefix", ["a", "x" * 64, "my_app.v2", "A-B", "!#$%&'*+-.^_`|~"])
def test_good_cookie_prefixes(prefix):
    assert from_env(COOKIE_NAME_PREFIX=prefix).cookie_name_prefix == prefix


@pytest.mark.parametrize("key", [KEY[:-1], KEY + "0", "g" * 64, KEY[:32], "0x" + KEY[2:]])
def test_bad_encryption_key(key):
    message = config_error(ENCRYPTION_KEY=key)
    assert "ENCRYPTION_KEY" in message and "64 hexadecimal" in message


@pytest.mark.parametrize("keys", [f"{OLD_KEY},{OLD_KEY[:-2]}", "nothex", f"{OLD_KEY} {OLD_KEY}"])
def test_bad_previous_keys(keys):
    assert "PREVIOUS_ENCRYPTION_KEYS" in config_error(PREVIOUS_ENCRYPTION_KEYS=keys)


@pytest.mark.parametrize("name", ["INTROSPECTION_TIMEOUT_MS", "INTROSPECTION_CACHE_TTL", "INTROSPECTION_CACHE_SIZE"])
@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "1e3", "0x10"])
def test_non_numeric_numbers(name, value):
    assert name in config_error(**{name: value})


def test_numbers_are_parsed():
    cfg = from_env(INTROSPECTION_TIMEOUT_MS="1500", INTROSPECTION_CACHE_TTL="0", INTROSPECTION_CACHE_SIZE="10")
    assert (cfg.introspection_timeout_ms, cfg.introspection_cache_ttl, cfg.introspection_cache_size) == (1500, 0, 10)
    assert "INTROSPECTION_TIMEOUT_MS" in config_error(INTROSPECTION_TIMEOUT_MS="0")


@pytest.mark.parametrize("value", ["xml", "policy", "simple iam"])
def test_unknown_response_format(value):
    assert "HTTP_API_RESPONSE_FORMAT" in config_error(HTTP_API_RESPONSE_FORMAT=value)


def test_response_format_and_log_level_any_case():
    cfg = from_env(HTTP_API_RESPONSE_FORMAT="IAM", LOG_LEVEL="debug")
    assert cfg.http_api_response_format == "iam" and cfg.log_level == "DEBUG"
    assert "LOG_LEVEL" in config_error(LOG_LEVEL="loud")


@pytest.mark.parametrize("missing", ["INTROSPECTION_URL", "CLIENT_ID", "CLIENT_SECRET"])
def test_phantom_needs_endpoint_and_credentials(missing):
    values = {"USE_PHANTOM_TOKEN": "true", "INTROSPECTION_URL": "https://as.example/introspect",
              "CLIENT_ID": "id", "CLIENT_SECRET": SECRET, missing: None}
    assert missing in config_error(**values)


@pytest.mark.parametrize("url", ["ftp://as.example/x", "as.example/introspect", "file:///etc/passwd", "https://"])
def test_introspection_url_must_be_http(url):
    assert "INTROSPECTION_URL" in config_error(INTROSPECTION_URL=url)


def test_ca_file_must_exist(tmp_path):
    assert "INTROSPECTION_CA_FILE" in config_error(INTROSPECTION_CA_FILE=str(tmp_path / "missing.pem"))
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    assert from_env(INTROSPECTION_CA_FILE=str(pem)).introspection_ca_file == str(pem)


def test_keyword_form_takes_values_as_given():
    cfg = oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix="example", encryption_key=KEY,
                             previous_encryption_keys=[OLD_KEY], allow_token=True, required_scopes=["a", "b"],
                             introspection_cache_ttl=0)
    assert cfg.allow_token is True and cfg.required_scopes == ("a", "b") and cfg.previous_encryption_keys == (OLD_KEY,)
    assert oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix="e", encryption_key=KEY,
                              required_scopes="a b").required_scopes == ("a", "b")


@pytest.mark.parametrize("changes", [
    {"trusted_web_origins": ORIGIN},  # a string, not a list
    {"trusted_web_origins": []},
    {"allow_token": "true"},
    {"introspection_timeout_ms": "3000"},
    {"introspection_cache_size": True},
    {"encryption_key": None},
    {"previous_encryption_keys": KEY},
    {"required_scopes": ["a b"]},
])
def test_keyword_form_rejects_wrong_types(changes):
    values = dict(trusted_web_origins=[ORIGIN], cookie_name_prefix="example", encryption_key=KEY)
    values.update(changes)
    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.Config(**values)
    assert KEY not in str(caught.value)


def test_repr_hides_secrets():
    cfg = from_env(PREVIOUS_ENCRYPTION_KEYS=OLD_KEY, CLIENT_SECRET=SECRET, CLIENT_ID="id",
                   INTROSPECTION_URL="https://as.example/introspect")
    text = repr(cfg) + str(cfg)
    for secret in (KEY, OLD_KEY, SECRET):
        assert secret not in text
    assert "example" in text


def test_config_is_immutable():
    with pytest.raises(Exception):
        from_env().encryption_key = "x"  # type: ignore[misc]


def test_config_error_is_a_value_error():
    assert issubclass(oauth_proxy.ConfigError, ValueError)


def test_oauth_proxy_needs_a_config():
    with pytest.raises(TypeError):
        oauth_proxy.OAuthProxy({"TRUSTED_WEB_ORIGINS": ORIGIN})  # type: ignore[arg-type]


def test_log_level_is_applied(denials):
    import logging

    oauth_proxy.OAuthProxy(from_env(LOG_LEVEL="ERROR"))
    assert logging.getLogger("oauth_proxy").level == logging.ERROR
    oauth_proxy.OAuthProxy(from_env())
    assert logging.getLogger("oauth_proxy").level == logging.WARNING


def test_operations_settings():
    cfg = from_env()
    assert cfg.introspection_pool_size == 4 and cfg.metrics is False and cfg.metrics_namespace == "OAuthProxy"
    cfg = from_env(INTROSPECTION_POOL_SIZE=" 2 ", METRICS="TRUE", METRICS_NAMESPACE="Shop/Auth proxy")
    assert cfg.introspection_pool_size == 2 and cfg.metrics is True and cfg.metrics_namespace == "Shop/Auth proxy"


@pytest.mark.parametrize("changes, setting", [
    ({"INTROSPECTION_POOL_SIZE": "0"}, "INTROSPECTION_POOL_SIZE"),
    ({"INTROSPECTION_POOL_SIZE": "65"}, "INTROSPECTION_POOL_SIZE"),
    ({"INTROSPECTION_POOL_SIZE": "two"}, "INTROSPECTION_POOL_SIZE"),
    ({"METRICS": "yes"}, "METRICS"),
    ({"METRICS_NAMESPACE": "AWS/Lambda"}, "METRICS_NAMESPACE"),
    ({"METRICS_NAMESPACE": "x" * 256}, "METRICS_NAMESPACE"),
    ({"METRICS_NAMESPACE": "a{b}"}, "METRICS_NAMESPACE"),
])
def test_bad_operations_settings(changes, setting):
    assert setting in config_error(**changes)


@pytest.mark.parametrize("lambda_level, level", [("TRACE", "DEBUG"), ("debug", "DEBUG"), ("INFO", "INFO"),
                                                 ("WARN", "WARNING"), ("ERROR", "ERROR"), ("FATAL", "CRITICAL")])
def test_lambda_log_level_applies_when_log_level_is_unset(lambda_level, level):
    assert from_env(AWS_LAMBDA_LOG_LEVEL=lambda_level).log_level == level
    assert from_env(AWS_LAMBDA_LOG_LEVEL=lambda_level, LOG_LEVEL="  ").log_level == level
    assert from_env(AWS_LAMBDA_LOG_LEVEL=lambda_level, LOG_LEVEL="error").log_level == "ERROR"


def test_unknown_lambda_log_level_is_named():
    assert "AWS_LAMBDA_LOG_LEVEL" in config_error(AWS_LAMBDA_LOG_LEVEL="LOUD")
