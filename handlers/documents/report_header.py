"""Who issues a periodic report and how its page is headed, from the programme file or the
agency's own name.

The programme file may set it per agency (`report = { layout = "party", … }`); what it leaves
out is derived as offices write it: a Sở is a state body under its locality's People's
Committee ("UBND TỈNH HƯNG YÊN / SỞ KẾ HOẠCH VÀ ĐẦU TƯ", Số: …/BC-SKHĐT, signed "KT. GIÁM ĐỐC /
PHÓ GIÁM ĐỐC"); a Văn phòng Thành ủy / Tỉnh ủy is a Party body ("THÀNH ỦY HÀ NỘI / VĂN PHÒNG",
Số …-BC/VPTU, signed "T/L BAN THƯỜNG VỤ / CHÁNH VĂN PHÒNG").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from handlers.documents.docx_layout import Issuer

_PARTY = re.compile(r"^Văn phòng (Thành ủy|Tỉnh ủy)\s+(?P<place>.+)$", re.IGNORECASE)
_LOCALITY_KIND = re.compile(r"^(Thành phố|Tỉnh)\s+", re.IGNORECASE)
_SMALL_WORDS = frozenset({"và", "-", "–"})


def place_of(locality_name: str) -> str:
    """ "Thành phố Hà Nội" → "Hà Nội": where a document of the locality is signed."""
    return _LOCALITY_KIND.sub("", locality_name).strip()


def issuer_for(
    agency_name: str, locality_name: str, given: Mapping[str, Any] | None = None
) -> Issuer:
    """The issuer of an office's reports: the programme file's keys over derived defaults."""
    given = dict(given or {})
    place = place_of(locality_name)
    party = _PARTY.match(agency_name)
    if given.get("layout", "party" if party else "state") == "party":
        body = party.group(1) if party else "Tỉnh ủy"
        default = Issuer(
            "party",
            f"{body} {place}",
            "Văn phòng",
            "VPTU",
            place,
            "T/L Ban Thường vụ",
            "Chánh Văn phòng",
        )
    else:
        short = _without_place(agency_name, place)
        default = Issuer(
            "state",
            f"UBND {locality_name[:1].lower()}{locality_name[1:]}",
            short,
            _abbreviation(short),
            place,
            "KT. Giám đốc" if short.startswith("Sở ") else "KT. Chủ tịch",
            "Phó Giám đốc" if short.startswith("Sở ") else "Phó Chủ tịch",
        )
    return Issuer(
        layout=given.get("layout", default.layout),
        superior=given.get("superior", default.superior),
        name=given.get("issuer", default.name),
        abbreviation=given.get("abbreviation", default.abbreviation),
        place=given.get("place", default.place),
        signer_authority=given.get("signer_authority", default.signer_authority),
        signer_title=given.get("signer_title", default.signer_title),
        signer_name=given.get("signer_name", ""),
    )


def _without_place(name: str, place: str) -> str:
    """ "Sở Kế hoạch và Đầu tư Hà Nội" → "Sở Kế hoạch và Đầu tư"."""
    return name[: -len(place)].rstrip(" ,–-") if place and name.endswith(place) else name


def _abbreviation(name: str) -> str:
    """ "Sở Kế hoạch và Đầu tư" → "SKHĐT", as offices number their documents."""
    letters = []
    for word in name.split():
        if word.lower() in _SMALL_WORDS:
            continue
        first = unicodedata.normalize("NFC", word)[:1]
        letters.append(first.upper() if first != "đ" else "Đ")
    return "".join(letters)
