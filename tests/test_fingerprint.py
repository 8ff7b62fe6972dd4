"""Receipt fingerprints (pipeline/forensics/fingerprint.py) on small synthetic
receipts drawn with PIL: the same receipt re-saved, scaled, cropped or
photographed again verifies; a different receipt of the same shop and layout
does not. No OCR."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.documents import DocumentRole, FileInfo
from models.fields import FieldValue, ReceiptExtraction
from pipeline.forensics import ForensicInput
from pipeline.forensics.fingerprint import (
    SAME_IMAGE_THRESHOLD,
    ReceiptFingerprint,
    band_key,
    content_key,
    fingerprint,
    fingerprint_image,
    parse_hashes,
    unpack_features,
    verify,
)
from pipeline.samples import photo


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf"):
        if Path(p).is_file():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size=size)


def receipt(number: str = "74080", date: str = "27.10.2022", items: tuple[tuple[str, str], ...] = (
        ("Sigma 85/1.4 DG DN Art", "1 069,90"), ("SD card 128GB", "39,90")), total: str = "1 109,80",
        extra: str = "Kort: **** 0952", time: str = "15:32", serial: str = "S/N 54218873") -> Image.Image:
    """A till receipt of one fictional shop: the header and footer are the template."""
    f, fb = _font(20), _font(26)
    img = Image.new("RGB", (460, 760), (251, 251, 247))
    d = ImageDraw.Draw(img)
    y = 30
    d.text((110, y), "Kamerakulma Oy", font=fb, fill=(30, 30, 30))
    y += 44
    for line in ("Aleksanterinkatu 19", "00100 Helsinki", "ALV-rek. FI50090518"):
        d.text((90, y), line, font=f, fill=(40, 40, 40))
        y += 28
    d.line((20, y + 6, 440, y + 6), fill=(60, 60, 60), width=2)
    y += 22
    d.text((20, y), f"Kuitti nro {number}", font=f, fill=(30, 30, 30))
    y += 28
    d.text((20, y), f"Pvm {date}", font=f, fill=(30, 30, 30))
    d.text((340, y), f"Klo {time}", font=f, fill=(30, 30, 30))
    y += 40
    for name, price in items:
        d.text((20, y), name, font=f, fill=(30, 30, 30))
        d.text((330, y), price, font=f, fill=(30, 30, 30))
        y += 28
    d.line((20, y + 6, 440, y + 6), fill=(60, 60, 60), width=2)
    y += 22
    d.text((20, y), "YHTEENSA EUR", font=fb, fill=(20, 20, 20))
    d.text((300, y), total, font=fb, fill=(20, 20, 20))
    y += 50
    d.text((20, y), extra, font=f, fill=(30, 30, 30))
    y += 60
    for line in ("Kiitos kaynnista!", "Vaihto-oikeus 30 paivaa", "www.kamerakulma-example.fi"):
        d.text((80, y), line, font=f, fill=(40, 40, 40))
        y += 28
    d.text((60, y + 20), serial, font=_font(30), fill=(40, 50, 140))  # the claimant's handwritten serial
    return img


def bgr(img: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)


def jpeg(img: Image.Image, quality: int = 70) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def fp_of(img: Image.Image, sha: str = "0" * 64) -> ReceiptFingerprint:
    return fingerprint_image(bgr(img), sha)


def score(query: ReceiptFingerprint, stored: ReceiptFingerprint) -> float:
    assert query.image is not None and query.features and stored.features
    return verify(query.image, unpack_features(query.features), unpack_features(stored.features))[0]


@pytest.fixture(scope="module")
def original() -> ReceiptFingerprint:
    return fp_of(receipt())


def _crop(img: Image.Image, side: str) -> Image.Image:
    w, h = img.size
    dx, dy = w // 10, h // 10
    return img.crop({"top": (0, dy, w, h), "bottom": (0, 0, w, h - dy),
                     "left": (dx, 0, w, h), "right": (0, 0, w - dx, h)}[side])


def _photo(img: Image.Image) -> Image.Image:
    return jpeg(photo.phone_photo(img, random.Random(5))[0], 85)


VARIANTS = {
    "jpeg": lambda im: jpeg(im, 60),
    "scale_50": lambda im: jpeg(im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS), 90),
    "scale_150": lambda im: im.resize((im.width * 3 // 2, im.height * 3 // 2), Image.Resampling.BICUBIC),
    "crop_top": lambda im: _crop(im, "top"),
    "crop_left": lambda im: _crop(im, "left"),
    "crop_bottom": lambda im: _crop(im, "bottom"),
    "rephoto": _photo,
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_same_receipt_verifies(original: ReceiptFingerprint, variant: str) -> None:
    q = fp_of(VARIANTS[variant](receipt()))
    assert score(q, original) >= SAME_IMAGE_THRESHOLD


def test_a_copy_with_one_number_edited_still_matches(original: ReceiptFingerprint) -> None:
    """The same image with the receipt number changed is the same receipt,
    edited (a copy re-numbered to pass the duplicate check)."""
    assert score(fp_of(receipt(number="81327")), original) >= SAME_IMAGE_THRESHOLD


OTHER_PURCHASES = {
    "items": receipt(items=(("Sigma 24/1.4 DG HSM Art", "899,00"), ("Lens cloth", "9,90")), total="908,90"),
    "items_and_purchase": receipt(number="81327", date="28.10.2022", time="11:05", extra="Kort: **** 4471",
                                  serial="S/N 54301177", items=(("Sigma 35/1.2 DG DN Art", "1 499,00"),),
                                  total="1 499,00"),
    "more_items": receipt(items=(("Sigma 85/1.4 DG DN Art", "1 069,90"), ("SD card 128GB", "39,90"),
                                 ("UV filter 77mm", "49,90")), total="1 159,70"),
}


@pytest.mark.parametrize("change", list(OTHER_PURCHASES))
def test_a_different_receipt_of_the_same_shop_does_not(original: ReceiptFingerprint, change: str) -> None:
    other = OTHER_PURCHASES[change]
    assert score(fp_of(other), original) < SAME_IMAGE_THRESHOLD
    assert score(fp_of(jpeg(other, 70)), original) < SAME_IMAGE_THRESHOLD


@pytest.mark.xfail(reason="known limit: two receipts of one template that differ only in a few digits "
                          "(number, date, time, card) look the same to the image check; the content key "
                          "(reseller + number + date) tells them apart when OCR read them", strict=False)
def test_a_receipt_differing_only_in_digits_does_not_match(original: ReceiptFingerprint) -> None:
    other = receipt(number="81327", date="28.10.2022", time="11:05", extra="Kort: **** 4471", serial="S/N 54301177")
    assert score(fp_of(other), original) < SAME_IMAGE_THRESHOLD


def test_hashes_and_keys_are_stable(original: ReceiptFingerprint) -> None:
    again = fp_of(receipt())
    assert again.hashes == original.hashes and again.band_keys() == original.band_keys()
    assert [k for k, _ in original.hashes] == ["g", "t", "b", "l", "r"]
    assert parse_hashes(original.hashes_hex()) == list(original.hashes)
    # the query also looks up the other three rotations of the page
    assert set(original.band_keys()) < set(original.band_keys(query=True))
    assert all(0 <= k < 2**31 for k in original.band_keys(query=True))
    assert band_key("g", 0xABCD, 0) != band_key("t", 0xABCD, 0)
    # a re-saved copy shares LSH keys with the original (the look-up finds it)
    assert set(fp_of(jpeg(receipt(), 60)).band_keys(query=True)) & set(original.band_keys())


def test_a_rotated_upload_is_found_by_its_rotated_keys(original: ReceiptFingerprint) -> None:
    turned = fp_of(receipt().rotate(90, expand=True))
    assert set(turned.band_keys(query=True)) & set(original.band_keys())
    assert score(turned, original) >= SAME_IMAGE_THRESHOLD


def test_features_round_trip_and_hold_no_image(original: ReceiptFingerprint) -> None:
    assert original.features is not None
    f = unpack_features(original.features)
    assert f.descriptors.shape[1] == 32 and len(f.points) == len(f.descriptors) > 50
    assert f.grid.max() <= 1.0 and 4 <= f.cell <= 12
    # the grid is one cell per glyph or so: far below what text needs to be legible
    page = original.image
    assert page is not None and f.grid.shape[0] * f.cell <= page.shape[0] and f.grid.size * 16 < page.size
    assert len(original.features) < 40_000


def test_content_key_normalises_and_needs_all_parts() -> None:
    a = content_key("DK 44125282", "Kvitteringsnr 76660", "2022-10-25")
    assert a == content_key("dk44125282", "kvitteringsnr. 76 660", "2022-10-25")
    assert a != content_key("DK 44125282", "Kvitteringsnr 76661", "2022-10-25")
    assert content_key("Fotohuset Nørrebro", "A-1", "2022-10-14") == content_key("FOTOHUSET NORREBRO", "a1", "2022-10-14")
    assert content_key(None, "1", "2022-10-14") is None and content_key("x", "", "2022-10-14") is None
    assert a is not None and len(a) == 64 and "76660" not in a


def _info(path: Path, kind: str) -> FileInfo:
    data = path.read_bytes()
    return FileInfo(role=DocumentRole.RECEIPT, name=path.name, path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type=kind)


def test_fingerprint_of_a_forensic_input(tmp_path: Path) -> None:
    p = tmp_path / "receipt.png"
    receipt().save(p)
    fv = lambda name, v: FieldValue(name=name, raw=v, value=v, confidence=0.9)  # noqa: E731
    ex = ReceiptExtraction(reseller_vat=fv("reseller_vat", "FI50090518"), receipt_number=fv("receipt_number", "74080"),
                           purchase_date=fv("purchase_date", "2022-10-27"))
    info = _info(p, "png")
    fp = fingerprint(ForensicInput(file=info, extraction=ex))
    assert fp.sha256 == info.sha256
    assert fp.content_key == content_key("50090518", "74080", "2022-10-27")
    assert len(fp.hashes) == 5 and fp.features and fp.image is not None
    assert score(fp, fp_of(receipt())) >= SAME_IMAGE_THRESHOLD


def test_fingerprint_never_raises_on_a_bad_file(tmp_path: Path) -> None:
    p = tmp_path / "receipt.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    fp = fingerprint(ForensicInput(file=_info(p, "jpeg")))
    assert fp.sha256 and fp.hashes == () and fp.features is None and fp.band_keys() == []
