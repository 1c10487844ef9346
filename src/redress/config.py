"""Settings from the environment (`REDRESS_*`), one place for every deployment's knobs."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from redress.hashing.images import DEFAULT_MAX_PIXELS


class Settings(BaseSettings):
    """Redress settings; each field reads `REDRESS_<NAME>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="REDRESS_", extra="ignore")

    max_image_pixels: int = Field(
        default=DEFAULT_MAX_PIXELS,
        gt=0,
        description="Images (and video frames) with more pixels are refused before decoding.",
    )


def get_settings() -> Settings:
    """Settings as the environment has them now."""
    return Settings()
