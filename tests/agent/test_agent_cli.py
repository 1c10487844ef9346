"""`redress agent` refuses unusable configuration with a one-line reason, not a traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from redress.cli.main import app

runner = CliRunner()


def test_agent_needs_a_hub():
    result = runner.invoke(app, ["agent"])
    assert result.exit_code == 2
    assert "give --hub-url with the key in REDRESS_AGENT_HUB_KEY (or --hub-key)" in result.output


def test_agent_explains_a_bad_flag_value():
    result = runner.invoke(app, ["agent", "--hub-url", "ftp://x", "--hub-key", "rk_a_b"])
    assert result.exit_code == 2 and "url must start with http:// or https://" in result.output
    result = runner.invoke(app, ["agent", "--hub-url", "http://x", "--hub-key", "secret"])
    assert result.exit_code == 2 and "key must be the hub API key" in result.output
    result = runner.invoke(
        app, ["agent", "--hub-url", "http://x", "--hub-key", "rk_a_b", "--action", "delete"]
    )
    assert result.exit_code == 2 and "action must be one of allow, review, block" in result.output


def test_agent_explains_a_bad_config_file(tmp_path):
    config = tmp_path / "hubs.toml"
    config.write_text('[[hub]]\nname = "a b"\nurl = "http://x"\nkey = "rk_a_b"\n')
    result = runner.invoke(app, ["agent", "--config", str(config)])
    assert result.exit_code == 2 and "hub 1: name must be letters, digits, - or _" in result.output
    config.write_text("[[hub]\nbroken")
    result = runner.invoke(app, ["agent", "--config", str(config)])
    assert result.exit_code == 2 and str(config) in result.output
    assert "Traceback" not in result.output
    config.write_text("# nothing here\n")
    result = runner.invoke(app, ["agent", "--config", str(config)])
    assert "no [[hub]] tables" in result.output
