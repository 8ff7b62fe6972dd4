"""Duplicate receipts across claims in the claims store (Store.find_duplicates,
Store.record(..., fingerprint=...)), on SQLite and PostgreSQL (see
tests/test_store.py for CLAIMCHECK_TEST_PG_URL). Small synthetic receipts, no OCR."""

from __future__ import annotations

import hashlib
import io

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from PIL import Image
from sqlalchemy import inspect, text

from models.campaign import Campaign
from models.documents import DocumentRole, FileInfo
from models.forensics import SignalFamily
from pipeline.forensics.fingerprint import ReceiptFingerprint, content_key, fingerprint_image
from pipeline.store import Store
from pipeline.store.tables import Base
from tests.test_fingerprint import receipt
from tests.test_store import db_url, make_claim, make_verdict, sigma, store  # noqa: F401 - fixtures

OTHER = {"email": "someone.else@example.org", "iban": None, "name": "Other Person"}


def _bytes(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, fmt, **kw)
    return buf.getvalue()


def fp_for(data: bytes, key: str | None = None) -> ReceiptFingerprint:
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return fingerprint_image(img, hashlib.sha256(data).hexdigest(), content=key)


def info(data: bytes, name: str = "receipt.png") -> FileInfo:
    return FileInfo(role=DocumentRole.RECEIPT, name=name, path=f"/x/{name}", size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type="png")


def submit(store: Store, campaign: Campaign, cid: str, data: bytes, *, serial: str,  # noqa: F811
           key: str | None = None, **who: object) -> tuple[list, ReceiptFingerprint]:
    """What the pipeline does: fingerprint, look up, record with the fingerprint."""
    claim = make_claim(cid, campaign, serial=serial, **who)  # type: ignore[arg-type]
    fp = fp_for(data, key)
    found = store.find_duplicates(claim, campaign, fp)
    store.record(claim, campaign, make_verdict(claim), files=[info(data)], serial=serial, fingerprint=fp)
    return found, fp


KEY = content_key("44125282", "76660", "2022-10-25")


def test_migration_adds_the_fingerprint_tables(db_url: str) -> None:  # noqa: F811
    s = Store(db_url)
    try:
        s.migrate()
        insp = inspect(s.engine)
        assert {"receipt_fingerprints", "receipt_fingerprint_keys"} <= set(insp.get_table_names())
        assert insp.get_pk_constraint("receipt_fingerprint_keys")["constrained_columns"] == ["key", "claim_id"]
        assert {"ix_receipt_fingerprint_keys_claim_id"} <= {i["name"] for i in insp.get_indexes("receipt_fingerprint_keys")}
        cols = {c["name"] for c in insp.get_columns("receipt_fingerprints")}
        assert cols == {"claim_id", "campaign_id", "sha256", "content_key", "hashes", "features", "version",
                        "recorded_at"}
        with s.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        s.close()


def test_same_file_same_image_and_same_receipt_number(store: Store, sigma: Campaign) -> None:  # noqa: F811
    original = _bytes(receipt())
    found, _ = submit(store, sigma, "first", original, serial="11111111", key=KEY)
    assert found == []

    # the same file
    found, _ = submit(store, sigma, "again-file", original, serial="22222222", **OTHER)
    by = {s.detector: s for s in found}
    assert "duplicate.same_file" in by and by["duplicate.same_file"].other_claim == "first"
    assert all(s.family == SignalFamily.DUPLICATE and s.flagged for s in found)
    assert "duplicate.same_image" not in by  # the same file is not reported twice

    # re-saved as JPEG at half size: the same image
    small = receipt().resize((230, 380), Image.Resampling.LANCZOS)
    found, _ = submit(store, sigma, "again-scaled", _bytes(small, "JPEG", quality=70), serial="33333333",
                      email="third@example.org", iban=None)
    images = [s for s in found if s.detector == "duplicate.same_image"]
    assert {s.other_claim for s in images} >= {"first"} and all(s.score >= s.threshold for s in images)
    first = next(s for s in images if s.other_claim == "first")
    assert "first" in first.message and "example" not in first.message

    # re-typed: same reseller + number + date, different picture
    other = receipt(number="91111", date="01.11.2022", items=(("Lens cloth", "9,90"),), total="9,90",
                    extra="Kort: **** 1234")
    found, _ = submit(store, sigma, "retyped", _bytes(other), serial="44444444", key=KEY,
                      email="fourth@example.org", iban=None)
    assert [(s.detector, s.other_claim, s.field) for s in found] == [
        ("duplicate.same_receipt_number", "first", "receipt_number")]


def test_different_receipts_of_the_same_shop_do_not_match(store: Store, sigma: Campaign) -> None:  # noqa: F811
    submit(store, sigma, "a", _bytes(receipt()), serial="11111111")
    b = receipt(number="81327", date="28.10.2022", time="10:02", extra="Kort: **** 4471", serial="S/N 1234",
                items=(("Sigma 35/1.2 DG DN Art", "1 499,00"),), total="1 499,00")
    found, _ = submit(store, sigma, "b", _bytes(b), serial="22222222", **OTHER)
    assert found == []
    c = receipt(items=(("Sigma 24/1.4 DG HSM Art", "899,00"), ("Lens cloth", "9,90")), total="908,90",
                date="02.11.2022", number="80001")
    found, _ = submit(store, sigma, "c", _bytes(c, "JPEG", quality=80), serial="33333333",
                      email="c@example.org", iban=None)
    assert found == []


def test_a_rescreen_does_not_match_itself_and_replaces_its_fingerprint(store: Store, sigma: Campaign) -> None:  # noqa: F811
    data = _bytes(receipt())
    assert submit(store, sigma, "c-1", data, serial="11111111", key=KEY)[0] == []
    assert submit(store, sigma, "c-1", data, serial="11111111", key=KEY)[0] == []  # re-screened
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM receipt_fingerprints")).scalar_one() == 1
        n_keys = conn.execute(text("SELECT count(*) FROM receipt_fingerprint_keys")).scalar_one()
        assert 0 < n_keys <= 20
    # the re-screened claim is still found by a new one
    found, _ = submit(store, sigma, "c-2", data, serial="22222222", **OTHER)
    assert {s.other_claim for s in found} == {"c-1"}


def test_record_without_fingerprint_still_finds_the_same_file(store: Store, sigma: Campaign) -> None:  # noqa: F811
    data = _bytes(receipt())
    claim = make_claim("old", sigma, serial="11111111")
    store.record(claim, sigma, make_verdict(claim), files=[info(data)], serial="11111111")
    new = make_claim("new", sigma, serial="22222222", **OTHER)  # type: ignore[arg-type]
    found = store.find_duplicates(new, sigma, fp_for(data))
    assert [(s.detector, s.other_claim) for s in found] == [("duplicate.same_file", "old")]


def test_no_image_no_crash(store: Store, sigma: Campaign) -> None:  # noqa: F811
    claim = make_claim("x", sigma)
    fp = ReceiptFingerprint(sha256="f" * 64)
    assert store.find_duplicates(claim, sigma, fp) == []
    store.record(claim, sigma, make_verdict(claim), fingerprint=fp)
    assert store.find_duplicates(make_claim("y", sigma, serial="1", **OTHER), sigma, fp)[0].other_claim == "x"  # type: ignore[arg-type]


def test_fingerprint_rows_hold_no_personal_data(store: Store, sigma: Campaign) -> None:  # noqa: F811
    submit(store, sigma, "pii", _bytes(receipt(extra="Kunde: Bjorg Kaeregaard")), serial="11111111", key=KEY)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT sha256, content_key, hashes FROM receipt_fingerprints")).all()
    dump = " ".join(str(v) for r in rows for v in r).lower()
    assert "bjorg" not in dump and "kaeregaard" not in dump and "76660" not in dump


@pytest.mark.parametrize("n", [30])
def test_lookup_reads_candidates_by_key_not_every_row(store: Store, sigma: Campaign, n: int,  # noqa: F811
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Many stored receipts: only those sharing an LSH key are verified, at most DUPLICATE_CANDIDATES."""
    import pipeline.forensics.fingerprint as fpmod
    from pipeline.store import store as store_mod

    for i in range(n):
        img = receipt(number=f"{70000 + i * 37}", date=f"{(i % 27) + 1:02d}.10.2022", total=f"{100 + i},00",
                      extra=f"Kort: **** {1000 + i * 7}", items=tuple((f"Item {j}", f"{i * 3 + j},00")
                                                                       for j in range(1 + i % 4)))
        submit(store, sigma, f"r-{i}", _bytes(img), serial=f"9{i:07d}", email=f"r{i}@example.org", iban=None)
    calls: list[int] = []
    real = fpmod.verify
    monkeypatch.setattr(fpmod, "verify", lambda *a: calls.append(1) or real(*a))
    dup = receipt(number="70037", date="02.10.2022", total="101,00", extra="Kort: **** 1007",
                  items=tuple((f"Item {j}", f"{3 + j},00") for j in range(2)))
    found, _ = submit(store, sigma, "dup", _bytes(dup, "JPEG", quality=75), serial="88888888", **OTHER)
    assert [s.other_claim for s in found if s.detector == "duplicate.same_image"][:1] == ["r-1"]
    assert len(calls) <= store_mod.DUPLICATE_CANDIDATES


def test_a_version_1_row_is_still_found(store: Store, sigma: Campaign) -> None:  # noqa: F811
    """Rows written by fingerprint version 1 (coarse hashes only, test set 1)
    stay comparable: ranked by the coarse hashes, verified with their own tests."""
    import dataclasses

    from tests.test_fingerprint import _as_version_1

    data = _bytes(receipt())
    new = fp_for(data)
    old = dataclasses.replace(new, fine=(), version=1, features=_as_version_1(new))
    assert "G:" not in old.hashes_hex()
    claim = make_claim("v1", sigma, serial="11111111")
    store.record(claim, sigma, make_verdict(claim), files=[info(data)], serial="11111111", fingerprint=old)
    cropped = receipt().crop((0, 0, 460, 684))  # the bottom tenth cut off, re-saved
    found, fp = submit(store, sigma, "v2", _bytes(cropped, "JPEG", quality=80), serial="22222222", **OTHER)
    assert fp.version == 2 and "G:" in fp.hashes_hex()
    assert [(s.detector, s.other_claim) for s in found] == [("duplicate.same_image", "v1")]


@pytest.mark.parametrize("side", ["top", "left"])
def test_a_cropped_copy_is_found_in_the_store(store: Store, sigma: Campaign, side: str) -> None:  # noqa: F811
    from tests.test_fingerprint import _a4_invoice, _crop

    submit(store, sigma, "inv", _bytes(_a4_invoice()), serial="11111111")
    other = _a4_invoice(number="2022-16565", who="Sara Karlsson", street="Testgatan 69", date="2022-10-01",
                        items=(("Sigma 14/1.8 DG HSM Art E-mount", "17 399,00"),), total="17 399,00")
    assert submit(store, sigma, "other", _bytes(other), serial="33333333", email="o@example.org", iban=None)[0] == []
    found, _ = submit(store, sigma, "crop", _bytes(_crop(_a4_invoice(), side), "JPEG", quality=75),
                      serial="22222222", **OTHER)
    assert [(s.detector, s.other_claim) for s in found] == [("duplicate.same_image", "inv")]
