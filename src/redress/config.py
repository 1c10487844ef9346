"""Settings from the environment (`REDRESS_*`), one place for every deployment's knobs."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from redress.hashing.images import DEFAULT_MAX_PIXELS


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
    pin_max_failures: int = Field(default=10, ge=1)
    pin_lockout_seconds: int = Field(default=900, ge=1)
    client_pin_failures_per_hour: int = Field(default=30, ge=1)
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
    trust_forwarded_for: bool = Field(
        default=False, description="Take the client address from X-Forwarded-For (behind a proxy)."
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
        default=20, ge=1, le=240, description="How long a case sign-in on the portal lasts."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark portal cookies Secure (set it when served over HTTPS)."
    )


def get_settings() -> Settings:
    """Settings as the environment has them now."""
    return Settings()
