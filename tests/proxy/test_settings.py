"""settings.py: layers, validation and error messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipgate.proxy.config.settings import SettingsError, load_settings, parse_size
from pipgate.proxy.files.serving import parse_range


def test_no_configuration_is_valid_and_secure():
    settings = load_settings(None, environ={})
    assert settings.server.host == "127.0.0.1"
    assert settings.upstream.url == "https://pypi.org/simple/"
    assert settings.index_names == ["default"]


def test_layers_file_then_environment_then_flags(tmp_path):
    config = tmp_path / "pipgate.toml"
    config.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[cache]\nindex_ttl = "5m"\n')
    settings = load_settings(
        config,
        environ={"PIPGATE_PORT": "9100", "PIPGATE_CACHE__NEGATIVE_TTL": "30s"},
        overrides={"server": {"port": 9200}},
    )
    assert settings.server.port == 9200
    assert settings.server.host == "0.0.0.0"
    assert settings.cache.index_ttl == timedelta(minutes=5)
    assert settings.cache.negative_ttl == timedelta(seconds=30)


def test_index_policies_merge_over_the_base(tmp_path):
    settings = load_settings(
        None,
        environ={},
        overrides={
            "policies": {"release_age": {"min_age": "3d", "exempt": ["a"]}},
            "indexes": {"strict": {"policies": {"release_age": {"min_age": "14d"}}}},
        },
    )
    assert settings.index_policies("strict")["release_age"] == {"min_age": "14d", "exempt": ["a"]}
    assert settings.index_names == ["default", "strict"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[server]\nport = 99999\n", "server.port"),
        ('[cache]\nindex_ttl = "soon"\n', "cache.index_ttl"),
        ('[upstream]\nurl = "ftp://x"\n', "upstream.url"),
        ('[cache]\nmax_size = "lots"\n', "cache.max_size"),
        ("[nonsense]\n", "nonsense"),
        ('[policies.release_age]\nmin_age = "7"\n', "release_age.min_age"),
        ("[indexes.Bad]\n", "Bad"),
        ("[indexes.files]\n", "reserved"),
        ('[indexes.ci]\nprojects = ["\u017fix"]\n', "indexes.ci.projects"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_invalid_configuration_names_the_key(tmp_path, toml, message):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    with pytest.raises(SettingsError, match="bad.toml") as caught:
        load_settings(config, environ={})
    assert message in str(caught.value)


def test_missing_file_is_named():
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings("/nonexistent/pipgate.toml", environ={})


@pytest.mark.parametrize(
    ("text", "size"), [("20GB", 20 * 10**9), ("512MiB", 512 * 2**20), (100, 100), ("1.5k", 1500)]
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 9)),
        ("bytes=5-", (5, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=90-200", (90, 99)),
        ("bytes=100-", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=9-3", "unsatisfiable"),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected


# -- one duration reader, everywhere ------------------------------------------------------------

DURATION_KEYS = [
    ("upstream", "timeout"),
    ("cache", "index_ttl"),
    ("admin", "session_ttl"),
    ("policies", "release_age", "min_age"),
    ("policies", "typosquat", "corpus_refresh"),
]


def _nested(path: tuple[str, ...], value: object) -> dict:
    table: dict = {path[-1]: value}
    for part in reversed(path[:-1]):
        table = {part: table}
    return table


@pytest.mark.parametrize("path", DURATION_KEYS, ids=".".join)
@pytest.mark.parametrize("value", [7, 30.5, "30"])
def test_a_bare_number_is_refused_for_every_duration(path, value):
    with pytest.raises(SettingsError, match="write it with a unit"):
        load_settings(None, environ={}, overrides=_nested(path, value))


@pytest.mark.parametrize("path", DURATION_KEYS, ids=".".join)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("250ms", timedelta(milliseconds=250)),
        ("2d12h", timedelta(days=2, hours=12)),
        (0, timedelta(0)),
    ],
)
def test_every_duration_reads_the_same_spellings(path, value, expected):
    settings = load_settings(None, environ={}, overrides=_nested(path, value))
    if path[0] == "policies":
        from pipgate.proxy.config.settings import validate_policies

        table = validate_policies(settings, "default")
        assert getattr(getattr(table, path[1]), path[2]) == expected
    else:
        assert getattr(getattr(settings, path[0]), path[1]) == expected


# -- where a bad value came from ----------------------------------------------------------------


def test_an_environment_error_names_the_variable_not_defaults():
    with pytest.raises(SettingsError) as caught:
        load_settings(None, environ={"PIPGATE_UPSTREAM__TIMEOUT": "30"})
    message = str(caught.value)
    assert "environment variable PIPGATE_UPSTREAM__TIMEOUT" in message
    assert "upstream.timeout" in message and "defaults" not in message


def test_a_policy_error_from_the_environment_names_the_variable():
    with pytest.raises(SettingsError) as caught:
        load_settings(None, environ={"PIPGATE_POLICIES__RELEASE_AGE__MIN_AGE": "7"})
    assert "environment variable PIPGATE_POLICIES__RELEASE_AGE__MIN_AGE" in str(caught.value)
    assert "policies.release_age.min_age" in str(caught.value)


def test_a_flag_error_names_the_command_line(tmp_path):
    config = tmp_path / "ok.toml"
    config.write_text("[server]\nport = 9000\n")
    with pytest.raises(SettingsError, match=r"\(command line\): server.port"):
        load_settings(config, environ={}, overrides={"server": {"port": 70000}})


def test_an_index_policy_error_names_the_index_table(tmp_path):
    config = tmp_path / "idx.toml"
    config.write_text('[indexes.strict.policies.release_age]\nmin_age = "fortnight"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(config, environ={})
    assert "idx.toml" in str(caught.value)
    assert "indexes.strict.policies.release_age.min_age" in str(caught.value)


# -- lists and tables from the environment ------------------------------------------------------


def test_lists_are_settable_from_the_environment_as_json():
    settings = load_settings(
        None, environ={"PIPGATE_POLICIES__DEPENDENCY_CONFUSION__INTERNAL": '["corp-internal-*"]'}
    )
    from pipgate.proxy.config.settings import validate_policies

    assert validate_policies(settings, "default").dependency_confusion.internal == (
        "corp-internal-*",
    )


def test_a_list_written_without_json_gets_a_hint():
    with pytest.raises(SettingsError, match="write lists as JSON"):
        load_settings(None, environ={"PIPGATE_POLICIES__DEPENDENCY_CONFUSION__INTERNAL": "corp-*"})


def test_invalid_json_in_the_environment_names_the_variable():
    with pytest.raises(SettingsError, match="PIPGATE_POLICIES__TYPOSQUAT__EXEMPT.*must be JSON"):
        load_settings(None, environ={"PIPGATE_POLICIES__TYPOSQUAT__EXEMPT": '["a",'})
