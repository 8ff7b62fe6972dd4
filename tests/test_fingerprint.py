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

import pipeline.forensics.fingerprint as fpm
from models.documents import DocumentRole, FileInfo
from models.fields import FieldValue, ReceiptExtraction
from pipeline.forensics import ForensicInput
from pipeline.forensics.fingerprint import (
    FINE_KINDS,
    SAME_IMAGE_THRESHOLD,
    Features,
    ReceiptFingerprint,
    band_key,
    content_key,
    fingerprint,
    fingerprint_image,
    hash_distance,
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


# ----------------------------------------------------------------- version 2: crops, turned pages, templates


def _a4_invoice(number: str = "2022-24551", who: str = "Lena Nilsson", street: str = "Testgatan 31",
                items: tuple[tuple[str, str], ...] = (("SIGMA 40MM F1.4 DG HSM A EF", "8 699,00"),
                                                     ("Hoya UV-filter HD 67mm", "499,00")),
                total: str = "9 198,00", date: str = "18.11.2022",
                vat: tuple[str, str] = ("7 358,40", "1 839,60")) -> Image.Image:
    """A web-shop invoice of one fictional shop: small text on a mostly blank
    A4 page, a footer far below the rest (what a keypoint fit must reach)."""
    f, fb, fs = _font(13), _font(22), _font(10)
    img = Image.new("RGB", (708, 1000), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.text((60, 50), "Objektivhuset Norr AB", font=fb, fill=(0, 0, 0))
    d.text((520, 50), "FAKTURA", font=fb, fill=(0, 0, 0))
    for i, line in enumerate(("Storgatan 40", "903 26 Umea", "Momsreg.nr SE554529841501")):
        d.text((60, 85 + 16 * i), line, font=f, fill=(20, 20, 20))
    for i, (k, v) in enumerate((("Fakturanr", number), ("Fakturadatum", date), ("Ordernummer", "ORD-" + number[-5:]))):
        d.text((400, 110 + 16 * i), k, font=f, fill=(20, 20, 20))
        d.text((540, 110 + 16 * i), v, font=f, fill=(20, 20, 20))
    d.text((60, 190), "Faktureras till:", font=f, fill=(0, 0, 0))
    d.text((60, 208), who, font=f, fill=(20, 20, 20))
    d.text((60, 226), street, font=f, fill=(20, 20, 20))
    d.text((60, 244), "211 20 Malmo", font=f, fill=(20, 20, 20))
    for x, head in ((60, "Art.nr"), (150, "Beskrivning"), (420, "Antal"), (480, "A-pris"), (590, "Belopp")):
        d.text((x, 282), head, font=f, fill=(0, 0, 0))
    d.line((60, 300, 650, 300), fill=(80, 80, 80), width=1)
    y = 312
    for i, (name, price) in enumerate(items):
        d.text((60, y), f"{450965 + 7919 * i * len(name)}"[:6], font=f, fill=(20, 20, 20))
        d.text((150, y), name, font=f, fill=(20, 20, 20))
        d.text((430, y), "1", font=f, fill=(20, 20, 20))
        d.text((560, y), price, font=f, fill=(20, 20, 20))
        y += 20
    d.line((60, y + 6, 650, y + 6), fill=(80, 80, 80), width=1)
    for i, (k, v) in enumerate((("Summa exkl. moms", vat[0]), ("Varav moms 25%", vat[1]), ("TOTALT SEK", total))):
        d.text((400, y + 20 + 18 * i), k, font=f, fill=(0, 0, 0))
        d.text((560, y + 20 + 18 * i), v, font=f, fill=(0, 0, 0))
    d.text((60, y + 90), "Betalt med Kort", font=f, fill=(20, 20, 20))
    d.line((50, 925, 650, 925), fill=(120, 120, 120), width=1)
    d.text((200, 940), "Objektivhuset Norr AB - Storgatan 40 - 903 26 Umea", font=fs, fill=(60, 60, 60))
    return img


@pytest.fixture(scope="module")
def invoice() -> ReceiptFingerprint:
    return fp_of(_a4_invoice())


@pytest.mark.parametrize("side", ["top", "bottom", "left", "right"])
def test_a_cropped_invoice_is_found_and_verifies(invoice: ReceiptFingerprint, side: str) -> None:
    """The index finds it (a window anchored at an uncut edge shares a band)
    and the verification lines the whole page up, footer included, leaving
    out the cut."""
    q = fp_of(jpeg(_crop(_a4_invoice(), side), 80))
    assert set(q.band_keys(query=True)) & set(invoice.band_keys())
    assert score(q, invoice) >= SAME_IMAGE_THRESHOLD


def test_a_rephotographed_invoice_is_found_and_verifies(invoice: ReceiptFingerprint) -> None:
    q = fp_of(_photo(_a4_invoice()))
    assert set(q.band_keys(query=True)) & set(invoice.band_keys())
    assert score(q, invoice) >= SAME_IMAGE_THRESHOLD


def test_probes_are_the_whole_page_bands_with_uncertain_bits_flipped(invoice: ReceiptFingerprint) -> None:
    page = invoice.image
    assert page is not None
    probes = fpm.probe_keys(page)
    g = fpm.phash(page)
    exact = {band_key("g", g, i) for i in range(fpm.BANDS)}
    assert len(set(probes)) == fpm.BANDS * 10 and not exact & set(probes)  # 4 single + 6 double flips a band
    assert all(k >> 16 in range(fpm.BANDS) for k in probes)  # kind "g", bands 0..3
    # each differs from its band's exact key in one or two bits
    assert all(1 <= bin((k ^ band_key("g", g, k >> 16)) & 0xFFFF).count("1") <= 2 for k in probes)
    assert set(invoice.query_probes) <= set(invoice.band_keys(query=True))
    assert not set(invoice.query_probes) & set(invoice.band_keys())  # nothing more is stored


@pytest.mark.parametrize("other", [
    dict(number="2022-16565", who="Sara Karlsson", street="Testgatan 69", date="2022-10-01",
         items=(("Sigma 14/1.8 DG HSM Art E-mount", "17 399,00"), ("SanDisk Extreme Pro SD 128GB", "399,00")),
         total="17 798,00", vat=("14 238,40", "3 559,60")),
    dict(number="2022-88809", who="Lena Johansson", street="Testgatan 94", date="20/11/2022",
         items=(("Sigma 24/1.4 DG HSM Art Nikon", "11 599,00"), ("SanDisk Extreme Pro SD 128GB", "399,00")),
         total="11 998,00", vat=("9 598,40", "2 399,60")),
])
def test_another_invoice_of_the_same_shop_does_not_match(invoice: ReceiptFingerprint, other: dict) -> None:
    """Same template, same length of lines, other names, items and amounts:
    the binary tests look along the text line, where the glyphs differ."""
    img = _a4_invoice(**other)
    assert score(fp_of(img), invoice) < SAME_IMAGE_THRESHOLD
    assert score(fp_of(_photo(img)), invoice) < SAME_IMAGE_THRESHOLD


def test_keypoints_reach_the_far_end_of_a_page(invoice: ReceiptFingerprint) -> None:
    f = unpack_features(invoice.features or b"")
    assert f.points[:, 1].max() > 0.85 * f.shape[0]  # the footer has keypoints, not only the header


def test_a_quarter_turned_page_is_read_with_its_lines_across() -> None:
    """Without an OCR rotation, a page whose text runs up and down is turned
    (the tests look along the lines); a landscape page cropped at the bottom
    still shares a window with the original."""
    turned = _a4_invoice().rotate(90, expand=True)
    fp = fp_of(turned)
    assert fp.image is not None and fp.image.shape[0] > fp.image.shape[1]  # portrait again
    assert fpm.text_runs_vertically(np.asarray(turned.convert("L")))
    assert not fpm.text_runs_vertically(np.asarray(_a4_invoice().convert("L")))
    wide = receipt().rotate(90, expand=True)  # a till roll on its side: landscape
    stored = fp_of(wide)
    for side in ("top", "bottom", "left", "right"):
        q = fp_of(jpeg(_crop(wide, side), 85))
        assert set(q.band_keys(query=True)) & set(stored.band_keys()), side
        assert score(q, stored) >= SAME_IMAGE_THRESHOLD, side


def test_a_paper_on_a_pale_table_is_looked_up_both_ways() -> None:
    """When the paper hardly stands out from the table, re-saving can tip the
    call between 'paper' and 'whole image': the query carries both readings."""
    page = np.asarray(receipt().convert("L"))
    table = np.full((page.shape[0] + 160, page.shape[1] + 200), 222, np.uint8)
    table[80:80 + page.shape[0], 100:100 + page.shape[1]] = page
    primary, alt = fpm.paper_pages(table)
    assert alt is not None
    shapes = sorted([primary.shape, alt.shape])
    assert shapes[1] == table.shape  # one reading is the whole image ...
    assert abs(shapes[0][0] - page.shape[0]) < 30 and abs(shapes[0][1] - page.shape[1]) < 30  # ... one the paper
    # a clear photo on a dark table has one reading only
    dark = table.copy()
    dark[dark == 222] = 60
    assert fpm.paper_pages(dark)[1] is None
    fp = fingerprint_image(cv2.cvtColor(table, cv2.COLOR_GRAY2BGR), "0" * 64)
    whole = fingerprint_image(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), "1" * 64)
    assert set(fp.band_keys(query=True)) & set(whole.band_keys())


def test_fine_hashes_are_stored_and_rank_the_same_receipt_first(invoice: ReceiptFingerprint) -> None:
    assert [k for k, _ in invoice.fine] == list(FINE_KINDS)
    assert parse_hashes(invoice.hashes_hex(), FINE_KINDS) == list(invoice.fine)
    assert parse_hashes(invoice.hashes_hex()) == list(invoice.hashes)  # the coarse ones, as before
    other = fp_of(_a4_invoice(number="2022-16565", who="Sara Karlsson", street="Testgatan 69",
                              items=(("Sigma 14/1.8 DG HSM Art E-mount", "17 399,00"),), total="17 399,00"))
    q = fp_of(_photo(_a4_invoice()))
    assert hash_distance(q, invoice.hashes_hex()) < hash_distance(q, other.hashes_hex())
    # a version-1 row (coarse hashes only) is still ranked, by the coarse ones
    v1 = " ".join(f"{k}:{h:016x}" for k, h in invoice.hashes)
    assert 0 <= hash_distance(q, v1) <= 64


def _as_version_1(fp: ReceiptFingerprint) -> bytes:
    """The features blob as fingerprint version 1 wrote it: test set 1,
    radius 0.75 text heights, a 4-value shape."""
    f = unpack_features(fp.features or b"")
    page = fp.image
    assert page is not None
    radius = round(0.75 * fpm.text_height(fpm.ink(page)), 2)
    bits, _ = fpm.cell_tests(page, f.cell, radius, f.grid.shape, 1)
    codes = fpm.pack_bits(bits)
    codes[f.grid < 0.05] = 0
    buf = io.BytesIO()
    np.savez(buf, shape=np.array([*f.shape, f.cell, round(radius * 100)], np.int32),
             points=np.round(f.points * 16).astype(np.uint16), desc=f.descriptors,
             grid=np.clip(np.round(f.grid * 15), 0, 15).astype(np.uint8), codes=codes)
    import zlib
    return zlib.compress(buf.getvalue(), 6)


def test_a_version_1_row_still_verifies(original: ReceiptFingerprint) -> None:
    old = unpack_features(_as_version_1(original))
    assert isinstance(old, Features) and old.tests == 1
    q = fp_of(jpeg(receipt(), 70))
    assert q.image is not None and q.features
    assert verify(q.image, unpack_features(q.features), old)[0] >= SAME_IMAGE_THRESHOLD
    assert unpack_features(original.features or b"").tests == fpm.TEST_SET
