"""Agent settings (`REDRESS_AGENT_*`) and the hubs it follows (flags or a TOML file)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Action = Literal["allow", "review", "block"]
ACTIONS = ("allow", "review", "block")


class AgentSettings(BaseSettings):
    """Each field reads `REDRESS_AGENT_<NAME>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="REDRESS_AGENT_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./redress-agent.db",
        description="Review queue, feedback outbox, negative bank, sync state, events; "
        "create or migrate it with `redress agent db upgrade`.",
    )
    state_dir: str = Field(default="./redress-agent-state", description="Bank snapshots, media.")
    config_file: str | None = Field(default=None, description="TOML file listing the hubs.")
    token: str | None = Field(
        default=None,
        description="Bearer token the platform's services and moderators use; unset: one is "
        "generated into STATE_DIR/agent-token on first start.",
    )
    poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Pause after a failed or empty long poll."
    )
    long_poll_seconds: float = Field(
        default=5.0, ge=0, le=30, description="How long the hub may hold a caught-up request."
    )
    snapshot_seconds: float = Field(default=60.0, gt=0)
    media_retention_hours: float = Field(default=168.0, gt=0)
    max_upload_bytes: int = Field(default=200 * 2**20, ge=1024)
    max_batch: int = Field(default=1000, ge=1)
    rate_limit_storage: str | None = Field(
        default=None,
        description="redis://host:port/db to count the moderator sign-in limit in Redis; "
        "unset: in the agent's database.",
    )
    log_level: str = Field(default="INFO", description="JSON log lines on stderr at this level.")
    feed_limit: int = Field(
        default=1_000_000, ge=1, description="Feed entries asked for per request to a hub."
    )
    quarantine_distinct: int = Field(
        default=100,
        ge=0,
        description="A bank signal that matches more distinct uploads than this within the "
        "window is quarantined (no longer blocks or holds for review) and reported to its hub; "
        "0 turns the safeguard off.",
    )
    quarantine_window_seconds: float = Field(
        default=3600.0,
        gt=0,
        le=30 * 86400,
        description="The sliding window the distinct uploads are counted in.",
    )
    quarantine_flush_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How often the counts are saved to the database (a crash loses at most "
        "this much counting).",
    )
    https: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Secure cookie and HSTS for the review page. auto: on for HTTPS requests "
        "and whenever the agent is not served on a loopback address; on; off.",
    )
    memory_budget_mb: int = Field(
        default=2048,
        ge=64,
        description="Memory, in MiB, that uploads being hashed and large JSON checks may take "
        "together; each reserves its estimate first (one upload at most REDRESS_MAX_DECODE_MB).",
    )
    budget_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="How long a request waits for memory before a 503 with Retry-After.",
    )
    max_json_bytes: int = Field(
        default=8 * 2**20, ge=1024, description="Largest JSON body of /v1/check and its batch."
    )
    max_vpdq_signals: int = Field(
        default=4, ge=1, description="vPDQ signals in one JSON check (one video needs one)."
    )
    max_vpdq_frames: int = Field(
        default=10_800,
        ge=1,
        description="Frames in one vPDQ signal of a JSON check (3 hours at one a second).",
    )


@dataclass(frozen=True, slots=True)
class HubConfig:
    """One hub the agent follows, and what to do with its matches."""

    name: str
    url: str
    key: str
    action: Action = "review"
    pdq_threshold: int = 31
    enabled: bool = True


class ConfigError(ValueError):
    """The hubs configuration is unusable; the message says what to fix."""


class _HubEntry(BaseModel):
    """One `[[hub]]` table (or the command line's hub) as read, before it becomes a HubConfig."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    url: str
    key: str
    key_env: str | None = None  # read by `hubs_from_file` before validation
    action: Action = "review"
    pdq_threshold: int = Field(default=31, ge=0, le=64)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.replace("-", "").replace("_", "").isalnum():
            raise ValueError("bad name")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("bad url")
        return value.rstrip("/")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not value.startswith("rk_"):
            raise ValueError("bad key")
        return value


#: What to tell the operator about each field that is missing or wrong.
_FIX = {
    "name": "name must be letters, digits, - or _",
    "url": "url must start with http:// or https://",
    "key": "key must be the hub API key (rk_...)",
    "key_env": "key_env must name an environment variable",
    "action": f"action must be one of {', '.join(ACTIONS)}",
    "pdq_threshold": "pdq_threshold must be a whole number 0-64",
    "enabled": "enabled must be true or false",
}


def make_hub(where: str, **fields: object) -> HubConfig:
    """A checked `HubConfig`; the error names every field that is wrong and any setting that is
    not known (a misspelt one is never silently ignored), after `where`."""
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        entry = _HubEntry.model_validate(given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            if error["type"] == "extra_forbidden":
                known = ", ".join(name for name in _FIX if name != "key_env")
                problems.append(f"unknown setting {field!r} (known: {known}, key_env)")
            elif field in _FIX and _FIX[field] not in problems:
                problems.append(_FIX[field])
        raise ConfigError(f"{where}: {'; '.join(problems)}") from None
    return HubConfig(
        entry.name, entry.url, entry.key, entry.action, entry.pdq_threshold, entry.enabled
    )


def hubs_from_file(path: Path) -> list[HubConfig]:
    """`[[hub]]` tables: name, url, key (or key_env naming a variable), action, pdq_threshold,
    enabled."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    hubs = []
    for number, raw in enumerate(data.get("hub", []), start=1):
        where = f"{path}: hub {number}"
        if not isinstance(raw, dict):  # TOML itself: `hub = 3` instead of a [[hub]] table
            raise ConfigError(f"{where}: expected a [[hub]] table")
        fields = dict(raw)
        key_env = fields.get("key_env")
        if fields.get("key") is None and isinstance(key_env, str):
            fields["key"] = os.environ.get(key_env)
            if fields["key"] is None:
                raise ConfigError(f"{where}: environment variable {key_env} is not set")
        hubs.append(make_hub(where, **fields))
    if not hubs:
        raise ConfigError(f"{path}: no [[hub]] tables; add one with name, url and key")
    names = [hub.name for hub in hubs]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: hub names must be unique")
    return hubs
