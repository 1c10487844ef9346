"""Settings from the environment (`REDRESS_*`), one place for every deployment's knobs."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from redress.hashing.files import HashOptions
from redress.hashing.images import DEFAULT_MAX_DECODE_MB, DEFAULT_MAX_PIXELS
from redress.hashing.video_limits import (
    DEFAULT_MAX_VIDEO_FRAMES,
    DEFAULT_MAX_VIDEO_SECONDS,
    DEFAULT_VIDEO_DEADLINE_SECONDS,
)


def _translatable(text: str) -> str:
    """Marks a string for the portal's catalogues (extracted by Babel; translated when shown)."""
    return text


DEFAULT_STATEMENT = _translatable(
    "The images I am submitting show me, and they were shared, or someone threatened to share "
    "them, without my consent. I am 18 or older, and I was 18 or older when they were taken."
)


class Settings(BaseSettings):
    """Redress settings; each field reads `REDRESS_<NAME>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="REDRESS_", extra="ignore")

    max_image_pixels: int = Field(
        default=DEFAULT_MAX_PIXELS,
        gt=0,
        description="Images (and video frames) with more pixels are refused before decoding.",
    )
    max_decode_mb: int = Field(
        default=DEFAULT_MAX_DECODE_MB,
        ge=64,
        description="Memory one file may take to decode, in MiB, computed from its header; "
        "files needing more are refused (too_large) before decoding.",
    )
    hash_memory_budget_mb: int = Field(
        default=2048,
        ge=64,
        description="`redress hash --jobs N`: memory the files being decoded at once may take "
        "together, in MiB (each worker process also has its own ~100 MB baseline).",
    )
    max_video_seconds: float = Field(
        default=DEFAULT_MAX_VIDEO_SECONDS,
        gt=0,
        description="Longer videos are refused (video_too_long): from the header, and while "
        "decoding for files whose header lies.",
    )
    max_video_frames: int = Field(
        default=DEFAULT_MAX_VIDEO_FRAMES, ge=1, description="Most frames hashed from one video."
    )
    video_deadline_seconds: float = Field(
        default=DEFAULT_VIDEO_DEADLINE_SECONDS,
        gt=0,
        description="Wall-clock seconds hashing one video may take (video_timeout past it).",
    )
    database_url: str = Field(
        default="sqlite:///./redress.db",
        description="SQLAlchemy URL: sqlite:///PATH (embedded) or postgresql+psycopg://...",
    )
    secret_key: str | None = Field(
        default=None,
        description="Base64 of 32 random bytes, for encrypting contact details and retry "
        "tokens at rest. Unset: a key file beside the SQLite database is created and used.",
    )
    statement_version: str = Field(default="2026-11-1", min_length=1, max_length=64)
    statement_text: str = Field(default=DEFAULT_STATEMENT, min_length=10)
    dispute_threshold: int = Field(
        default=2, ge=1, description="Platforms saying NotBlocked (and none Blocked) to quarantine."
    )
    pin_free_tries: int = Field(
        default=5, ge=1, description="Wrong PINs on one case from one address before waits."
    )
    pin_backoff_base_seconds: int = Field(
        default=30, ge=1, description="The first wait; each further wrong PIN doubles it."
    )
    pin_backoff_max_seconds: int = Field(
        default=900, ge=1, description="The longest wait for one case from one address."
    )
    pin_case_free_tries: int = Field(
        default=10, ge=1, description="Wrong PINs on one case from all addresses before waits."
    )
    pin_case_max_wait_seconds: int = Field(
        default=300, ge=1, description="The longest wait for one case from all addresses."
    )
    pin_known_address_days: float = Field(
        default=90, ge=0, description="How long an address that opened a case stays known to it."
    )
    client_pin_failures_per_hour: int = Field(
        default=30, ge=1, description="Wrong PINs per address on case numbers new to it."
    )
    rate_limit_storage: str | None = Field(
        default=None,
        pattern=r"^(rediss?|redis\+unix)://",
        description="redis://host:port/db to keep rate limits and PIN counts in Redis; unset: "
        "in the database (shared by every worker either way).",
    )
    case_creation_rate: str = Field(default="20/hour", description="Per client address.")
    status_rate: str = Field(default="120/hour", description="Per client address.")
    max_request_bytes: int = Field(default=2_000_000, ge=1024)
    max_items_per_request: int = Field(default=200, ge=1)
    max_items_per_case: int = Field(
        default=1000,
        ge=1,
        description="Items one case may hold in all (creation and every addition, withdrawn "
        "items included); a survivor with more starts a second case.",
    )
    # The portal sends at most 14 signals per picture (the original PDQ and its 13 bank variants,
    # docs/variants.md) and 3 per video (vPDQ, MD5, SHA-256); `redress hash --variants
    # --dihedral` gives 21 per picture. 32 leaves room for a revised variant specification and
    # refuses requests padded with unrelated hashes (the 64-per-item flood).
    max_signals_per_item: int = Field(
        default=32, ge=1, le=256, description="Signals (hashes) one item may carry."
    )
    database_lock_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="How long a request waits for a database lock before it is answered 503 "
        "busy (SQLite busy timeout; PostgreSQL lock_timeout).",
    )
    flood_signals_per_request: int = Field(
        default=3000,
        ge=0,
        description="A request adding more signals than this is held for staff review (0: off).",
    )
    flood_cases_per_source: int = Field(
        default=10,
        ge=0,
        description="Cases from one client address within the source window beyond this many "
        "are held for staff review (0: off).",
    )
    flood_source_window_hours: int = Field(default=24, ge=1, le=24 * 14)
    flood_cases_per_hour: int = Field(
        default=60,
        ge=0,
        description="Hub-wide cases per hour beyond this many are held (0: off).",
    )
    flood_signals_per_hour: int = Field(
        default=20_000,
        ge=0,
        description="Hub-wide signals per hour beyond this many are held (0: off).",
    )
    feed_page_max: int = Field(default=10_000, ge=1)
    trusted_proxies: int = Field(
        default=0,
        ge=0,
        le=20,
        description="How many reverse proxies stand in front of the hub; the client address is "
        "that many entries from the right of X-Forwarded-For (0: the connection's address).",
    )
    trust_forwarded_for: bool = Field(
        default=False, description="Deprecated: the same as trusted_proxies=1."
    )
    log_level: str = Field(default="INFO")
    portal_name: str = Field(
        default="Redress", min_length=1, max_length=60, description="Shown in the portal."
    )
    quick_exit_url: str = Field(
        default="https://www.bbc.co.uk/weather",
        pattern=r"^https?://",
        description="The neutral page the portal's quick-exit button (and Esc) goes to.",
    )
    helplines_file: str | None = Field(
        default=None,
        description="A TOML file of helplines for the portal's support page (format in "
        "docs/helplines.md); unset: the built-in list.",
    )
    portal_session_minutes: int = Field(
        default=20,
        ge=1,
        le=240,
        description="The longest a case sign-in on the portal lasts, however active it is.",
    )
    portal_idle_minutes: int = Field(
        default=10,
        ge=1,
        le=240,
        description="A case sign-in ends after this long without a request (at most "
        "portal_session_minutes).",
    )
    https: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Secure cookies and HSTS. auto: on for HTTPS requests and whenever the hub "
        "is not served on a loopback address; on: always; off: never (development only).",
    )
    secure_cookies: bool = Field(
        default=False, description="Older name: true is the same as REDRESS_HTTPS=on."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for /metrics; unset: /metrics answers 404 (unless "
        "metrics_public).",
    )
    metrics_public: bool = Field(
        default=False, description="Serve /metrics to anyone, without a token (not advised)."
    )

    @property
    def https_mode(self) -> Literal["auto", "on", "off"]:
        """The HTTPS setting in effect (`secure_cookies=true` forces it on)."""
        return "on" if self.secure_cookies else self.https


def with_limits(options: HashOptions, settings: Settings) -> HashOptions:
    """`options` with the limits these settings fix: pixels, decode memory, video bounds."""
    return replace(
        options,
        max_pixels=settings.max_image_pixels,
        max_decode_mb=settings.max_decode_mb,
        max_video_seconds=settings.max_video_seconds,
        max_video_frames=settings.max_video_frames,
        video_deadline_seconds=settings.video_deadline_seconds,
    )


def proxy_hops(settings: Settings) -> int:
    """The number of trusted proxies (the deprecated `trust_forwarded_for` counts as one)."""
    return max(settings.trusted_proxies, 1 if settings.trust_forwarded_for else 0)


def get_settings() -> Settings:
    """Settings as the environment has them now."""
    return Settings()
