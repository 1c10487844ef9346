"""Structured JSON logs. Requests are logged by route template (``/v1/cases/{case_number}/...``),
never by raw path, so case numbers, PINs, keys, contact details and hashes stay out of logs."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

LOGGER = logging.getLogger("redress")


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the `redress` and `uvicorn` loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=True)
    )
    for name in ("redress", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # uvicorn's access log prints raw paths (with case numbers): keep it off.
    logging.getLogger("uvicorn.access").disabled = True
