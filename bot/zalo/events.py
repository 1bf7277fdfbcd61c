"""Inbound Zalo events: the documented shapes, checked, and normalised for the adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
EVENT_VOICE: Final = "message.voice.received"
EVENT_UNSUPPORTED: Final = "message.unsupported.received"
KNOWN_EVENTS: Final = frozenset(
    {EVENT_TEXT, EVENT_IMAGE, EVENT_STICKER, EVENT_VOICE, EVENT_UNSUPPORTED}
)


@dataclass(frozen=True)
class ZaloEvent:
    """One inbound Zalo event, normalised: ids as strings, date as aware UTC."""

    event_name: str
    message_id: str
    chat_id: str
    chat_type: str
    sender_id: str
    sender_name: str
    text: str | None
    photo_url: str | None
    caption: str | None
    date: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def is_known(self) -> bool:
        """Tell whether this event name is one the reference documents."""
        return self.event_name in KNOWN_EVENTS


class MalformedEvent(ValueError):
    """An inbound body that does not have the documented event shape."""


def parse_event(obj: Any) -> ZaloEvent | None:
    """Turn an envelope or a bare event into a ZaloEvent; None when it carries nothing new.

    Documented event names are validated strictly (message id, chat id and sender id are
    required). An unknown event name is accepted with whatever fields it has, so that a
    future Zalo event is ignored by the caller instead of being rejected and redelivered.
    """
    if not isinstance(obj, Mapping):
        raise MalformedEvent(f"event must be a JSON object, not {json_kind(obj)}")
    if "ok" in obj or "result" in obj:
        if obj.get("ok") is False:
            raise MalformedEvent("envelope has ok: false")
        result = obj.get("result")
        if is_empty(result):
            return None
        if not isinstance(result, Mapping):
            raise MalformedEvent(f"result must be a JSON object, not {json_kind(result)}")
        event = result
    else:
        event = obj
    name = event.get("event_name")
    if not isinstance(name, str) or not name.strip():
        raise MalformedEvent("event_name is missing or not a string")
    name = name.strip()
    strict = name in KNOWN_EVENTS
    message = event.get("message")
    if not isinstance(message, Mapping):
        if strict:
            raise MalformedEvent(f"{name}: message is missing or not an object")
        message = {}
    chat = _sub_object(message, "chat", strict, name)
    sender = _sub_object(message, "from", strict, name)
    return ZaloEvent(
        event_name=name,
        message_id=_id(message, "message_id", "message.message_id", strict, name),
        chat_id=_id(chat, "id", "message.chat.id", strict, name),
        chat_type=_upper(chat.get("chat_type")),
        sender_id=_id(sender, "id", "message.from.id", strict, name),
        sender_name=_first_str(sender, "display_name", "name") or "",
        text=_optional_str(message, "text", strict, name),
        photo_url=_first_str(message, "photo", "photo_url"),
        caption=_optional_str(message, "caption", strict, name),
        date=_date_from_ms(message.get("date")),
        raw=event,
    )


def json_kind(value: Any) -> str:
    """Name a JSON value's type for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def is_empty(value: Any) -> bool:
    """Tell whether a result means "nothing new"."""
    return value is None or (isinstance(value, Mapping | list | str) and len(value) == 0)


def _sub_object(message: Mapping[str, Any], key: str, strict: bool, name: str) -> Mapping[str, Any]:
    """Return message[key] as an object, or {} for an unknown event that lacks it."""
    value = message.get(key)
    if isinstance(value, Mapping):
        return value
    if strict:
        raise MalformedEvent(f"{name}: message.{key} is missing or not an object")
    return {}


def _id(obj: Mapping[str, Any], key: str, label: str, strict: bool, name: str) -> str:
    """Read an id given as a string or an integer and return it as a string."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if strict:
        raise MalformedEvent(f"{name}: {label} is missing or not a string/integer")
    return ""


def _optional_str(obj: Mapping[str, Any], key: str, strict: bool, name: str) -> str | None:
    """Read an optional string field; a wrong type is malformed for a known event."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    if strict:
        raise MalformedEvent(f"{name}: message.{key} must be a string")
    return None


def _first_str(obj: Mapping[str, Any], *keys: str) -> str | None:
    """Return the first non-empty string among alternative field names."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _upper(value: Any) -> str:
    """Normalise chat_type; "" when absent or not a string."""
    return value.strip().upper() if isinstance(value, str) else ""


def _date_from_ms(value: Any) -> datetime | None:
    """Convert a millisecond timestamp to aware UTC; None when absent or unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
