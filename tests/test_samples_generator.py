"""The sample-claim generator: valid claims, honest truth files, deterministic output."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stdnum import iban as stdiban

from models.claim import Claim
from pipeline.campaigns import load_campaigns
from pipeline.reasons import CATALOGUE
from pipeline.samples import generate_sample_claims
from pipeline.samples.scenarios import SCENARIOS, generate

FOLDERS = [sc.folder for sc in SCENARIOS]
BY_FOLDER = {sc.folder: sc for sc in SCENARIOS}
# a subset covering every output path (PNG till, phone JPEG, text PDF, scanned PDF, GIF, empty)
DETERMINISM_SUBSET = ("01-sigma-approve-till", "02-sigma-approve-phone-photo", "03-sony-no-approve-pdf-invoice",
                      "04-sigma-approve-scanned-pdf", "16-bad-zero-byte-receipt", "17-bad-renamed-gif")
MAGIC = {"png": b"\x89PNG", "jpeg": b"\xff\xd8\xff", "pdf": b"%PDF", "gif": b"GIF8"}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("samples")
    folders = generate_sample_claims(d)
    assert [f.name for f in folders] == FOLDERS
    return d


def _load(out: Path, folder: str, name: str) -> dict:
    return json.loads((out / folder / name).read_text(encoding="utf-8"))


def _receipt_image(path: Path, truth: dict) -> Image.Image:
    """The receipt as pixels: the image itself, or the JPEG embedded in an image-only PDF."""
    data = path.read_bytes()
    if truth["format"] == "pdf":
        assert truth.get("text_layer") is False
        i, j = data.index(b"\xff\xd8"), data.rindex(b"\xff\xd9") + 2
        data = data[i:j]
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_at_least_sixteen_scenarios_with_unique_folders():
    assert len(FOLDERS) >= 16
    assert len(set(FOLDERS)) == len(FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_claim_validates_and_names_existing_files(out, folder):
    claim = Claim.model_validate(_load(out, folder, "claim.json"))
    assert claim.claim_id == folder
    assert claim.campaign_id == BY_FOLDER[folder].campaign_id
    assert claim.submitted_at.utcoffset() is not None
    assert claim.claimant.email.endswith("@example.com")
    receipt = out / folder / claim.files.receipt
    assert receipt.is_file()
    if folder == "16-bad-zero-byte-receipt":
        assert receipt.stat().st_size == 0
    else:
        assert receipt.stat().st_size > 1000
    if claim.files.serial_photo:
        sp = out / folder / claim.files.serial_photo
        assert sp.read_bytes()[:3] == MAGIC["jpeg"]
    for f in (out / folder).iterdir():
        assert f.stat().st_size < 1_500_000, f


@pytest.mark.parametrize("folder", FOLDERS)
def test_expected_codes_are_in_the_catalogue(out, folder):
    exp = _load(out, folder, "expected.json")
    assert set(exp) == {"status", "codes", "why"}
    assert exp["status"] in {"approve", "incomplete", "review", "reject"}
    assert exp["why"].strip()
    for code in exp["codes"]:
        assert code in CATALOGUE
    if exp["status"] == "approve":
        assert exp["codes"] == []
    else:
        assert exp["codes"]
        assert exp["status"] in {CATALOGUE[c][0].value for c in exp["codes"]}


@pytest.mark.parametrize("folder", FOLDERS)
def test_iban_is_valid_and_from_the_bank_country(out, folder):
    claim = Claim.model_validate(_load(out, folder, "claim.json"))
    bank = claim.claimant.bank
    assert stdiban.is_valid(bank.iban)
    assert stdiban.compact(bank.iban)[:2] == bank.bank_country


@pytest.mark.parametrize("folder", FOLDERS)
def test_only_the_rule_under_test_is_broken(out, folder):
    """Everything a scenario does not test is clean, so only the intended reasons fire."""
    campaign = load_campaigns()[BY_FOLDER[folder].campaign_id]
    claim = Claim.model_validate(_load(out, folder, "claim.json"))
    codes = set(_load(out, folder, "expected.json")["codes"])
    truth = _load(out, folder, "truth.json")
    purchase = claim.declared.purchase_date
    in_window = campaign.purchase_start <= purchase <= campaign.purchase_end
    assert in_window == ("PURCHASE_OUTSIDE_WINDOW" not in codes)
    local_submit = claim.submitted_at.date()
    if campaign.claim_end:
        assert local_submit <= campaign.claim_end
    assert local_submit >= purchase
    early = (local_submit - purchase).days < campaign.claim_min_days_after_purchase
    assert early == ("CLAIM_TOO_EARLY" in codes)
    assert truth["eligible_sku"] == ("SKU_NOT_ELIGIBLE" not in codes)
    names = {r.name for r in campaign.resellers}
    assert (claim.declared.reseller in names) == ("EXCLUDED_CHANNEL" not in codes)
    if campaign.payout_bank_countries:
        ok = claim.claimant.bank.bank_country in campaign.payout_bank_countries
        assert ok == ("PAYOUT_BANK_COUNTRY" not in codes)
    s = truth["serial"]
    assert s["declared"] == s["label"] == claim.declared.serial_number
    assert re.fullmatch(campaign.serial_pattern, s["label"])
    if campaign.handwritten_serial_required and "RECEIPT_FIELD_MISSING" not in codes and "FILE_EMPTY" not in codes:
        assert s["handwritten"]
    if s["handwritten"]:
        diff = sum(a != b for a, b in zip(s["handwritten"], s["label"], strict=True))
        assert diff == (2 if "SERIAL_MISMATCH" in codes else 0)


@pytest.mark.parametrize("folder", FOLDERS)
def test_truth_fields_match_the_claim_and_boxes_lie_inside(out, folder):
    claim = Claim.model_validate(_load(out, folder, "claim.json"))
    truth = _load(out, folder, "truth.json")
    rec = truth["receipt"]
    assert rec["file"] == claim.files.receipt
    path = out / folder / rec["file"]
    if rec["format"] == "empty":
        assert rec["fields"] == []
        return
    assert path.read_bytes()[:4].startswith(MAGIC[rec["format"]])
    if rec["coordinate_space"] == "pdf_points_top_left":
        w, h = rec["size"]
    else:
        img = _receipt_image(path, rec)
        assert list(img.size) == rec["size"]
        w, h = img.size
    assert rec["fields"]
    for f in rec["fields"]:
        x0, y0, x1, y1 = f["box"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, f
    by_name = {}
    for f in rec["fields"]:
        by_name.setdefault(f["name"], []).append(f)
    assert by_name["purchase_date"][0]["value"] == claim.declared.purchase_date.isoformat()
    assert by_name["reseller_name"][0]["value"] == claim.declared.reseller
    if claim.declared.receipt_number:
        assert by_name["receipt_number"][0]["value"] == claim.declared.receipt_number
    codes = _load(out, folder, "expected.json")["codes"]
    assert ("reseller_vat" in by_name) == (folder != "08-sony-no-incomplete-no-vat")
    assert ("condition_flag" in by_name) == ("PRODUCT_NOT_NEW" in codes)
    assert ("order_number" in by_name) == (rec["document_kind"] == "order_confirmation" or rec["layout"] == "amazon")
    hw = by_name.get("serial_handwritten")
    assert (hw is not None) == bool(truth["serial"]["handwritten"])
    if hw:
        assert hw[0]["value"] == truth["serial"]["handwritten"]
    if truth["serial_photo"]:
        sp = truth["serial_photo"]
        limg = Image.open(out / folder / sp["file"])
        assert list(limg.size) == sp["size"]
        for box in sp["boxes"].values():
            assert 0 <= box[0] < box[2] <= limg.width and 0 <= box[1] < box[3] <= limg.height


HANDWRITTEN = [f for f in FOLDERS if BY_FOLDER[f].handwritten and BY_FOLDER[f].output not in ("empty", "pdf_text")]


@pytest.mark.parametrize("folder", HANDWRITTEN)
def test_handwritten_serial_box_contains_ink(out, folder):
    truth = _load(out, folder, "truth.json")
    rec = truth["receipt"]
    img = np.asarray(_receipt_image(out / folder / rec["file"], rec), dtype=np.int16)
    (hw,) = [f for f in rec["fields"] if f["name"] == "serial_handwritten"]
    x0, y0, x1, y1 = hw["box"]
    crop = img[y0:y1, x0:x1]
    if hw["ink"] == "blue":
        ink = (crop[..., 2] - crop[..., 0] > 40) & (crop[..., 0] < 140)
    else:
        ink = crop.max(axis=2) < 120
    assert ink.sum() > 0.04 * crop.shape[0] * crop.shape[1]
    # the ink is the serial's size on paper: digits 40-80 px high on a slip, the box as wide as several digits
    assert 40 <= y1 - y0 <= 260 and x1 - x0 > 200
    # and a box of the same size well above the handwriting holds no blue ink at all
    if hw["ink"] == "blue":
        above = img[max(0, y0 - 3 * (y1 - y0)):max(0, y0 - 2 * (y1 - y0)), x0:x1]
        assert ((above[..., 2] - above[..., 0] > 40) & (above[..., 0] < 140)).sum() == 0


def test_pdf_invoice_has_a_text_layer_with_the_vat_number(out):
    pdfplumber = pytest.importorskip("pdfplumber")
    folder = "03-sony-no-approve-pdf-invoice"
    truth = _load(out, folder, "truth.json")
    with pdfplumber.open(out / folder / "receipt.pdf") as pdf:
        page = pdf.pages[0]
        text = page.extract_text()
        words = page.extract_words()
    assert "Org.nr. 918 057 889 MVA" in text
    assert "Fjordfoto AS" in text
    (vat,) = [f for f in truth["receipt"]["fields"] if f["name"] == "reseller_vat"]
    first = next(w for w in words if w["text"] == "Org.nr.")
    assert abs(first["x0"] - vat["box"][0]) < 1.5 and abs(first["top"] - vat["box"][1]) < 3


def test_generation_is_byte_identical(out, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, only=DETERMINISM_SUBSET)
    generate(b, only=DETERMINISM_SUBSET)
    for folder in DETERMINISM_SUBSET:
        files = sorted(p.name for p in (a / folder).iterdir())
        assert files == sorted(p.name for p in (b / folder).iterdir())
        for name in files:
            ab = (a / folder / name).read_bytes()
            assert ab == (b / folder / name).read_bytes(), f"{folder}/{name}"
            # and identical to the full run (a subset run does not shift anyone's random numbers)
            assert ab == (out / folder / name).read_bytes(), f"{folder}/{name}"


def test_a_different_seed_changes_the_serials(tmp_path):
    generate(tmp_path / "s1", seed=1, only=("16-bad-zero-byte-receipt",))
    generate(tmp_path / "s2", seed=2, only=("16-bad-zero-byte-receipt",))
    t1 = json.loads((tmp_path / "s1/16-bad-zero-byte-receipt/truth.json").read_text())
    t2 = json.loads((tmp_path / "s2/16-bad-zero-byte-receipt/truth.json").read_text())
    assert t1["serial"]["label"] != t2["serial"]["label"]
