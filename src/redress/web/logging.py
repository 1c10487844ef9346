"""Structured JSON logs. Requests are logged by route template (``/v1/cases/{case_number}/...``),
never by raw path, so case numbers, PINs, keys, contact details and hashes stay out of logs."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

LOGGER = logging.getLogger("redress")


class _DropTerminalColours(logging.Filter):
    """uvicorn attaches an ANSI-coloured copy of its messages; JSON logs do not want it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the `redress` and `uvicorn` loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_DropTerminalColours())
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
