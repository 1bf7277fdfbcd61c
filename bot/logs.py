"""The one place that keeps tokens and secrets out of every log line, whoever logs it.

`protect()` registers a secret and installs a log-record factory: every record made after that
has each registered secret (raw or URL-encoded, as it appears in a request URL) replaced in
its final message and in its traceback. It covers every logger, ours and the libraries'
(httpx logs request URLs; python-telegram-bot logs request parameters at DEBUG; aiohttp's
errors may quote a URL with the Telegram token in it). `redact()` cleans any other text, such
as an exception's description, with the same list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

REPLACEMENT = "***"
_FORMS: list[str] = []  # every registered secret in every spelling, longest first
_ORIGINAL_FACTORY = logging.getLogRecordFactory()


def redact(text: str) -> str:
    """Replace every registered secret, raw or URL-encoded, with ***."""
    for form in _FORMS:
        if form in text:
            text = text.replace(form, REPLACEMENT)
    return text


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Build the record, then replace any known secret in its final message and traceback."""
    record = _ORIGINAL_FACTORY(*args, **kwargs)
    if not _FORMS:
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string is the caller's bug, not ours
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    return record


def protect(*secrets: str | None) -> None:
    """Never let these strings reach a log record (bot tokens, webhook secrets)."""
    forms = set(_FORMS)
    for secret in secrets:
        if secret and len(secret) >= 4:
            forms.update({secret, quote(secret, safe=":"), quote(secret, safe="")})
    _FORMS[:] = sorted(forms, key=len, reverse=True)
    if logging.getLogRecordFactory() is not _factory:
        logging.setLogRecordFactory(_factory)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level` with every secret redacted; quiet URL-logging clients."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect(*secrets)
    # httpx logs every request URL at INFO; the Zalo client keeps its token out of that URL,
    # but the lines are noise at INFO.
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
