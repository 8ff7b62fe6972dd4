"""Bad input files made in code, one function per kind."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw


def png_bytes(w: int = 400, h: int = 300, text: str = "KVITTERING") -> bytes:
    im = Image.new("RGB", (w, h), "white")
    ImageDraw.Draw(im).text((20, 20), text, fill="black")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(w: int = 400, h: int = 300) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), "white").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg_bytes(800, 600)
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    data = bytearray(png_bytes())
    for i in range(60, min(len(data), 200)):
        data[i] = 0xAA
    return bytes(data)


def gif_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (50, 50)).save(buf, "GIF")
    return buf.getvalue()


def heic_bytes() -> bytes:
    # an ISO-BMFF 'ftyp' box with the HEIC brand, as an iPhone writes it
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1heic"
    return ftyp + b"\x00" * 200


def docx_bytes() -> bytes:
    return b"PK\x03\x04" + b"\x14\x00\x06\x00" + b"\x00" * 300


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def huge_png_header(w: int = 30000, h: int = 30000) -> bytes:
    """A PNG whose header claims w x h pixels (a decompression bomb): the check
    must refuse it from the header, before decoding anything."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def pdf_bytes(pages: int = 1, text: str = "Kvittering 10234", encrypt: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    kwargs = {}
    if encrypt:
        from reportlab.lib import pdfencrypt

        kwargs["encrypt"] = pdfencrypt.StandardEncryption(encrypt, ownerPassword=encrypt + "-owner", canPrint=0)
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, **kwargs)
    for i in range(pages):
        c.drawString(72, 760, f"{text} page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def truncated_pdf() -> bytes:
    data = pdf_bytes(3)
    return data[: len(data) // 3]
