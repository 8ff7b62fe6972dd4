"""The labelled-dataset generator (pipeline/samples/generator.py): deterministic bytes,
honest labels (boxes with ink, OCR-readable printed fields, invalid VAT numbers that really
fail), coverage of layouts / languages / alterations, and valid claims."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from stdnum import iban as stdiban
from stdnum.eu import vat as euvat
from stdnum.no import mva as nomva

from models.claim import Claim
from pipeline.samples import photo
from pipeline.samples.generator import ALTERATIONS, LANGUAGES, LAYOUTS, generate_dataset

N = 40
SEED = 11


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("ds40")
    folders = generate_dataset(d, n=N, seed=SEED)
    assert len(folders) == N
    return folders


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _pixels(folder: Path, truth: dict) -> tuple[Image.Image, float]:
    """The receipt as pixels and the factor from truth-box units to those pixels."""
    r = truth["receipt"]
    path = folder / r["file"]
    if r["format"] == "pdf" and r.get("text_layer"):
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        img = pdf[0].render(scale=3).to_pil().convert("RGB")
        pdf.close()
        return img, 3.0
    data = path.read_bytes()
    if r["format"] == "pdf":  # image-only PDF: the embedded JPEG is the page
        data = data[data.index(b"\xff\xd8"): data.rindex(b"\xff\xd9") + 2]
    return Image.open(io.BytesIO(data)).convert("RGB"), 1.0


# ------------------------------------------------------------- determinism


def test_same_seed_same_bytes_different_seed_different(tmp_path, monkeypatch):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    monkeypatch.setenv("CLAIMCHECK_GEN_WORKERS", "1")
    generate_dataset(a, n=6, seed=5)
    monkeypatch.setenv("CLAIMCHECK_GEN_WORKERS", "2")  # the bytes must not depend on the workers
    generate_dataset(b, n=6, seed=5)
    generate_dataset(c, n=6, seed=6)
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert len(fa) == 6 * 5
    assert fa.keys() == fb.keys()
    diff = [k for k in fa if fa[k] != fb[k]]
    assert diff == []
    assert sorted(fa.items()) != sorted(fc.items())
    # not just different folder names: the receipts differ
    ra = sorted(v for k, v in fa.items() if "/receipt." in k)
    rc = sorted(v for k, v in fc.items() if "/receipt." in k)
    assert set(ra).isdisjoint(rc)


# ---------------------------------------------------------------- coverage


def test_every_layout_and_language_appears(ds):
    truths = [_truth(f) for f in ds]
    assert {t["receipt"]["layout"] for t in truths} == set(LAYOUTS)
    assert len(LAYOUTS) >= 8
    assert {t["receipt"]["language"] for t in truths} == set(LANGUAGES)


def test_every_alteration_type_is_produced_with_its_box_inside(ds):
    seen = set()
    for f in ds:
        t = _truth(f)
        exp = json.loads((f / "expected.json").read_text())
        assert bool(t["alterations"]) == t["tamper"] == bool(exp.get("tamper"))
        if t["tamper"]:
            assert exp["status"] == "review" and exp["codes"] == []
        w, h = t["receipt"]["size"]
        for a in t["alterations"]:
            seen.add(a["type"])
            if a["type"] == "editor_metadata":
                assert a["box"] is None
                continue
            x0, y0, x1, y1 = a["box"]
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (f.name, a)
    assert seen == set(ALTERATIONS)


def test_some_receipts_are_rotated_by_quarter_turns(ds):
    angles = {d.get("angle") for f in ds for d in _truth(f)["receipt"]["degradations"]
              if d["type"] == "rotation" and d.get("kind") == "quarter"}
    assert angles & {90, 180}


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize("i", range(N))
def test_claim_validates_and_files_exist(ds, i):
    f = ds[i]
    claim = Claim.model_validate_json((f / "claim.json").read_text(encoding="utf-8"))
    assert claim.claim_id == f.name
    assert (f / claim.files.receipt).is_file() and (f / claim.files.receipt).stat().st_size > 0
    assert (f / claim.files.serial_photo).is_file()
    assert stdiban.is_valid(claim.claimant.bank.iban)
    t = _truth(f)
    assert claim.declared.serial_number == t["serial"]["label"]


def test_serials_emails_ibans_are_distinct(ds):
    claims = [json.loads((f / "claim.json").read_text()) for f in ds]
    for key in (lambda c: c["declared"]["serial_number"], lambda c: c["claimant"]["email"],
                lambda c: c["claimant"]["bank"]["iban"]):
        vals = [key(c) for c in claims]
        assert len(set(vals)) == len(vals)


def _ink(img: Image.Image, box, scale: float) -> float:
    """How much darker the darkest pixels of the box are than its background."""
    x0, y0, x1, y1 = (v * scale for v in box)
    g = np.asarray(img.convert("L").crop((int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))), dtype=np.float32)
    if g.size == 0:
        return 0.0
    return float(np.percentile(g, 90) - np.percentile(g, 3))


@pytest.mark.parametrize("i", range(N))
def test_field_boxes_lie_inside_and_contain_ink(ds, i):
    f = ds[i]
    t = _truth(f)
    img, s = _pixels(f, t)
    w, h = t["receipt"]["size"]
    assert abs(img.width - w * s) <= 2 and abs(img.height - h * s) <= 2
    assert t["receipt"]["fields"]
    for fld in t["receipt"]["fields"]:
        x0, y0, x1, y1 = fld["box"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (fld["name"], fld["box"], (w, h))
        if fld["text"].strip():
            assert _ink(img, fld["box"], s) > 25, (f.name, fld["name"], fld["text"])


def test_box_mapping_through_quarter_rotations():
    img = Image.new("RGB", (300, 200), (255, 255, 255))
    box = (40, 30, 90, 60)
    ImageDraw.Draw(img).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=(0, 0, 0))
    for deg in (90, 180, 270):
        out, H = photo.rotate_quarter(img, deg)
        b = photo.transform_box(box, H, out.size)
        a = np.asarray(out.convert("L"))
        ys, xs = np.nonzero(a < 128)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == b, deg


def test_invalid_vat_numbers_really_fail_stdnum(ds):
    n_invalid = n_valid = 0
    for f in ds:
        for fld in _truth(f)["receipt"]["fields"]:
            if fld["name"] != "reseller_vat":
                continue
            v = fld["value"]
            ok = nomva.is_valid(v) if v.startswith("NO") else euvat.is_valid(v)
            assert ok == (fld["checksum"] == "valid"), (f.name, v, fld["checksum"])
            n_invalid += fld["checksum"] == "invalid"
            n_valid += fld["checksum"] == "valid"
            digits = re.sub(r"\D", "", v)
            assert digits[:6] in re.sub(r"\D", "", fld["text"])  # the printed label carries the number
    assert n_invalid >= 1 and n_valid >= 10


def test_pdf_incremental_edit_keeps_the_original_revision(ds):
    hits = 0
    for f in ds:
        for a in _truth(f)["alterations"]:
            if a["type"] != "pdf_incremental_edit":
                continue
            hits += 1
            data = (f / "receipt.pdf").read_bytes()
            assert data.count(b"%%EOF") == 2
            assert len(re.findall(rb"(?m)^xref\s*$", data)) == 2
            assert b"/Prev " in data[data.rindex(b"trailer"):]
            first = data[: a["detail"]["original_bytes"]]
            assert f"({a['detail']['old_text']}) Tj".encode() in first
            assert f"({a['detail']['new_text']}) Tj".encode() in data[a["detail"]["original_bytes"]:]
            import pdfplumber

            with pdfplumber.open(f / "receipt.pdf") as pdf:  # a reader sees the edited revision
                words = " ".join(w["text"] for w in pdf.pages[0].extract_words())
            assert a["detail"]["new_text"] in words and a["detail"]["old_text"] not in words
    assert hits >= 1


def test_editor_metadata_is_readable(ds):
    hits = 0
    for f in ds:
        t = _truth(f)
        for a in t["alterations"]:
            if a["type"] != "editor_metadata":
                continue
            hits += 1
            path = f / t["receipt"]["file"]
            if t["receipt"]["format"] == "pdf":
                import pypdfium2 as pdfium

                meta = pdfium.PdfDocument(str(path)).get_metadata_dict()
                assert meta["Producer"] == a["detail"]["Producer"]
            else:
                im = Image.open(path)
                assert im.getexif()[0x0131] == a["detail"]["Software"]
    assert hits >= 1


def test_clean_receipts_carry_no_editor_software(ds):
    for f in ds:
        t = _truth(f)
        if t["tamper"] or t["receipt"]["format"] not in ("png", "jpeg"):
            continue
        assert 0x0131 not in Image.open(f / t["receipt"]["file"]).getexif()


def test_expected_follows_the_scenario(ds):
    for f in ds:
        t = _truth(f)
        exp = json.loads((f / "expected.json").read_text())
        if t["tamper"]:
            continue
        if t["scenario"] == "approve":
            assert exp == {"status": "approve", "codes": [], "why": exp["why"]}
            assert t["serial"]["handwritten"] in (None, t["serial"]["label"])
        if t["scenario"] == "serial_mismatch":
            _assert_a_serial_really_differs(f, t)
        if t["scenario"] == "invalid_vat":
            assert exp["codes"] == ["RESELLER_VAT_INVALID"]


def _assert_a_serial_really_differs(folder: Path, t: dict) -> None:
    claim = json.loads((folder / "claim.json").read_text())
    serial = t["serial"]
    assert claim["declared"]["serial_number"] == serial["declared"]
    written_differs = serial["handwritten"] is not None and serial["handwritten"] != serial["label"]
    declared_differs = serial["declared"] != serial["label"]
    assert written_differs or declared_differs, serial


def test_a_serial_mismatch_without_a_pen_is_on_the_claim_form(tmp_path):
    """A web-shop PDF carries no handwriting: its serial mismatch must be the declared serial (it used to be a
    claim with nothing mismatching, labelled review)."""
    from pipeline.campaigns import load_campaigns
    from pipeline.samples.generator import build_claim, make_plan

    plans = [p for p in make_plan(300, 11, load_campaigns())
             if p.scenario == "serial_mismatch" and p.layout == "webshop_pdf"]
    assert plans, "seed 11 plans web-shop serial mismatches"
    folder = build_claim(plans[0], tmp_path, 11)
    t = _truth(folder)
    assert t["serial"]["handwritten"] is None
    _assert_a_serial_really_differs(folder, t)
    assert t["serial"]["label"] == plans[0].serial
    assert sum(a != b for a, b in zip(t["serial"]["declared"], t["serial"]["label"], strict=True)) == 2


# ------------------------------------------------------------------- OCR


def _ocr(img: Image.Image) -> str:
    import pytesseract

    return pytesseract.image_to_string(img, lang="eng", config="--psm 7")


@pytest.mark.slow
def test_tesseract_reads_printed_fields_of_clean_png_receipts(ds):
    checked = 0
    for f in ds:
        t = _truth(f)
        r = t["receipt"]
        if r["format"] != "png" or r["degradations"] or t["tamper"]:
            continue
        img, _ = _pixels(f, t)
        for name in ("total", "receipt_number"):
            fld = next((x for x in r["fields"] if x["name"] == name), None)
            if fld is None:
                continue
            x0, y0, x1, y1 = fld["box"]
            crop = img.crop((max(0, x0 - 8), max(0, y0 - 8), x1 + 8, y1 + 8))
            crop = crop.resize((crop.width * 2, crop.height * 2), Image.Resampling.LANCZOS)
            got = re.sub(r"[^0-9]", "", _ocr(crop))
            want = re.sub(r"[^0-9]", "", fld["text"])
            if name == "total":  # the amount as printed: value 1234.50 -> digits 123450
                want = re.sub(r"[^0-9]", "", fld["value"])
            assert want and want in got, (f.name, name, fld["text"], got)
            checked += 1
        if checked >= 8:
            break
    assert checked >= 4
