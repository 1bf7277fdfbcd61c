"""Logging set-up that keeps tokens and secrets out of every log line."""

from __future__ import annotations

import logging
from collections.abc import Iterable

_REPLACEMENT = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Replace each known secret in a record's final message with a marker."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, _REPLACEMENT)
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                text = text.replace(secret, _REPLACEMENT)
            record.exc_text = text
            record.exc_info = None
            cleaned = cleaned if cleaned != message else message
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`; redact secrets on every handler, quiet URL-logging clients."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    # httpx logs every request URL at INFO, and the Bot API token is part of that URL.
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
