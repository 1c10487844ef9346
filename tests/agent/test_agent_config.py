"""The hubs file (`redress agent --config`): read through one Pydantic model; every wrong or
unknown setting is named, nothing is silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from redress.agent.config import ConfigError, HubConfig, hubs_from_file, make_hub

GOOD = 'name = "national"\nurl = "https://hub.example.org/"\nkey = "rk_abc"\n'


def _file(tmp_path: Path, *tables: str) -> Path:
    path = tmp_path / "hubs.toml"
    path.write_text("".join(f"[[hub]]\n{table}\n" for table in tables), encoding="utf-8")
    return path


def test_a_good_table_gives_its_defaults_and_drops_the_trailing_slash(tmp_path: Path) -> None:
    (hub,) = hubs_from_file(_file(tmp_path, GOOD))
    assert hub == HubConfig("national", "https://hub.example.org", "rk_abc", "review", 31, True)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("pdq_treshold = 20\n", "unknown setting 'pdq_treshold'"),
        ("pdq_threshold = 65\n", "pdq_threshold must be a whole number 0-64"),
        ("pdq_threshold = true\n", "pdq_threshold must be a whole number 0-64"),
        ('pdq_threshold = "20"\n', "pdq_threshold must be a whole number 0-64"),
        ('action = "delete"\n', "action must be one of allow, review, block"),
        ('enabled = "no"\n', "enabled must be true or false"),
    ],
)
def test_a_wrong_or_unknown_setting_is_named(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        hubs_from_file(_file(tmp_path, GOOD + extra))
    assert str(caught.value).startswith(f"{tmp_path / 'hubs.toml'}: hub 1: ")


def test_every_wrong_field_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        make_hub("--hub-url/--hub-key", name="a b", url="ftp://x", key="nope")
    assert str(caught.value) == (
        "--hub-url/--hub-key: name must be letters, digits, - or _; url must start with "
        "http:// or https://; key must be the hub API key (rk_...)"
    )


def test_a_missing_key_is_asked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="key must be the hub API key"):
        hubs_from_file(_file(tmp_path, 'name = "n"\nurl = "https://h"\n'))


def test_the_second_table_is_named_when_it_is_the_wrong_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="hub 2: url must start with"):
        hubs_from_file(_file(tmp_path, GOOD, 'name = "b"\nurl = "hub"\nkey = "rk_x"\n'))
