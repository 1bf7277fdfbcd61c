"""Logging set-up that keeps tokens and secrets out of every log line, whoever logs it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

REPLACEMENT = "[REDACTED]"
_SECRETS: set[str] = set()
_ORIGINAL_FACTORY = logging.getLogRecordFactory()


def _redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, REPLACEMENT)
    return text


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Build the record, then replace any known secret in its final message and traceback."""
    record = _ORIGINAL_FACTORY(*args, **kwargs)
    if not _SECRETS:
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string is the caller's bug, not ours
        return record
    cleaned = _redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = _redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    return record


def protect(*secrets: str | None) -> None:
    """Never let these strings reach a log record (bot tokens, webhook secrets)."""
    _SECRETS.update(s for s in secrets if s and len(s) >= 4)
    if logging.getLogRecordFactory() is not _factory:
        logging.setLogRecordFactory(_factory)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level` with every secret redacted; quiet URL-logging clients."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect(*secrets)
    # httpx logs every request URL at INFO, and the Bot API token is part of that URL.
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
