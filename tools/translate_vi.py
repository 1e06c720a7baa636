"""Fill the Vietnamese catalog from tools/vi.json: ``python tools/translate_vi.py``.

The .po file stays the reviewed source of truth; this script only merges the table below
into it, so new strings are translated in one place and `make translations` compiles them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "marketplace/translations/vi/LC_MESSAGES/messages.po"
TABLE = ROOT / "tools/vi.json"


def main() -> int:
    table: dict[str, str] = json.loads(TABLE.read_text(encoding="utf-8"))
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    catalog.fuzzy = False  # the header: pybabel compile skips a fuzzy catalog
    catalog.project = "marketplace"
    catalog.copyright_holder = "Chợ Cà Mau contributors"
    missing = []
    for message in catalog:
        if not message.id:
            continue
        # A plural message is keyed by its singular: Vietnamese has one form for all counts.
        plural = isinstance(message.id, tuple | list)
        key = message.id[0] if plural else message.id
        if key in table:
            message.string = (table[key],) if plural else table[key]
            message.flags.discard("fuzzy")
        elif not any(message.string) if plural else not message.string:
            missing.append(key)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, no_location=True)
    for msgid in missing:
        print(f"untranslated: {msgid!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
