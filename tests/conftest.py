"""Shared fixtures: campaigns, and a factory that writes claim folders."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pipeline.campaigns import load_campaigns

# tests never touch the project's data/ folder (claims store, Prefect home)
os.environ.setdefault("CLAIMCHECK_DATA_DIR", tempfile.mkdtemp(prefix="claimcheck-test-data-"))

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory, monkeypatch):
    """Each test gets its own data folder, so its claims store starts empty."""
    import pipeline.screen as screen

    monkeypatch.setenv("CLAIMCHECK_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    # a developer's own store or OCR cache never leaks into a test (tests that want one set it)
    monkeypatch.delenv("CLAIMCHECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLAIMCHECK_OCR_CACHE_DIR", raising=False)
    monkeypatch.setattr(screen, "_STORES", {})


@pytest.fixture(scope="session")
def campaigns():
    return load_campaigns()


@pytest.fixture(scope="session")
def sigma(campaigns):
    return campaigns["sigma-dk-autumn-2022"]


@pytest.fixture(scope="session")
def sony_no(campaigns):
    return campaigns["sony-no-refusjon-2022"]


@pytest.fixture(scope="session")
def sony_ro(campaigns):
    return campaigns["sony-ro-cashback-2018"]


def claim_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "claim_id": "c-1",
        "campaign_id": "sigma-dk-autumn-2022",
        "submitted_at": "2022-10-20T10:00:00+02:00",
        "declared": {"product_model": "85MM F/1.4 DG DN ART SONY E/FE", "serial_number": "54218873",
                     "purchase_date": "2022-10-14", "reseller": "Fotohuset Nørrebro ApS", "receipt_number": "10234"},
        "claimant": {"name": "Test Person", "email": "test.person@example.com", "country": "DK",
                     "bank": {"iban": "DK5000400440116243", "bank_country": "DK"}},
        "files": {"receipt": "receipt.png", "serial_photo": None},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def unique_claimant(n: int) -> dict[str, Any]:
    """A distinct claimant (e-mail and a checksum-valid DK IBAN) for claim n, so
    that the claims store's per-claimant limits do not join unrelated test claims."""
    from stdnum import iban

    bban = f"0040044011{n:04d}"
    return {"name": f"Test Person {n}", "email": f"person{n}@example.com", "country": "DK",
            "bank": {"iban": f"DK{iban.calc_check_digits('DK00' + bban)}{bban}", "bank_country": "DK"}}


@pytest.fixture
def make_claim(tmp_path: Path):
    """make_claim({"receipt.png": bytes}, **claim overrides) -> claim folder (claim_id = folder name)."""
    counter = {"n": 0}

    def _make(uploads: dict[str, bytes] | None = None, **over: Any) -> Path:
        counter["n"] += 1
        d = tmp_path / f"claim-{counter['n']}"
        d.mkdir()
        data = claim_data(**{"claim_id": d.name, "claimant": unique_claimant(counter["n"]), **over})
        (d / "claim.json").write_text(json.dumps(data))
        for name, content in (uploads or {}).items():
            (d / name).write_bytes(content)
        return d

    return _make
