"""Dataset readers of `claimcheck eval` on tiny fake datasets, and the runner's
handling of bad items."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.eval import adapters, runner
from pipeline.eval.adapters import Dataset, Item, detect, load_claims, load_sroie, sroie_gst_numbers

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_receipts"
SROIE = ROOT.parent / "shared" / "datasets" / "sroie-dev"

GST_LINES = "10,10,90,10,90,20,10,20,GST REG NO: 001637511168\n10,30,90,30,90,40,10,40,TOTAL 15.90\n"


def make_sroie(root: Path, n: int = 2, *, real_images: bool = False) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "ocr_lines").mkdir()
    labels = [{"company": "HOME MASTER HARDWARE & ELECTRICAL", "date": "22/12/2017", "total": "RM15.90",
               "address": "x"},
              {"company": "10 GRAM GOURMET SBN BHD", "date": "30 DEC 17", "total": "73.00", "address": "y"}]
    real = sorted((SROIE / "images").glob("*.jpg")) if real_images else []
    for i in range(n):
        stem = real[i].stem if real else f"X{i:03d}"
        if real:
            shutil.copy(real[i], root / "images" / f"{stem}.jpg")
            shutil.copy(SROIE / "labels" / f"{stem}.json", root / "labels" / f"{stem}.json")
            shutil.copy(SROIE / "ocr_lines" / f"{stem}.txt", root / "ocr_lines" / f"{stem}.txt")
        else:
            (root / "images" / f"{stem}.jpg").write_bytes(b"\xff\xd8\xff\xe0fake")
            (root / "labels" / f"{stem}.json").write_text(json.dumps(labels[i % 2]))
            (root / "ocr_lines" / f"{stem}.txt").write_text(GST_LINES if i == 0 else "1,1,2,1,2,2,1,2,THANK YOU\n")
    (root / "companies.txt").write_text("HOME MASTER HARDWARE & ELECTRICAL\n10 GRAM GOURMET SBN BHD\n")
    return root


def make_claims(root: Path, names: tuple[str, ...] = ("01-sigma-approve-till",)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copytree(SAMPLES / name, root / name)
    return root


# ----------------------------------------------------------------- detection

def test_detect(tmp_path):
    assert detect(make_sroie(tmp_path / "s")) == "sroie"
    assert detect(make_claims(tmp_path / "c")) == "claims"
    assert detect(tmp_path / "c" / "01-sigma-approve-till") == "claims"  # one claim folder
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither"):
        detect(tmp_path / "empty")


# ----------------------------------------------------------------- SROIE

def test_load_sroie(tmp_path):
    ds = load_sroie(make_sroie(tmp_path / "s"))
    assert ds.kind == "sroie"
    assert [it.id for it in ds.items] == ["X000", "X001"]
    assert ds.fields == ("company", "date", "total", "gst_number")
    assert ds.items[0].truth["gst_numbers"] == ["001637511168"]
    assert ds.items[1].truth["gst_numbers"] == []
    assert len(ds.jobs) == 2
    assert ds.jobs[0][2].names == ("HOME MASTER HARDWARE & ELECTRICAL", "10 GRAM GOURMET SBN BHD")
    assert len(load_sroie(tmp_path / "s", limit=1).items) == 1


def test_sroie_without_transcripts_is_found_rate_only(tmp_path):
    root = make_sroie(tmp_path / "s")
    shutil.rmtree(root / "ocr_lines")
    ds = load_sroie(root)
    assert "gst_number" not in ds.fields
    assert ds.unlabelled["gst_number"]["check"] == "found rate only"


@pytest.mark.parametrize(("lines", "found"), [
    (["GST REG NO: 001637511168"], ["001637511168"]),
    (["GST NO.", "000584089600"], ["000584089600"]),
    (["(GST REG NO. 001492992000)", "GST ID : 001492992000"], ["001492992000"]),
    (["TEL 03-12345678", "TOTAL 123456789012"], []),  # 12 digits, but not on a GST line
    (["GST 6%  1.20"], []),
])
def test_sroie_gst_numbers(lines, found):
    assert sroie_gst_numbers(lines) == found


def _ok(fields):
    return {"status": "ok", "fields": fields, "timings": {"ocr": 1.0, "extract": 0.2, "total": 1.3},
            "maxrss_kb": 2048, "pid": 7}


def test_score_sroie_right_and_wrong(tmp_path):
    ds = load_sroie(make_sroie(tmp_path / "s"))
    res = _ok({"reseller_match": {"value": "Home Master Hardware & Electrical", "confidence": 0.91},
               "purchase_date": {"value": "2017-12-22", "confidence": 0.97},
               "total": {"value": "15.00", "confidence": 0.6},
               "reseller_vat": {"value": "001637511168", "confidence": 0.8}})
    s = ds.score(ds.items[0], res)
    out = {r.field: r.outcome for r in s.records}
    assert out == {"company": "tp", "date": "tp", "total": "wrong", "gst_number": "tp"}
    assert s.match == (0.91, True)
    assert s.timings["total"] == 1.3 and s.maxrss_kb == 2048 and s.pid == 7
    wrong = next(r for r in s.records if r.field == "total")
    assert (wrong.expected, wrong.got, wrong.confidence) == ("RM15.90", "15.00", 0.6)


def test_score_sroie_gst_found_where_none_is_printed(tmp_path):
    ds = load_sroie(make_sroie(tmp_path / "s"))
    s = ds.score(ds.items[1], _ok({"reseller_vat": {"value": "001637511168", "confidence": 0.5}}))
    out = {r.field: r.outcome for r in s.records}
    assert out == {"company": "fn", "date": "fn", "total": "fn", "gst_number": "fp"}
    assert s.match == (None, False)


def test_score_sroie_error_result_is_wrong_everywhere(tmp_path):
    ds = load_sroie(make_sroie(tmp_path / "s"))
    s = ds.score(ds.items[0], adapters.error_result("X000", "FILE_CORRUPT", "cannot decode"))
    assert {r.outcome for r in s.records} == {"error"}
    assert len(s.records) == 4
    assert "FILE_CORRUPT" in (s.error or "")


def test_unreadable_sroie_label_is_an_error_item(tmp_path):
    root = make_sroie(tmp_path / "s")
    (root / "labels" / "X001.json").write_text("{not json")
    ds = load_sroie(root)
    assert ds.items[1].problem
    assert len(ds.jobs) == 1  # not run
    s = ds.score(ds.items[1], adapters.error_result("X001", "NOT_RUN"))
    assert {r.outcome for r in s.records} == {"error"}
    assert "label unreadable" in (s.error or "")


# ----------------------------------------------------------------- generated claims

def test_load_claims_with_a_copied_sample(tmp_path):
    root = make_claims(tmp_path / "c", ("01-sigma-approve-till", "02-sigma-approve-phone-photo"))
    ds = load_claims(root)
    assert ds.kind == "claims"
    assert [it.id for it in ds.items] == ["01-sigma-approve-till", "02-sigma-approve-phone-photo"]
    it = ds.items[0]
    assert it.expected_status == "approve"
    assert it.groups == {"layout": ["till"], "language": ["da"], "degradation": ["none"]}
    assert "phone_photo" in ds.items[1].groups["degradation"]
    assert "gaussian_blur" in ds.items[1].groups["degradation"]  # parameters stripped
    assert "label_serial" in ds.fields and "serial_handwritten" in ds.fields
    assert sum(len(j[0]) for j in ds.jobs) == 2


def _verdict(status="approve", **fields):
    return {"status": "ok", "pid": 1, "maxrss_kb": 1024,
            "document_kind": {"value": "till_receipt", "confidence": 0.9},
            "reseller_match": {"id": "dk-fotohuset", "score": 0.93},
            "verdict": {"status": status, "matched_reseller": "dk-fotohuset",
                        "timings": {"read_receipt": 1.0, "extract": 2.0},
                        "fields": {k: {"value": v, "confidence": 0.9} for k, v in fields.items()}}}


GOOD = {"reseller_name": "Fotohuset Norrebro ApS", "reseller_vat": "DK 12972997", "purchase_date": "2022-10-14",
        "receipt_number": "10234", "total": "9447.00", "serial_handwritten": "39552135",
        "label_serial_barcode": "39552135"}


def test_score_claim_all_right(tmp_path):
    ds = load_claims(make_claims(tmp_path / "c"))
    s = ds.score(ds.items[0], _verdict(**GOOD))
    assert {r.field: r.outcome for r in s.records} == {f: "tp" for f in ds.fields}
    assert s.status == ("approve", "approve")
    assert s.match == (0.93, True)
    assert s.timings["total"] == pytest.approx(3.0)


@pytest.mark.parametrize(("change", "field", "want"), [
    ({"total": "9.447,00"}, "total", "tp"),
    ({"total": "9447.50"}, "total", "wrong"),
    ({"purchase_date": "2022-10-15"}, "purchase_date", "wrong"),
    ({"reseller_vat": None}, "reseller_vat", "fn"),
    ({"serial_handwritten": "39552136"}, "serial_handwritten", "wrong"),
    ({"label_serial_barcode": None, "label_serial_text": "3955 2135"}, "label_serial", "tp"),
])
def test_score_claim_field_outcomes(tmp_path, change, field, want):
    ds = load_claims(make_claims(tmp_path / "c"))
    fields = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    s = ds.score(ds.items[0], _verdict(**fields))
    assert {r.field: r.outcome for r in s.records}[field] == want


def test_reseller_name_right_by_similarity_or_by_id(tmp_path):
    ds = load_claims(make_claims(tmp_path / "c"))
    res = _verdict(**{**GOOD, "reseller_name": "Some Other Shop"})
    assert {r.field: r.outcome for r in ds.score(ds.items[0], res).records}["reseller_name"] == "tp"  # by id
    res["verdict"]["matched_reseller"] = None
    assert {r.field: r.outcome for r in ds.score(ds.items[0], res).records}["reseller_name"] == "wrong"
    res = _verdict(**GOOD)
    res["verdict"]["matched_reseller"] = None
    assert {r.field: r.outcome for r in ds.score(ds.items[0], res).records}["reseller_name"] == "tp"  # similar


def test_handwritten_serial_returned_where_there_is_none_is_a_false_positive(tmp_path):
    ds = load_claims(make_claims(tmp_path / "c", ("14-sigma-incomplete-no-handwritten-serial",)))
    s = ds.score(ds.items[0], _verdict(status="incomplete", serial_handwritten="44838778"))
    r = next(r for r in s.records if r.field == "serial_handwritten")
    assert r.outcome == "fp" and r.expected is None
    s = ds.score(ds.items[0], _verdict(status="incomplete"))
    assert next(r for r in s.records if r.field == "serial_handwritten").outcome == "tn"


def test_unreadable_truth_is_scored_as_an_error(tmp_path):
    root = make_claims(tmp_path / "c", ("01-sigma-approve-till", "05-sigma-reject-model-not-in-campaign"))
    (root / "05-sigma-reject-model-not-in-campaign" / "truth.json").write_text("{")
    ds = load_claims(root)
    bad = ds.items[1]
    assert bad.problem
    s = ds.score(bad, adapters.error_result(bad.id, "NOT_RUN"))
    assert {r.outcome for r in s.records} == {"error"}
    assert s.status == ("unknown", "error")


# ----------------------------------------------------------------- runner with fake workers

def fake_worker(job):
    ids = job
    if "boom" in ids:
        raise RuntimeError("worker died")
    return [{"id": i, "status": "ok", "value": i.upper(), "pid": os.getpid(), "maxrss_kb": 1000} for i in ids]


def _fake_score(item, res):
    from pipeline.eval.metrics import FieldRecord

    if res.get("status") != "ok":
        return adapters.DocScore(records=[FieldRecord(item.id, "f", "error", expected="x")], timings={},
                                 error=res.get("reason"))
    ok = res["value"] == item.truth["f"]
    return adapters.DocScore(records=[FieldRecord(item.id, "f", "tp" if ok else "wrong", "x", res["value"], 0.9)],
                             timings={"total": 1.0}, pid=res["pid"], maxrss_kb=res["maxrss_kb"])


def fake_dataset(tmp_path):
    items = [Item(id=i, path=tmp_path, truth={"f": t}) for i, t in
             (("a", "A"), ("b", "X"), ("boom", "BOOM"), ("c", "C"))]
    return Dataset(kind="fake", name="fake", root=tmp_path, items=items, fields=("f",), field_notes={},
                   jobs=[["a", "b"], ["boom"], ["c"]], worker=fake_worker, job_items=lambda j: list(j),
                   score=_fake_score)


@pytest.mark.parametrize("workers", [1, 2])
def test_runner_survives_a_crashing_job(tmp_path, workers):
    run = runner.run(fake_dataset(tmp_path), workers=workers)
    out = {k: [r.outcome for r in d.records] for k, d in run.docs.items()}
    assert out == {"a": ["tp"], "b": ["wrong"], "boom": ["error"], "c": ["tp"]}
    assert run.docs["boom"].error == "RuntimeError"


# ----------------------------------------------------------------- the real thing (OCR)

@pytest.mark.slow
@pytest.mark.skipif(not (SROIE / "images").is_dir(), reason="SROIE dev set not present")
def test_real_eval_on_two_sroie_images_and_one_claim(tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from pipeline.eval.cli import eval_command, run_eval

    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    s, out = run_eval(make_sroie(tmp_path / "sroie", real_images=True), tmp_path / "run-s", workers=1,
                      progress=False)
    assert s["overall"]["documents"] == 2 and s["overall"]["errors"] == 0
    assert set(s["fields"]) == {"company", "date", "total", "gst_number"}
    assert s["timings"]["ocr"]["n"] == 2 and s["memory"]["peak_mb"] > 50
    assert "found_rate" in s["unlabelled"]["gst_number"]
    assert (out / "report.html").is_file() and (out / "field_accuracy.png").is_file()

    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("other")(lambda: None)
    claims = make_claims(tmp_path / "claims")
    res = CliRunner().invoke(app, ["eval", str(claims), "--out", str(tmp_path / "run-c"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    c = json.loads((tmp_path / "run-c" / "summary.json").read_text())
    assert c["confusion"]["n"] == 1
    assert c["fields"]["purchase_date"]["n"] == 1
    assert c["documents"]["01-sigma-approve-till"]["status"][0] == "approve"
    assert "read_receipt" in c["timings"]


@pytest.mark.parametrize(("truth", "groups"), [
    ({"receipt": {"layout": "till", "language": "da", "degradations": []}},
     {"layout": ["till"], "language": ["da"], "degradation": ["none"]}),
    ({"receipt": {"layout": "invoice", "language": "da",
                  "degradations": ["scan_skew_0.04deg", "gaussian_blur_0.6", "jpeg_q88_in_pdf", "paper_tone"]}},
     {"layout": ["invoice"], "language": ["da"], "degradation": ["gaussian_blur", "jpeg", "paper_tone", "scan_skew"]}),
    ({"scenario": "demo", "receipt": {"layout": "till_58mm", "language": "sv",
                                      "degradations": [{"type": "blur", "sigma": 1.1}, {"type": "jpeg", "quality": 80}]}},
     {"layout": ["till_58mm"], "language": ["sv"], "degradation": ["blur", "jpeg"], "scenario": ["demo"]}),
])
def test_claim_groups_from_truth(truth, groups):
    assert adapters._claim_groups(truth) == groups
