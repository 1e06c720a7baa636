"""VietQR: the NAPAS 247 QR code a Vietnamese banking app scans to pay by bank transfer.

The payload is an EMVCo merchant-presented QR code: a string of TLV fields (two-digit tag,
two-digit length, value) ending with a CRC. ``vietqr_payload`` builds the one for a transfer
to an account (service code ``QRIBFTTA``); ``qr_svg`` draws it for a page.

    payload = vietqr_payload("970436", "1234567890", 150_000, transfer_note("Đơn hàng 42"))
    svg = qr_svg(payload)  # in a template: {{ svg|safe }}

Every bank app reads the amount and the note (tag 62, subfield 08, "purpose of
transaction") from the code; the note is what the seller finds on the statement, so it
should carry the order's reference. Banks strip diacritics and many refuse punctuation, so
notes are kept to ASCII letters, digits and spaces (``transfer_note`` folds Vietnamese text).
"""

from __future__ import annotations

import binascii
import io
import re
import unicodedata
from typing import Final

import segno

# NAPAS's globally unique identifier for VietQR, inside the merchant account information.
NAPAS_GUID: Final = "A000000727"
# Inter-bank fund transfer to an account (QRIBFTTC would be to a card number).
SERVICE_TRANSFER_TO_ACCOUNT: Final = "QRIBFTTA"
CURRENCY_VND: Final = "704"  # ISO 4217 numeric
COUNTRY: Final = "VN"

MAX_AMOUNT_VND: Final = 99_999_999_999
MAX_NOTE_LENGTH: Final = 25  # tag 62-08 is "ans, up to 25"

# NAPAS BINs (acquirer IDs) of the common banks, with the names their customers know them
# by. Not every BIN starts with 9704: CAKE and Timo have their own.
BANKS: Final[dict[str, str]] = {
    "970436": "Vietcombank",
    "970415": "VietinBank",
    "970418": "BIDV",
    "970405": "Agribank",
    "970422": "MB Bank",
    "970407": "Techcombank",
    "970416": "ACB",
    "970432": "VPBank",
    "970403": "Sacombank",
    "970423": "TPBank",
    "970441": "VIB",
    "970443": "SHB",
    "970437": "HDBank",
    "970448": "OCB",
    "970426": "MSB",
    "970440": "SeABank",
    "970449": "LPBank",
    "970428": "Nam A Bank",
    "970409": "Bac A Bank",
    "970433": "Vietbank",
    "970452": "Kienlongbank",
    "970412": "PVcomBank",
    "970431": "Eximbank",
    "970429": "SCB",
    "970425": "ABBANK",
    "970438": "BaoViet Bank",
    "970454": "BVBank (Viet Capital Bank)",
    "970419": "NCB",
    "970400": "Saigonbank",
    "546034": "CAKE by VPBank",
    "963388": "Timo",
}

_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[A-Za-z0-9]{1,19}")
_NOTE = re.compile(rf"[A-Za-z0-9 ]{{0,{MAX_NOTE_LENGTH}}}")
_NOT_NOTE = re.compile(r"[^A-Z0-9]+")


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) of ``data``, as EMVCo uses
    it: four uppercase hex digits."""
    return format(binascii.crc_hqx(data.encode("ascii"), 0xFFFF), "04X")


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"VietQR field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def transfer_note(text: str) -> str:
    """Fold ``text`` into a note every bank keeps: Vietnamese letters lose their marks
    (đ becomes D), everything is upper case, any run of other characters becomes one
    space, and the result is cut to 25 characters.

    >>> transfer_note("Đơn hàng #A-42, Bánh pía Sóc Trăng")
    'DON HANG A 42 BANH PIA SO'
    """
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    note = _NOT_NOTE.sub(" ", bare.upper()).strip()
    return note[:MAX_NOTE_LENGTH].rstrip()


def vietqr_payload(bank_bin: str, account: str, amount_vnd: int | None, note: str) -> str:
    """The VietQR payload for a transfer of ``amount_vnd`` đồng to ``account`` at the bank
    whose NAPAS BIN is ``bank_bin``, with ``note`` as the transfer's content.

    With an amount the code is dynamic (point of initiation 12) and the payer's app fills
    the amount in; with ``None`` it is static (11) and the payer types it. An empty note
    leaves the additional data field out. Raises ``ValueError`` on a malformed argument.
    """
    if not isinstance(bank_bin, str) or not _BIN.fullmatch(bank_bin):
        raise ValueError(f"bank BIN must be 6 digits, not {bank_bin!r}")
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        raise ValueError(f"account must be 1 to 19 letters or digits, not {account!r}")
    if amount_vnd is not None:
        if not isinstance(amount_vnd, int) or isinstance(amount_vnd, bool):
            raise ValueError(f"amount must be a whole number of đồng, not {amount_vnd!r}")
        if not 1 <= amount_vnd <= MAX_AMOUNT_VND:
            raise ValueError(f"amount must be from 1 to {MAX_AMOUNT_VND:_} đồng")
    if not isinstance(note, str) or not _NOTE.fullmatch(note):
        raise ValueError(
            f"note must be at most {MAX_NOTE_LENGTH} ASCII letters, digits and spaces "
            f"(see transfer_note), not {note!r}"
        )

    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant_account = (
        _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TRANSFER_TO_ACCOUNT)
    )
    fields = [
        _tlv("00", "01"),  # payload format indicator
        _tlv("01", "11" if amount_vnd is None else "12"),  # point of initiation
        _tlv("38", merchant_account),
        _tlv("53", CURRENCY_VND),
    ]
    if amount_vnd is not None:
        fields.append(_tlv("54", str(amount_vnd)))
    fields.append(_tlv("58", COUNTRY))
    if note:
        fields.append(_tlv("62", _tlv("08", note)))
    # The CRC covers everything before it, its own tag and length included.
    data = "".join(fields) + "6304"
    return data + crc16(data)


def qr_svg(payload: str, *, scale: int = 6, border: int = 4, title: str | None = None) -> str:
    """The QR code of ``payload`` as ``<svg>`` markup to put in a page (no XML declaration):
    error correction M, a quiet zone of ``border`` modules, ``scale`` pixels a module, with
    a ``viewBox`` so CSS can resize it. In a Jinja template: ``{{ svg|safe }}``."""
    code = segno.make(payload, error="m", boost_error=False, micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=scale,
        border=border,
        unit="px",
        xmldecl=False,
        svgns=True,
        svgclass="vietqr",
        lineclass=None,
        title=title,
        nl=False,
    )
    return out.getvalue().decode("utf-8")
