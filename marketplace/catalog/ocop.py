"""The province's OCOP list: importing it, and checking listings' OCOP claims against it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select, update

from marketplace.catalog.models import OcopCertificate, Product
from marketplace.core import pagecache
from marketplace.core.errors import DomainError
from marketplace.core.models import utcnow
from marketplace.core.text import fold, normalise
from marketplace.extensions import db

MAX_ROWS = 20_000
FIRST_YEAR = 2018  # the OCOP programme's first certificates


class OcopImportError(DomainError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]))
        self.problems = problems


def certificate_key(number: str | None) -> str:
    """How certificate numbers are compared: "123/QĐ-UBND" and "123 / qd-ubnd" are one."""
    return re.sub(r"\s+", "", fold(number or "")).upper()


@dataclass
class ImportOutcome:
    added: int = 0
    updated: int = 0
    verified_listings: int = 0
    problems: list[str] = field(default_factory=list)


def _rows(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OcopImportError([_("Save the file as CSV in UTF-8, then upload it again.")]) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        # newline="": the csv module then reads \r, \n and \r\n line ends alike.
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as error:
        raise OcopImportError([_("The file is not a CSV file the import can read.")]) from error
    return [row for row in rows if any(cell.strip() for cell in row)]


def _parse(rows: list[list[str]], year_now: int) -> tuple[list[dict], list[str]]:
    entries, problems, seen = [], [], set()
    # A header row names the columns instead of giving a number of stars.
    first_line = 1
    if rows and len(rows[0]) > 3 and not rows[0][3].strip().isdigit():
        rows, first_line = rows[1:], 2
    if len(rows) > MAX_ROWS:
        return [], [_("The file has more than %(count)s rows.", count=MAX_ROWS)]
    for line, row in enumerate(rows, start=first_line):
        cells = [normalise(cell).strip() for cell in row] + [""] * 5
        number, product, producer, stars, year = cells[:5]
        key = certificate_key(number)
        if not key or len(number) > 50 or len(key) > 50:
            problems.append(
                _("Line %(line)s: the certificate number is missing or too long.", line=line)
            )
            continue
        if key in seen:
            problems.append(
                _("Line %(line)s: certificate %(number)s appears twice.", line=line, number=number)
            )
            continue
        if not product or len(product) > 200 or not producer or len(producer) > 200:
            problems.append(_("Line %(line)s: give the product and the producer.", line=line))
            continue
        if stars not in ("3", "4", "5"):
            problems.append(_("Line %(line)s: stars must be 3, 4 or 5.", line=line))
            continue
        if not re.fullmatch(r"[0-9]{4}", year) or not FIRST_YEAR <= int(year) <= year_now:
            problems.append(_("Line %(line)s: the year is not valid.", line=line))
            continue
        seen.add(key)
        entries.append(
            {"certificate_no": number, "certificate_key": key, "product_name": product,
             "producer": producer, "stars": int(stars), "year": int(year)}
        )  # fmt: skip
    if not entries and not problems:
        problems.append(_("The file has no certificates."))
    return entries, problems


def import_list(content: bytes) -> ImportOutcome:
    """Add or update certificates from a CSV (number, product, producer, stars, year).

    All or nothing: one bad line and nothing is imported, and every bad line is named.
    """
    entries, problems = _parse(_rows(content), utcnow().year)
    if problems:
        raise OcopImportError(problems)
    outcome = ImportOutcome()
    existing = {
        certificate.certificate_key: certificate
        for certificate in db.session.scalars(select(OcopCertificate))
    }
    for entry in entries:
        certificate = existing.get(entry["certificate_key"])
        if certificate is None:
            db.session.add(OcopCertificate(**entry))
            outcome.added += 1
        else:
            for name, value in entry.items():
                setattr(certificate, name, value)
            certificate.imported_at = utcnow()
            outcome.updated += 1
    db.session.flush()
    outcome.verified_listings = reverify_all()
    return outcome


def is_verified(product: Product) -> bool:
    """True when the listing's certificate is on the list with the stars it claims."""
    if not product.ocop_stars or not product.ocop_certificate_no:
        return False
    stars = db.session.scalar(
        select(OcopCertificate.stars).where(
            OcopCertificate.certificate_key == certificate_key(product.ocop_certificate_no)
        )
    )
    return stars == product.ocop_stars


def reverify_all() -> int:
    """Recompute every listing's badge after the list changed; return how many verify."""
    stars_by_key = dict(
        db.session.execute(select(OcopCertificate.certificate_key, OcopCertificate.stars)).all()
    )
    verified = []
    claims = db.session.execute(
        select(Product.id, Product.ocop_certificate_no, Product.ocop_stars).where(
            Product.ocop_stars.is_not(None)
        )
    )
    for product_id, number, stars in claims:
        if stars_by_key.get(certificate_key(number)) == stars:
            verified.append(product_id)
    changed = db.session.execute(
        update(Product)
        .where(Product.ocop_verified != Product.id.in_(verified))
        # Keep updated_at: the review queue's order and waiting times are read from it.
        .values(ocop_verified=Product.id.in_(verified), updated_at=Product.updated_at)
    ).rowcount
    if changed:
        pagecache.bump_catalog(db.session)  # badges on cached pages change
    return len(verified)
