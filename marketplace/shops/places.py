"""Vietnam's administrative units for shop and delivery addresses.

Since 1 July 2025 Vietnam has two levels: 34 provinces (tỉnh / thành phố trực thuộc trung
ương) and 3,321 communes (xã, phường, đặc khu); districts (huyện, quận, thị xã) are gone.
The data come from the ``vietnam-provinces`` package (GSO codes; data version 2025-10-18 in
2025.10.1), read from its ``nested-divisions.json`` on first use and cached. The package
itself is never imported: its ``WardCode`` enum alone costs ~40 ms to import. Codes are the
package's (= GSO's) integer codes; e.g. Cà Mau is 96.

The package carries no pre-2025 data and no old → new mapping. :func:`map_legacy_address`
therefore relies on

* the province-level mergers of Resolution 202/2025/QH15 (63 → 34 provinces), encoded below
  in :data:`_MERGED_INTO` — complete and exact, because every old province went whole into
  exactly one new one;
* for the commune, the *name only*: an old ward/commune is mapped when exactly one unit of
  the new province has the same name. New units often keep the name of one of the units
  they absorbed, but the law does not guarantee that the same-named new unit is the
  successor, and most old communes (e.g. every numbered "Phường 1") have no same-named unit
  at all. Treat a commune match as a suggestion for the user to confirm.
"""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from marketplace.core.text import fold

__all__ = [
    "Commune",
    "Province",
    "commune",
    "commune_in_province",
    "communes",
    "default_province_code",
    "format_address",
    "map_legacy_address",
    "province",
    "provinces",
]

_CA_MAU = 96

# Resolution 202/2025/QH15 (12 June 2025, in force 1 July 2025): new province code → the
# pre-2025 provinces it consists of. 11 provinces were unchanged; 52 merged into 23.
_MERGED_INTO: dict[int, tuple[str, ...]] = {
    1: ("Hà Nội",),
    4: ("Cao Bằng",),
    8: ("Tuyên Quang", "Hà Giang"),
    11: ("Điện Biên",),
    12: ("Lai Châu",),
    14: ("Sơn La",),
    15: ("Lào Cai", "Yên Bái"),
    19: ("Thái Nguyên", "Bắc Kạn"),
    20: ("Lạng Sơn",),
    22: ("Quảng Ninh",),
    24: ("Bắc Ninh", "Bắc Giang"),
    25: ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình"),
    31: ("Hải Phòng", "Hải Dương"),
    33: ("Hưng Yên", "Thái Bình"),
    37: ("Ninh Bình", "Hà Nam", "Nam Định"),
    38: ("Thanh Hóa",),
    40: ("Nghệ An",),
    42: ("Hà Tĩnh",),
    44: ("Quảng Trị", "Quảng Bình"),
    46: ("Thừa Thiên Huế", "Huế"),
    48: ("Đà Nẵng", "Quảng Nam"),
    51: ("Quảng Ngãi", "Kon Tum"),
    52: ("Gia Lai", "Bình Định"),
    56: ("Khánh Hòa", "Ninh Thuận"),
    66: ("Đắk Lắk", "Phú Yên"),
    68: ("Lâm Đồng", "Đắk Nông", "Bình Thuận"),
    75: ("Đồng Nai", "Bình Phước"),
    79: ("Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"),
    80: ("Tây Ninh", "Long An"),
    82: ("Đồng Tháp", "Tiền Giang"),
    86: ("Vĩnh Long", "Bến Tre", "Trà Vinh"),
    91: ("An Giang", "Kiên Giang"),
    92: ("Cần Thơ", "Sóc Trăng", "Hậu Giang"),
    96: ("Cà Mau", "Bạc Liêu"),
}

# Common informal spellings (already folded, punctuation removed).
_PROVINCE_ALIASES: dict[str, int] = {
    "hcm": 79,
    "hcmc": 79,
    "tphcm": 79,
    "ho chi minh city": 79,
    "sai gon": 79,
    "saigon": 79,
    "brvt": 79,
    "kontum": 51,
    "ha noi city": 1,
}

# Leading words (folded) naming the unit's type; stripped before matching names.
_PROVINCE_PREFIXES = (("thanh", "pho"), ("thu", "do"), ("tinh",), ("tp",))
_COMMUNE_PREFIXES: dict[tuple[str, ...], str] = {
    ("thi", "tran"): "thi tran",
    ("dac", "khu"): "dac khu",
    ("phuong",): "phuong",
    ("xa",): "xa",
    ("tt",): "thi tran",
    ("p",): "phuong",
    ("x",): "xa",
}

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class Province:
    """A province or centrally-run city: ``name`` "Tỉnh Cà Mau", ``short_name`` "Cà Mau"."""

    code: int
    name: str
    short_name: str


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune-level unit (xã, phường or đặc khu), e.g. "Phường An Xuyên"."""

    code: int
    name: str
    province_code: int


class _Data(NamedTuple):
    provinces: tuple[Province, ...]
    province_by_code: dict[int, Province]
    communes: dict[int, tuple[Commune, ...]]
    commune_by_code: dict[int, Commune]


def _data_path() -> Path:
    # find_spec locates the package without executing its (slow) __init__.
    spec = importlib.util.find_spec("vietnam_provinces")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'vietnam-provinces' package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "nested-divisions.json"


def _sort_key(text: str) -> tuple[str, str]:
    return fold(text), text


@cache
def _data() -> _Data:
    raw = json.loads(_data_path().read_bytes())
    all_provinces: list[Province] = []
    communes_by_province: dict[int, tuple[Commune, ...]] = {}
    for item in raw:
        code = int(item["code"])
        short = unicodedata.normalize("NFC", item["name"])
        if item["division_type"] == "tỉnh":
            full = f"Tỉnh {short}"
        else:  # "thành phố trung ương": the package's name already reads "Thành phố …"
            full, short = short, short.removeprefix("Thành phố ")
        all_provinces.append(Province(code, full, short))
        units = (
            Commune(int(w["code"]), unicodedata.normalize("NFC", w["name"]), code)
            for w in item["wards"]
        )
        communes_by_province[code] = tuple(sorted(units, key=lambda c: _sort_key(c.name)))
    all_provinces.sort(key=lambda p: _sort_key(p.short_name))
    return _Data(
        provinces=tuple(all_provinces),
        province_by_code={p.code: p for p in all_provinces},
        communes=communes_by_province,
        commune_by_code={c.code: c for units in communes_by_province.values() for c in units},
    )


def provinces() -> list[Province]:
    """All 34 provinces, sorted for a dropdown by their folded short name."""
    return list(_data().provinces)


def province(code: int) -> Province | None:
    """The province with this code, or None."""
    return _data().province_by_code.get(code)


def communes(province_code: int) -> list[Commune]:
    """The province's communes, wards and special zones sorted by folded name ([] if unknown)."""
    return list(_data().communes.get(province_code, ()))


def commune(code: int) -> Commune | None:
    """The commune-level unit with this code, or None."""
    return _data().commune_by_code.get(code)


def commune_in_province(commune_code: int, province_code: int) -> bool:
    """True when the commune exists and belongs to the province."""
    unit = commune(commune_code)
    return unit is not None and unit.province_code == province_code


def default_province_code() -> int:
    """Cà Mau (96), the marketplace's home province."""
    return _CA_MAU


def format_address(street: str, commune_code: int, province_code: int) -> str:
    """ "123 Lý Thường Kiệt, Phường An Xuyên, Tỉnh Cà Mau"; raises ValueError on bad codes."""
    unit = commune(commune_code)
    prov = province(province_code)
    if unit is None or prov is None or unit.province_code != prov.code:
        raise ValueError(f"commune {commune_code} is not in province {province_code}")
    street = " ".join(unicodedata.normalize("NFC", street).split()).strip(" ,")
    return ", ".join(part for part in (street, unit.name, prov.name) if part)


# --- legacy (pre-July-2025) addresses -------------------------------------------------


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).lower().replace("ð", "đ")
    return _NON_WORD.sub(" ", text).split()


def _tone_key(word: str) -> str:
    """``word`` with its tone mark moved to the end, so "hoà" and "hòa" compare equal."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
    return "".join(ch for ch in decomposed if ch not in _TONE_MARKS) + tones


def _split_prefix(
    words: list[str], prefixes: dict[tuple[str, ...], str] | tuple[tuple[str, ...], ...]
) -> tuple[str | None, list[str]]:
    folded = [fold(w) for w in words]
    for prefix in prefixes:
        n = len(prefix)
        if len(words) > n and tuple(folded[:n]) == prefix:
            kind = prefixes[prefix] if isinstance(prefixes, dict) else " ".join(prefix)
            return kind, words[n:]
    return None, words


def _province_key(name: str) -> str:
    _, words = _split_prefix(_words(name), _PROVINCE_PREFIXES)
    return " ".join(fold(w) for w in words)


@cache
def _legacy_provinces() -> dict[str, int]:
    index = {_province_key(old): new for new, olds in _MERGED_INTO.items() for old in olds}
    index.update(_PROVINCE_ALIASES)
    return index


class _NameKey(NamedTuple):
    kind: str | None  # "phuong", "xa", "thi tran", "dac khu" or None when not given
    exact: str  # lower-cased, tone position normalised, diacritics kept
    folded: str  # no diacritics
    has_marks: bool


def _commune_key(name: str) -> _NameKey:
    kind, words = _split_prefix(_words(name), _COMMUNE_PREFIXES)
    folded = " ".join(fold(w) for w in words)
    exact = " ".join(_tone_key(w) for w in words)
    return _NameKey(kind, exact, folded, folded != " ".join(words))


@cache
def _commune_index(province_code: int) -> tuple[tuple[_NameKey, Commune], ...]:
    return tuple((_commune_key(c.name), c) for c in _data().communes.get(province_code, ()))


def _match_commune(province_code: int, ward_name: str) -> int | None:
    wanted = _commune_key(ward_name)
    if not wanted.folded or wanted.folded.isdigit():
        return None  # "Phường 1" existed in many districts: a bare number identifies nothing
    index = _commune_index(province_code)
    matches = [c for key, c in index if key.exact == wanted.exact]
    if not matches and not wanted.has_marks:
        # Typed without diacritics: compare folded. Given with diacritics, they must agree,
        # since folding merges distinct names (Tân Thành / Tân Thạnh, Sơn Hà / Sơn Hạ).
        matches = [c for key, c in index if key.folded == wanted.folded]
    if len(matches) > 1 and wanted.kind:
        kinds = {c.code: key.kind for key, c in index}
        matches = [c for c in matches if kinds[c.code] == wanted.kind]
    return matches[0].code if len(matches) == 1 else None


def map_legacy_address(
    province_name: str, district_name: str | None = None, ward_name: str | None = None
) -> tuple[int, int | None] | None:
    """Map a pre-2025 (province, district, ward) address to ``(province_code, commune_code)``.

    Names match case- and diacritic-insensitively, with or without "Tỉnh", "Thành phố",
    "TP." / "Phường", "Xã", "Thị trấn" prefixes. Current names work too.

    * Province: every one of the 63 old provinces (and a few informal spellings such as
      "TP.HCM") maps exactly to its new province per Resolution 202/2025/QH15, e.g.
      "Bạc Liêu" → Cà Mau (96), "Bình Dương" → Hồ Chí Minh City (79). Unknown → ``None``.
    * Commune: ``commune_code`` is set only when exactly one unit of the new province has
      the same name (tone placement "hoà"/"hòa" and a differing type, e.g. old "Thị trấn
      Gành Hào" → "Xã Gành Hào", are tolerated; the given type breaks ties). If the name
      has diacritics they must match, since folding merges distinct names. Otherwise it is
      ``None``: the package has no old → new commune table, so renamed or merged units
      (most of them) are not mapped. A same-name match is likely but not guaranteed to be
      the successor unit.
    * ``district_name`` is accepted for call-site clarity but unused: districts were
      abolished and no data ties an old district to the new communes.
    """
    del district_name  # see docstring
    new_province = _legacy_provinces().get(_province_key(province_name))
    if new_province is None:
        return None
    commune_code = _match_commune(new_province, ward_name) if ward_name else None
    return new_province, commune_code


def map_legacy_address_line(line: str) -> tuple[int, int | None] | None:
    """Map an old address written on one line, "ward, district, province" (street first is
    fine: "Số 5, Phường 7, TP Bạc Liêu, Bạc Liêu"), like ``map_legacy_address``."""
    parts = [part.strip() for part in line.split(",") if part.strip()]
    if not parts:
        return None
    province_name = parts[-1]
    ward_name = parts[-3] if len(parts) >= 3 else None
    district_name = parts[-2] if len(parts) >= 2 else None
    mapped = map_legacy_address(province_name, district_name, ward_name)
    if mapped is not None and mapped[1] is None and len(parts) >= 2:
        # "ward, province" without a district.
        mapped = map_legacy_address(province_name, None, parts[-2]) or mapped
    return mapped
