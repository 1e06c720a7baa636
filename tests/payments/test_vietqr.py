"""VietQR payloads: the CRC, published examples reproduced exactly, every field read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import segno

from marketplace.payments.vietqr import (
    BANKS,
    MAX_AMOUNT_VND,
    crc16,
    qr_svg,
    transfer_note,
    vietqr_payload,
)


def parse_tlv(data: str) -> dict[str, str]:
    """Read EMVCo TLV fields (tag, two-digit length, value) into a dict, checking that
    they cover ``data`` exactly and that no tag repeats."""
    fields: dict[str, str] = {}
    at = 0
    while at < len(data):
        tag, length = data[at : at + 2], int(data[at + 2 : at + 4])
        value = data[at + 4 : at + 4 + length]
        assert len(value) == length, f"field {tag} runs past the end"
        assert tag not in fields, f"field {tag} repeats"
        fields[tag] = value
        at += 4 + length
    return fields


def test_crc_is_ccitt_false():
    # The standard check value of CRC-16/CCITT-FALSE.
    assert crc16("123456789") == "29B1"


# Published payloads, each with the CRC its generator printed.
# From the README of xuannghia/vietnam-qr-pay (an npm library that encodes and decodes
# VietQR), ACB account 257678859: static, then dynamic with an amount and a note.
ACB_STATIC = (
    "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F"
)
ACB_DYNAMIC = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
    "53037045405100005802VN62150811Chuyen tien630453E6"
)
ACB_REBUILT = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
    "530370454069999995802VN62140810Cam on nhe6304E786"
)
# A Vietcombank reference payload decoded from VietQR's own image service, quoted in a
# public project's research notes, with its static variant.
VCB_DYNAMIC = (
    "00020101021238540010A00000072701240006970436011012345678900208QRIBFTTA"
    "53037045405500005802VN62130809TEST MEMO6304DBA4"
)
VCB_STATIC = (
    "00020101021138540010A00000072701240006970436011012345678900208QRIBFTTA53037045802VN6304BE57"
)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("970416", "257678859", None, ""), ACB_STATIC),
        (("970416", "257678859", 10000, "Chuyen tien"), ACB_DYNAMIC),
        (("970416", "257678859", 999999, "Cam on nhe"), ACB_REBUILT),
        (("970436", "1234567890", 50000, "TEST MEMO"), VCB_DYNAMIC),
        (("970436", "1234567890", None, ""), VCB_STATIC),
    ],
)
def test_published_examples(arguments, expected):
    assert vietqr_payload(*arguments) == expected


def test_fields_read_back():
    note = transfer_note("Đơn hàng DH42 - Bánh pía")
    payload = vietqr_payload("970422", "0123456789012", 150_000, note)
    fields = parse_tlv(payload)
    assert list(fields) == ["00", "01", "38", "53", "54", "58", "62", "63"]
    assert fields["00"] == "01"
    assert fields["01"] == "12"
    merchant = parse_tlv(fields["38"])
    assert list(merchant) == ["00", "01", "02"]
    assert merchant["00"] == "A000000727"
    assert parse_tlv(merchant["01"]) == {"00": "970422", "01": "0123456789012"}
    assert merchant["02"] == "QRIBFTTA"
    assert fields["53"] == "704"
    assert fields["54"] == "150000"
    assert fields["58"] == "VN"
    assert parse_tlv(fields["62"]) == {"08": "DON HANG DH42 BANH PIA"}
    assert payload.endswith("6304" + fields["63"])
    assert fields["63"] == crc16(payload[:-4])


def test_static_code_has_no_amount():
    fields = parse_tlv(vietqr_payload("970407", "19031234567890", None, "DH42"))
    assert fields["01"] == "11"
    assert "54" not in fields
    assert parse_tlv(fields["62"]) == {"08": "DH42"}


def test_empty_note_leaves_out_additional_data():
    fields = parse_tlv(vietqr_payload("546034", "0987654321", 1, ""))
    assert "62" not in fields
    assert fields["54"] == "1"


def test_limits_are_accepted():
    fields = parse_tlv(vietqr_payload("963388", "A" * 19, MAX_AMOUNT_VND, "9" * 25))
    assert fields["54"] == "99999999999"
    assert parse_tlv(parse_tlv(fields["38"])["01"])["01"] == "A" * 19


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("97043", "1234567890", 1000, ""), "BIN"),
        (("9704366", "1234567890", 1000, ""), "BIN"),
        (("97043X", "1234567890", 1000, ""), "BIN"),
        (("٩٧٠٤٣٦", "1234567890", 1000, ""), "BIN"),  # Arabic-Indic digits are not digits here
        ((970436, "1234567890", 1000, ""), "BIN"),
        (("970436", "", 1000, ""), "account"),
        (("970436", "1" * 20, 1000, ""), "account"),
        (("970436", "0123-456", 1000, ""), "account"),
        (("970436", "ĐA123", 1000, ""), "account"),
        (("970436", "1234567890", 0, ""), "amount"),
        (("970436", "1234567890", -5, ""), "amount"),
        (("970436", "1234567890", MAX_AMOUNT_VND + 1, ""), "amount"),
        (("970436", "1234567890", 1000.0, ""), "amount"),
        (("970436", "1234567890", "1000", ""), "amount"),
        (("970436", "1234567890", True, ""), "amount"),
        (("970436", "1234567890", 1000, "Đơn hàng"), "note"),
        (("970436", "1234567890", 1000, "DH#42"), "note"),
        (("970436", "1234567890", 1000, "X" * 26), "note"),
        (("970436", "1234567890", 1000, "DH\n42"), "note"),
        (("970436", "1234567890", 1000, None), "note"),
    ],
)
def test_bad_arguments_raise(arguments, message):
    with pytest.raises(ValueError, match=message):
        vietqr_payload(*arguments)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("Nguyễn Văn Đạt", "NGUYEN VAN DAT"),
        ("ĐỖ XUÂN TRƯỜNG", "DO XUAN TRUONG"),
        ("Thanh toán đơn #DH-0042!", "THANH TOAN DON DH 0042"),
        ("  nhiều   khoảng\ttrắng  ", "NHIEU KHOANG TRANG"),
        ("Bánh pía Sóc Trăng và kẹo dừa Bến Tre", "BANH PIA SOC TRANG VA KEO"),
        ("Cà phê ☕ Buôn Ma Thuột", "CA PHE BUON MA THUOT"),
        ("——", ""),
    ],
)
def test_transfer_note_folds_vietnamese(text, note):
    assert transfer_note(text) == note
    vietqr_payload("970436", "1234567890", 1000, note)  # always accepted


def test_banks_table():
    assert len(BANKS) == len(set(BANKS.values()))
    for bank_bin, name in BANKS.items():
        assert len(bank_bin) == 6 and bank_bin.isascii() and bank_bin.isdigit()
        assert name
    assert BANKS["970436"] == "Vietcombank"
    assert BANKS["970415"] == "VietinBank"
    assert BANKS["546034"].startswith("CAKE")


def test_qr_svg_is_inline_markup():
    payload = vietqr_payload("970436", "1234567890", 150_000, transfer_note("Đơn DH2025123456"))
    svg = qr_svg(payload, title="VietQR")
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    root = ET.fromstring(svg)  # noqa: S314 (our own markup): it is well-formed
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # 41 modules (version 6) and a quiet zone of 4 on each side, 6 px a module.
    assert root.get("viewBox") == f"0 0 {49 * 6} {49 * 6}"
    assert root.get("width") == f"{49 * 6}px"
    assert root.findtext("{http://www.w3.org/2000/svg}title") == "VietQR"


def test_qr_matrix_for_a_typical_payload():
    # Upper-case notes keep the whole payload in the QR alphanumeric set, so a typical
    # transfer fits version 6 at error correction M.
    payload = vietqr_payload("970436", "1234567890", 150_000, transfer_note("Đơn DH2025123456"))
    code = segno.make(payload, error="m", boost_error=False, micro=False)
    assert code.designator == "6-M"
    assert code.mode == "alphanumeric"
    assert code.symbol_size(border=0) == (41, 41)
    # The longest payload the encoder makes still fits a code phones read easily.
    longest = vietqr_payload("970436", "A" * 19, MAX_AMOUNT_VND, "Z" * 25)
    assert segno.make(longest, error="m", boost_error=False, micro=False).version <= 7
