"""Build test pictures and files in memory."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image

GPS_LATITUDE = (9.0, 10.0, 35.0)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def picture(
    size: tuple[int, int] = (800, 600), mode: str = "RGB", color: Any = (30, 120, 60)
) -> Image.Image:
    return Image.new(mode, size, color)


def jpeg(size: tuple[int, int] = (800, 600), **options: Any) -> bytes:
    return encode(picture(size), "JPEG", quality=90, **options)


def png(size: tuple[int, int] = (800, 600), mode: str = "RGB", color: Any = (30, 120, 60)) -> bytes:
    return encode(picture(size, mode, color), "PNG")


def webp(size: tuple[int, int] = (800, 600)) -> bytes:
    return encode(picture(size), "WEBP", quality=90)


def noisy_jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    """A JPEG whose data cannot compress much, so cutting it removes real scan data."""
    return encode(Image.effect_noise(size, 80).convert("RGB"), "JPEG", quality=95)


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Test camera"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (105.0, 9.0, 0.0)
    return exif


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` but holds almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
