"""Two workers screen two claims with the same serial at the same moment,
through the whole pipeline (real files, real OCR of the label photo):
exactly one approval. The claims are copies of sample 03 (a text-layer PDF
invoice, so no receipt OCR) with their own claim ids and claimants. Against
SQLite and PostgreSQL (the `db_url` fixture of the store tests). Slow: each
process loads RapidOCR for the label."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.test_store import db_url  # noqa: F401 - fixture

SAMPLE = Path(__file__).resolve().parent.parent / "sample_receipts" / "03-sony-no-approve-pdf-invoice"


def _copy(tmp: Path, n: int) -> Path:
    from stdnum import iban

    d = tmp / f"race-{n}"
    shutil.copytree(SAMPLE, d)
    data = json.loads((d / "claim.json").read_text())
    # a Norwegian account number carries its own mod-11 digit: take the first that validates
    number = next(c for c in (f"NO{iban.calc_check_digits('NO00' + b)}{b}"
                              for b in (f"1503{n:06d}{k}" for k in range(10))) if iban.is_valid(c))
    data["claim_id"] = d.name
    data["claimant"]["email"] = f"racer{n}@example.com"
    data["claimant"]["bank"] = {"iban": number, "bank_country": "NO"}
    (d / "claim.json").write_text(json.dumps(data))
    return d


def _worker(url: str, claim_dir: str, barrier: Any, out: Any) -> None:
    from pipeline.screen import screen_claim
    from pipeline.settings import Settings
    from pipeline.store import Store

    try:
        store = Store(url)
        from pipeline.ocr import get_engine

        get_engine("rapidocr")  # load the models before the race, so both reach the store together
        barrier.wait(timeout=120)
        v = screen_claim(Path(claim_dir), Settings(database_url=url, migrate_store=False), store=store)
        out.put((Path(claim_dir).name, v.status.value, v.codes))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put((Path(claim_dir).name, "error", [repr(exc)]))


@pytest.mark.slow
def test_two_workers_same_serial_exactly_one_approval(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    from pipeline.store import Store

    Store(db_url).migrate()
    dirs = [_copy(tmp_path, n) for n in (1, 2)]
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db_url, str(d), barrier, out)) for d in dirs]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    statuses = sorted(status for _, status, _ in results)
    assert statuses == ["approve", "review"], results
    loser = next(codes for _, status, codes in results if status == "review")
    assert "SERIAL_ALREADY_CLAIMED" in loser
