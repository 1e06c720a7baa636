"""Turn uploads into safe, small WebP derivatives, and keep private documents."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from flask import (
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    url_for,
)
from flask_babel import gettext as _
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marketplace.core.errors import DomainError
from marketplace.core.money import format_vnd_number
from marketplace.extensions import db
from marketplace.media.models import Document, Image
from marketplace.media.storage import PRIVATE_PREFIX, PUBLIC_PREFIX, get_storage

DERIVATIVE_WIDTHS = (1200, 600, 200)
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
# Decoding cost grows with rows as well as pixels (a 1 × 20 000 000 PNG took 6 s), so the
# shape is bounded too, from the header, before anything is decoded.
DEFAULT_MAX_SIDE = 16_000
DEFAULT_MAX_ASPECT_RATIO = 10
# Pixels one request may decode, all its pictures together (a JPEG counts at the reduced
# size it is decoded at): three 40 MP PNGs, or eight 12 MP phone photos with room to spare.
DEFAULT_MAX_REQUEST_PIXELS = 120_000_000
# Resize in two steps (a fast integer reduce, then Lanczos over at most 3× the target):
# a single Lanczos pass over a 20 000 px side took 4.6 s; the result looks the same.
RESIZE_REDUCING_GAP = 3.0
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
WEBP_QUALITY = 80
WEBP_METHOD = 4
# A derivative is at most this many times as tall as it is wide.
TALLEST = 2
# EXIF orientations that turn the picture a quarter: its width and height swap.
_QUARTER_TURNS = {5, 6, 7, 8}
_ORIENTATION_TAG = 0x0112


class MediaError(DomainError):
    """An upload was refused; the message is safe to show to the user."""


class UnsupportedImage(MediaError):
    """The file is not a JPEG, PNG or WebP picture."""


class FileTooLarge(MediaError):
    """The file is over ``MEDIA_MAX_UPLOAD_BYTES``."""


class ImageTooLarge(FileTooLarge):
    """The picture is over the size or the pixel limit."""


class CorruptImage(MediaError):
    """The picture is truncated or damaged."""


class UnsupportedDocument(MediaError):
    """The file is not a PDF, JPEG or PNG document."""


@dataclass(frozen=True)
class ProcessedImage:
    """A picture ready to store: the original's facts and WebP derivatives by width."""

    sha256: str
    width: int
    height: int
    format: str
    size_bytes: int
    derivatives: dict[int, bytes]


def _setting(name: str, default: int) -> int:
    if not has_app_context():
        return default
    return int(current_app.config.get(name, default))


def _format_number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _read_upload(data: bytes | BinaryIO, too_large: type[FileTooLarge]) -> bytes:
    """Return the upload's bytes, reading at most one byte past the limit."""
    limit = _setting("MEDIA_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)
    content = (
        bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.read(limit + 1)
    )
    if len(content) > limit:
        raise too_large(
            _(
                "This file is too large. The limit is %(limit)s MB.",
                limit=_format_number(limit / (1024 * 1024)),
            )
        )
    return content


def _not_an_image() -> UnsupportedImage:
    return UnsupportedImage(_("This file is not a JPEG, PNG or WebP image."))


def _corrupt() -> CorruptImage:
    return CorruptImage(_("This image is damaged or incomplete. Please upload it again."))


def _too_many_pixels(limit: int) -> ImageTooLarge:
    return ImageTooLarge(
        _(
            "This image has too many pixels. The limit is %(limit)s megapixels.",
            limit=_format_number(limit / 1_000_000),
        )
    )


def _bad_shape(max_side: int, max_ratio: int) -> ImageTooLarge:
    return ImageTooLarge(
        _(
            "This image's shape is not usable: its sides must be at most %(side)s pixels, "
            "and the long side at most %(ratio)s times the short one.",
            side=format_vnd_number(max_side),
            ratio=max_ratio,
        )
    )


def _too_many_for_one_request(limit: int) -> ImageTooLarge:
    return ImageTooLarge(
        _(
            "These pictures are too large to process together (at most %(limit)s megapixels "
            "in one form). Send fewer pictures now and add the others afterwards.",
            limit=_format_number(limit / 1_000_000),
        )
    )


def _charge_request_pixels(pixels: int) -> None:
    """Count ``pixels`` about to be decoded against this request's budget."""
    if not has_request_context():
        return  # the shell (demo seed, imports) has no worker to protect
    limit = _setting("MEDIA_MAX_REQUEST_PIXELS", DEFAULT_MAX_REQUEST_PIXELS)
    # Kept in the request's environ, not in g: an app context can outlive a request.
    used = request.environ.get(_DECODED_PIXELS, 0) + pixels
    if used > limit:
        raise _too_many_for_one_request(limit)
    request.environ[_DECODED_PIXELS] = used


_DECODED_PIXELS = "marketplace.media.decoded_pixels"


def _looks_supported(content: bytes) -> bool:
    """Return True when ``content`` starts like a JPEG, PNG or WebP file."""
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return True
    return content.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))


def _open(content: bytes, formats: tuple[str, ...], max_pixels: int) -> PILImage.Image:
    """Open ``content`` lazily, refusing other formats and too many pixels before decoding."""
    try:
        im = PILImage.open(io.BytesIO(content), formats=list(formats))
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except UnidentifiedImageError:
        # Pillow cannot tell a damaged header from another format; the magic bytes can.
        error = _corrupt() if _looks_supported(content) else _not_an_image()
        raise error from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _corrupt() from error
    width, height = im.size
    if width < 1 or height < 1:
        raise _corrupt()
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    max_side = _setting("MEDIA_MAX_SIDE", DEFAULT_MAX_SIDE)
    max_ratio = _setting("MEDIA_MAX_ASPECT_RATIO", DEFAULT_MAX_ASPECT_RATIO)
    if max(width, height) > max_side or max(width, height) > max_ratio * min(width, height):
        raise _bad_shape(max_side, max_ratio)
    return im


def _to_rgb(im: PILImage.Image) -> PILImage.Image:
    """Return ``im`` as RGB, transparency flattened onto white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greys would clip to white; scale them to 8 bits first.
        im = im.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
    if has_alpha:
        rgba = im.convert("RGBA")
        background = PILImage.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im.convert("RGB")


def _scaled(im: PILImage.Image, width: int) -> PILImage.Image:
    """Return ``im`` at most ``width`` wide and twice that tall (never enlarged), aspect kept.

    The height bound keeps a tall strip's derivatives small: at 1200 px wide a 1:10
    picture would be 12 000 px tall, seconds to encode and megabytes to download.
    """
    scale = min(1.0, width / im.width, TALLEST * width / im.height)
    if scale >= 1.0:
        return im
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, PILImage.Resampling.LANCZOS, reducing_gap=RESIZE_REDUCING_GAP)


def _encode_webp(im: PILImage.Image) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile= or xmp=: the derivative carries no metadata, GPS above all.
    im.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return buffer.getvalue()


@dataclass
class _Opened:
    """An upload whose header passed the checks, opened but not decoded yet."""

    content: bytes
    im: PILImage.Image
    width: int
    height: int

    @property
    def decoded_pixels(self) -> int:
        return self.im.width * self.im.height


def _inspect(data: bytes | BinaryIO) -> _Opened:
    """Read an upload and check its header: format, pixels, shape. Decodes nothing."""
    content = _read_upload(data, ImageTooLarge)
    im = _open(content, IMAGE_FORMATS, _setting("MEDIA_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    width, height = im.size
    if im.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale when that still covers the largest size.
        largest = DERIVATIVE_WIDTHS[0]
        im.draft("RGB", (largest, largest))
    return _Opened(content, im, width, height)


def _convert(opened: _Opened) -> ProcessedImage:
    """Decode an inspected upload and make its WebP derivatives."""
    im = opened.im
    width, height = opened.width, opened.height
    try:
        original_format = im.format or ""
        im.load()
        # Read after decoding: a PNG may keep its EXIF after the pixels.
        if im.getexif().get(_ORIENTATION_TAG) in _QUARTER_TURNS:
            width, height = height, width
        # In place: a 40 MP PNG is 120 MB decoded, and a copy per step adds up.
        ImageOps.exif_transpose(im, in_place=True)
        picture = _to_rgb(im)
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise _too_many_pixels(_setting("MEDIA_MAX_PIXELS", DEFAULT_MAX_PIXELS)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _corrupt() from error
    finally:
        im.close()
    picture.info.clear()

    derivatives: dict[int, bytes] = {}
    previous_size, previous_target = (0, 0), 0
    for target in sorted(DERIVATIVE_WIDTHS, reverse=True):
        picture = _scaled(picture, target)
        if picture.size == previous_size:
            derivatives[target] = derivatives[previous_target]
        else:
            derivatives[target] = _encode_webp(picture)
        previous_size, previous_target = picture.size, target

    return ProcessedImage(
        sha256=hashlib.sha256(derivatives[DERIVATIVE_WIDTHS[0]]).hexdigest(),
        width=width,
        height=height,
        format=original_format,
        size_bytes=len(opened.content),
        derivatives=derivatives,
    )


def process_image(data: bytes | BinaryIO) -> ProcessedImage:
    """Check an uploaded picture and make its WebP derivatives; touch no file or row.

    JPEG, PNG and WebP are recognised by content, never by name. The header is checked
    (format, pixels, shape, and the request's pixel budget) before anything is decoded.
    The picture is turned upright by its EXIF orientation, flattened onto white, stripped
    of all metadata and scaled to each of ``DERIVATIVE_WIDTHS`` (never enlarged), each
    size from the last.
    """
    return process_images([("", data)])[0]


def process_images(uploads: list[tuple[str, bytes | BinaryIO]]) -> list[ProcessedImage]:
    """``process_image`` for several ``(filename, data)`` uploads, all headers first.

    Every header is checked, and the pictures' decoding cost counted against the
    request's budget, before the first is decoded: a form the budget refuses costs
    milliseconds. A bad file's ``MediaError`` names it.
    """
    opened: list[_Opened] = []
    try:
        for filename, data in uploads:
            try:
                opened.append(_inspect(data))
            except MediaError as error:
                raise _named(error, filename) from error
        _charge_request_pixels(sum(item.decoded_pixels for item in opened))
        processed = []
        for (filename, _data), item in zip(uploads, opened, strict=True):
            try:
                processed.append(_convert(item))
            except MediaError as error:
                raise _named(error, filename) from error
        return processed
    finally:
        for item in opened:
            item.im.close()


def _named(error: MediaError, filename: str) -> MediaError:
    return type(error)(f"{filename}: {error}") if filename else error


def derivative_key(sha256: str, width: int) -> str:
    """Return the storage key of a picture's derivative ``width`` px wide."""
    if width not in DERIVATIVE_WIDTHS:
        raise ValueError(f"no derivative {width} px wide; use one of {DERIVATIVE_WIDTHS}")
    return f"{PUBLIC_PREFIX}{sha256[:2]}/{sha256}-{width}.webp"


def save_image(processed: ProcessedImage) -> Image:
    """Store the derivatives (once: keys are content hashes) and get or create the row."""
    storage = get_storage()
    for width, data in processed.derivatives.items():
        key = derivative_key(processed.sha256, width)
        if not storage.exists(key):
            storage.put(key, data, "image/webp")

    image = _image_by_sha(processed.sha256)
    if image is not None:
        return image
    values = {
        "sha256": processed.sha256,
        "width": processed.width,
        "height": processed.height,
        "format": processed.format,
        "size_bytes": processed.size_bytes,
    }
    insert = _INSERTS.get(db.session.get_bind().dialect.name)
    if insert is None:
        image = Image(**values)
        db.session.add(image)
        db.session.flush()
        return image
    # Two uploads of one picture may race; the loser finds the winner's row instead of
    # failing the caller's transaction (a savepoint is unreliable on pysqlite).
    statement = insert(Image).values(**values).on_conflict_do_nothing(index_elements=["sha256"])
    db.session.execute(statement)
    image = _image_by_sha(processed.sha256)
    assert image is not None
    return image


_INSERTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _image_by_sha(sha256: str) -> Image | None:
    return db.session.scalar(select(Image).where(Image.sha256 == sha256))


def ingest_image(data: bytes | BinaryIO) -> Image:
    """Check, convert and store an uploaded picture; return its (possibly existing) row."""
    return save_image(process_image(data))


def ingest_images(uploads: list[tuple[str, bytes | BinaryIO]]) -> list[Image]:
    """Check every ``(filename, data)`` upload first, then store them all; all or nothing.

    A bad file raises its ``MediaError`` (its message names the file) before anything is
    written, so a form with one broken picture saves nothing.
    """
    return [save_image(item) for item in process_images(uploads)]


def image_url(image: Image, width: int = 600) -> str:
    """Return the URL of ``image``'s derivative ``width`` px wide (one of 1200, 600, 200)."""
    # url_for costs ~30 µs and a page of cards needs dozens: build the route's prefix once
    # per request (it honours the app's mount point) and append the key.
    prefix = g.get("_media_url_prefix")
    if prefix is None:
        prefix = g._media_url_prefix = url_for("media.file", key="x")[:-1]
    return prefix + derivative_key(image.sha256, width)


_DOCUMENT_TYPES = {
    "PDF": ("application/pdf", ".pdf", (".pdf",)),
    "JPEG": ("image/jpeg", ".jpg", (".jpg", ".jpeg")),
    "PNG": ("image/png", ".png", (".png",)),
}
_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
MAX_FILENAME_LENGTH = 255


def _document_kind(content: bytes) -> str:
    if content.startswith(b"%PDF-"):
        return "PDF"
    try:
        with PILImage.open(io.BytesIO(content), formats=["JPEG", "PNG"]) as im:
            kind = im.format or ""
            im.verify()
    except (
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        kind = ""
    if kind not in _DOCUMENT_TYPES:
        raise UnsupportedDocument(_("This file is not a PDF, JPEG or PNG document."))
    return kind


def sanitise_filename(filename: str, extension: str, allowed: tuple[str, ...]) -> str:
    """Return a display name: no directories or control characters, the right extension."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(". ")
    stem, ext = os.path.splitext(name)
    if ext.lower() not in allowed:
        stem, ext = name, extension
    stem = stem.strip(". ") or "document"
    return stem[: MAX_FILENAME_LENGTH - len(ext)] + ext.lower()


def store_document(data: bytes | BinaryIO, filename: str) -> Document:
    """Keep a private PDF, JPEG or PNG file exactly as uploaded; never served publicly."""
    content = _read_upload(data, FileTooLarge)
    kind = _document_kind(content)
    content_type, extension, allowed = _DOCUMENT_TYPES[kind]
    # A random key, not the hash: two shops' documents never share (or delete) one file.
    key = f"{PRIVATE_PREFIX}documents/{secrets.token_hex(16)}{extension}"
    get_storage().put(key, content, content_type)
    document = Document(
        storage_key=key,
        filename=sanitise_filename(filename, extension, allowed),
        content_type=content_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.session.add(document)
    db.session.flush()
    return document


def open_document(document: Document) -> bytes:
    """Return a private document's bytes."""
    return get_storage().open(document.storage_key)


def private_download(document: Document) -> Response:
    """A private document as a download that no cache keeps (registration papers)."""
    response = Response(open_document(document), mimetype=document.content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(document.filename, safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def prune_orphans(*, older_than_hours: float = 24, dry_run: bool = False) -> list[str]:
    """Delete stored files no row points at; return their keys.

    Files are stored before their rows commit (a form is checked, its pictures converted,
    then the transaction commits), so a failed commit leaves files behind. Only files older
    than ``older_than_hours`` go: a younger one may belong to a request still running.
    """
    moment = time.time() - older_than_hours * 3600
    image_hashes = set(db.session.scalars(select(Image.sha256)))
    document_keys = set(db.session.scalars(select(Document.storage_key)))
    storage = get_storage()
    orphans = []
    for key in storage.keys_stored_before(moment):
        if key.startswith(PUBLIC_PREFIX):
            referenced = key.rsplit("/", 1)[-1].split("-", 1)[0] in image_hashes
        elif key.startswith(PRIVATE_PREFIX):
            referenced = key in document_keys
        else:
            continue  # not ours
        if not referenced:
            orphans.append(key)
            if not dry_run:
                storage.delete(key)
    return sorted(orphans)
