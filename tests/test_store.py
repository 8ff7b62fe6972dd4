"""The claims store, against SQLite and a real PostgreSQL server.

PostgreSQL: set CLAIMCHECK_TEST_PG_URL (scripts/start_postgres.sh prints it).
Without it, or with the server down, the PostgreSQL cases skip locally and
fail under CI=true. Each test gets a fresh database: a new SQLite file, or a
new PostgreSQL schema (search_path set in the URL) dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from models.campaign import Campaign
from models.claim import Claim
from models.documents import DocumentRole, FileInfo
from models.fields import FieldValue
from models.verdict import Status, Verdict
from pipeline.campaigns import get_campaign
from pipeline.reasons import reason
from pipeline.store import Store, StoreError
from pipeline.store.identity import (
    hash_key,
    identity_hashes,
    normalise_bank,
    normalise_email,
    normalise_name,
    normalise_serial,
)
from pipeline.store.tables import Base, SerialRow

PG_ENV = "CLAIMCHECK_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]


# -- databases -----------------------------------------------------------------


def _pg_unavailable(msg: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {msg}")
    pytest.skip(msg)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        _pg_unavailable(f"{PG_ENV} is not set (run scripts/start_postgres.sh)")
    admin = create_engine(make_url(base).update_query_dict({"connect_timeout": "5"}), isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        admin.dispose()
        _pg_unavailable(f"PostgreSQL at {PG_ENV} is unreachable: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.migrate()
    yield s
    s.close()


# -- builders ------------------------------------------------------------------

SIGMA_2022 = "sigma-dk-autumn-2022"
PERSON = {"name": "Søren Ågård", "email": "soren.agard+cash@example.com", "iban": "DK50 0040 0440 1162 43"}
T0 = dt.datetime(2022, 10, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@pytest.fixture(scope="module")
def sigma() -> Campaign:
    return get_campaign(SIGMA_2022)


@pytest.fixture(scope="module")
def sigma_2021(sigma: Campaign) -> Campaign:
    """An earlier campaign of the same organizer, same serial scope."""
    return sigma.model_copy(update={"id": "sigma-dk-spring-2022"})


def make_claim(cid: str, campaign: Campaign, *, serial: str = "54218873", name: str = PERSON["name"],
               email: str = PERSON["email"], iban: str | None = PERSON["iban"], minutes: int = 0,
               bank: dict[str, Any] | None = None) -> Claim:
    return Claim.model_validate({
        "claim_id": cid,
        "campaign_id": campaign.id,
        "submitted_at": (T0 + dt.timedelta(minutes=minutes)).isoformat(),
        "declared": {"product_model": "85MM F/1.4 DG DN ART SONY E/FE", "serial_number": serial,
                     "purchase_date": "2022-10-14", "reseller": "Fotohuset Nørrebro ApS"},
        "claimant": {"name": name, "email": email, "country": "DK",
                     "bank": bank if bank is not None else {"iban": iban, "bank_country": "DK"}},
        "files": {"receipt": "receipt.png"},
    })


def make_verdict(claim: Claim, status: Status = Status.APPROVE, **extra: Any) -> Verdict:
    return Verdict(claim_id=claim.claim_id, campaign_id=claim.campaign_id, status=status,
                   screened_at=dt.datetime.now(dt.UTC), **extra)


def screen(store: Store, claim: Claim, campaign: Campaign, status: Status = Status.APPROVE) -> Verdict:
    """What pipeline/screen.py does: history reasons fold into the verdict, then record."""
    reasons = tuple(store.history(claim, campaign))
    worst = status
    for r in reasons:
        if r.status == Status.REJECT or (r.status == Status.REVIEW and worst == Status.APPROVE):
            worst = r.status
    return store.record(claim, campaign, make_verdict(claim, worst, reasons=reasons),
                        serial=claim.declared.serial_number)


def codes(reasons: Any) -> list[str]:
    return [r.code for r in reasons]


# -- identity normalisation (pure) ---------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("soren.agard@example.com", "SorenAgard@Example.COM"),
    ("soren.agard@example.com", " s.o.r.e.n.agard@example.com "),
    ("soren.agard@example.com", "soren.agard+cashback@example.com"),
    ("soren.agard@example.com", "Soren.Agard+x.y@EXAMPLE.com"),
    ("soren.agard@gmail.com", "sorenagard@googlemail.com"),
])
def test_email_spellings_match(a: str, b: str) -> None:
    assert normalise_email(a) == normalise_email(b)


@pytest.mark.parametrize(("a", "b"), [
    ("soren.agard@example.com", "soren.agard@example.org"),
    ("soren.agard@example.com", "soren.agaard@example.com"),
])
def test_different_emails_differ(a: str, b: str) -> None:
    assert normalise_email(a) != normalise_email(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Søren Ågård", "agard soren"),
    ("Søren Ågård", "  ÅGÅRD,   Søren "),
    ("José  Müller-Lüdenscheidt", "muller ludenscheidt jose"),
    ("Ionuț Ștefănescu", "Stefanescu Ionut"),
    ("Æsa Strauß", "aesa strauss"),
])
def test_name_spellings_match(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_name_normal_form() -> None:
    assert normalise_name("Søren Ågård") == "agard soren"
    assert normalise_name("Søren Ågård") != normalise_name("Søren Ågårdsen")


@pytest.mark.parametrize(("args", "expected"), [
    (("DK50 0040 0440 1162 43",), "DK5000400440116243"),
    (("dk5000400440116243",), "DK5000400440116243"),
    ((" DK50-0040-0440-1162-43 ",), "DK5000400440116243"),
    ((None, "8327-9", "123 456 789-0"), "832791234567890"),
    ((None, None, None), None),
    (("", None, ""), None),
])
def test_bank_normal_form(args: tuple[str | None, ...], expected: str | None) -> None:
    assert normalise_bank(*args) == expected


@pytest.mark.parametrize(("a", "b"), [(" 5421-8873 ", "54218873"), ("ab 12 cd", "AB12CD"), ("１２３４５Ａ", "12345A")])
def test_serial_normal_form(a: str, b: str) -> None:
    assert normalise_serial(a) == b


def test_hashes_are_salted_and_hide_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    claim = make_claim("c", get_campaign(SIGMA_2022))
    h1 = identity_hashes(claim.claimant)
    assert len(h1.email) == 64 and "example" not in h1.email
    monkeypatch.setenv("CLAIMCHECK_IDENTITY_SALT", "another-secret")
    h2 = identity_hashes(claim.claimant)
    assert h2.email != h1.email and h2.bank != h1.bank
    # the same value under two kinds does not collide
    assert hash_key("email", "x") != hash_key("name", "x")


# -- schema --------------------------------------------------------------------


def test_migration_creates_the_tables(db_url: str) -> None:
    store = Store(db_url)
    try:
        assert set(inspect(store.engine).get_table_names()) == set()
        store.migrate()
        store.migrate()  # idempotent
        insp = inspect(store.engine)
        assert {"claims", "documents", "extracted_fields", "verdicts", "serial_registry",
                "alembic_version"} <= set(insp.get_table_names())
        assert insp.get_pk_constraint("serial_registry")["constrained_columns"] == ["serial_scope", "serial"]
        cols = {c["name"] for c in insp.get_columns("claims")}
        assert {"email_hash", "name_hash", "bank_hash"} <= cols
        assert not cols & {"email", "name", "iban", "bank_account"}
        assert {"sha256", "size", "role", "name"} <= {c["name"] for c in insp.get_columns("documents")}
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
            # the migration and tables.py describe the same schema
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        store.close()


def test_default_url_is_sqlite_under_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLAIMCHECK_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLAIMCHECK_DATA_DIR", str(tmp_path / "data"))
    store = Store()
    try:
        assert store.url == f"sqlite:///{tmp_path / 'data' / 'claimcheck.db'}"
        store.migrate()
        assert (tmp_path / "data" / "claimcheck.db").is_file()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        store.close()
    monkeypatch.setenv("CLAIMCHECK_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert Store().url.endswith("other.db")


# -- record, current verdict, history ----------------------------------------


def test_rescreen_replaces_current_and_keeps_history(store: Store, sigma: Campaign) -> None:
    claim = make_claim("c-1", sigma)
    files = [FileInfo(role=DocumentRole.RECEIPT, name="receipt.png", path="/x/receipt.png", size=123,
                      sha256="a" * 64, detected_type="png")]
    fv = FieldValue(name="total", raw="1.234,00", value="1234.00", confidence=0.9)
    first = make_verdict(claim, Status.INCOMPLETE, missing=("serial_photo",), fields={"total": fv},
                         reasons=(reason("SERIAL_PHOTO_MISSING"),))
    assert store.record(claim, sigma, first, files=files, serial="54218873") == first
    assert store.current_verdict("c-1") == first

    files2 = [*files, FileInfo(role=DocumentRole.SERIAL_PHOTO, name="serial.jpg", path="/x/serial.jpg", size=9,
                               sha256="b" * 64, detected_type="jpeg")]
    second = make_verdict(claim, Status.APPROVE, fields={"total": fv})
    store.record(claim, sigma, second, files=files2, serial="54218873")

    assert store.current_verdict("c-1") == second
    assert store.verdict_history("c-1") == [first, second]
    assert store.current_verdict("nope") is None and store.verdict_history("nope") == []
    with store.engine.connect() as conn:
        docs = conn.execute(text("SELECT role, sha256, size FROM documents WHERE claim_id = 'c-1' ORDER BY role")).all()
        assert [tuple(d) for d in docs] == [("receipt", "a" * 64, 123), ("serial_photo", "b" * 64, 9)]
        fields = conn.execute(text("SELECT name, value FROM extracted_fields WHERE claim_id = 'c-1'")).all()
        assert [tuple(f) for f in fields] == [("total", "1234.00")] * 2  # one per screening
        row = conn.execute(text("SELECT current_status, current_seq FROM claims WHERE claim_id = 'c-1'")).one()
        assert tuple(row) == ("approve", 2)


def test_record_refuses_a_verdict_of_another_claim(store: Store, sigma: Campaign) -> None:
    with pytest.raises(StoreError):
        store.record(make_claim("c-1", sigma), sigma, make_verdict(make_claim("c-2", sigma)))


# -- serial registry -------------------------------------------------------------


def test_serial_claimed_in_an_earlier_campaign_of_the_scope(store: Store, sigma: Campaign,
                                                              sigma_2021: Campaign) -> None:
    first = make_claim("s21-1", sigma_2021, serial="54218873")
    assert screen(store, first, sigma_2021).status == Status.APPROVE
    again = make_claim("s22-1", sigma, serial="5421 8873", email="someone.else@example.org", iban="NO9386011117947",
                       name="Other Person")
    found = store.history(again, sigma)
    assert codes(found) == ["SERIAL_ALREADY_CLAIMED"]
    assert "s21-1" in found[0].message and "sigma-dk-spring-2022" in found[0].message
    # even when the pipeline ignores history, record() refuses the second registration
    stored = store.record(again, sigma, make_verdict(again), serial="5421-8873")
    assert stored.status == Status.REVIEW and codes(stored.reasons) == ["SERIAL_ALREADY_CLAIMED"]
    assert store.current_verdict("s22-1") == stored
    assert store.current_verdict("s21-1").status == Status.APPROVE  # type: ignore[union-attr]


def test_serial_is_not_shared_across_scopes(store: Store, sigma: Campaign) -> None:
    sony = get_campaign("sony-no-refusjon-2022")
    assert sony.serial_scope != sigma.serial_scope
    a = make_claim("sony-1", sony, serial="54218873")
    b = make_claim("sigma-1", sigma, serial="54218873", email="b@example.org", iban=None)
    assert screen(store, a, sony).status == Status.APPROVE
    assert store.history(b, sigma) == []
    assert screen(store, b, sigma).status == Status.APPROVE


def test_rescreening_keeps_the_claims_own_serial(store: Store, sigma: Campaign) -> None:
    a = make_claim("a", sigma)
    assert screen(store, a, sigma).status == Status.APPROVE
    assert store.history(a, sigma) == []
    assert screen(store, a, sigma).status == Status.APPROVE
    b = make_claim("b", sigma, email="b@example.org", iban=None)
    assert screen(store, b, sigma).status == Status.REVIEW


def test_a_rejected_claim_releases_its_serial(store: Store, sigma: Campaign) -> None:
    a = make_claim("a", sigma)
    b = make_claim("b", sigma, email="b@example.org", iban=None)
    screen(store, a, sigma)
    assert codes(store.history(b, sigma)) == ["SERIAL_ALREADY_CLAIMED"]
    screen(store, a, sigma, Status.REJECT)  # re-screened: rejected
    with store.engine.connect() as conn:
        assert conn.execute(select(SerialRow.claim_id)).all() == []
    assert store.history(b, sigma) == []
    assert screen(store, b, sigma).status == Status.APPROVE


def test_a_corrected_serial_releases_the_old_one(store: Store, sigma: Campaign) -> None:
    a = make_claim("a", sigma, serial="11111111")
    screen(store, a, sigma)
    screen(store, make_claim("a", sigma, serial="22222222"), sigma)
    b = make_claim("b", sigma, serial="11111111", email="b@example.org", iban=None)
    assert screen(store, b, sigma).status == Status.APPROVE
    c = make_claim("c", sigma, serial="22222222", email="c@example.org", iban=None)
    assert screen(store, c, sigma).status == Status.REVIEW


# -- claimant limits -------------------------------------------------------------

SPELLINGS = {
    "same": {},
    "email-case": {"email": "SOREN.AGARD+CASH@EXAMPLE.COM"},
    "email-dots": {"email": "s.o.r.e.n.agard@example.com"},
    "email-tag": {"email": "sorenagard+sixth@example.com"},
    "iban-spaces-other-email": {"email": "new.address@example.net", "iban": "dk 5000 4004 4011 6243"},
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_sigma_sixth_claim_hits_the_limit(store: Store, sigma: Campaign, spelling: str) -> None:
    assert sigma.max_claims_per_claimant == 5
    for i in range(5):
        claim = make_claim(f"c-{i}", sigma, serial=f"1000000{i}", minutes=i)
        assert store.history(claim, sigma) == []
        assert screen(store, claim, sigma).status == Status.APPROVE
    sixth = make_claim("c-6", sigma, serial="10000006", minutes=10, **SPELLINGS[spelling])
    found = store.history(sixth, sigma)
    assert codes(found) == ["CLAIMANT_LIMIT_REACHED"]
    assert "5 claims" in found[0].message
    assert screen(store, sixth, sigma).status == Status.REJECT
    # re-screening one of the first five does not count the rejected sixth, nor later ones
    assert store.history(make_claim("c-4", sigma, serial="10000004", minutes=4), sigma) == []


def test_record_enforces_the_limit_even_without_history(store: Store, sigma: Campaign) -> None:
    for i in range(5):
        c = make_claim(f"c-{i}", sigma, serial=f"1000000{i}", minutes=i)
        assert store.record(c, sigma, make_verdict(c), serial=c.declared.serial_number).status == Status.APPROVE
    sixth = make_claim("c-6", sigma, serial="10000006", minutes=10, email="SorenAgard@example.com")
    stored = store.record(sixth, sigma, make_verdict(sixth), serial="10000006")
    assert stored.status == Status.REJECT and codes(stored.reasons) == ["CLAIMANT_LIMIT_REACHED"]
    with store.engine.connect() as conn:  # a rejected claim holds no serial
        assert conn.execute(select(SerialRow.claim_id).where(SerialRow.serial == "10000006")).all() == []


def test_limit_holds_when_claims_are_screened_out_of_order(store: Store, sigma: Campaign) -> None:
    for i in range(5):
        screen(store, make_claim(f"late-{i}", sigma, serial=f"1000000{i}", minutes=30 + i), sigma)
    early = make_claim("early", sigma, serial="10000009", minutes=0)  # submitted first, screened last
    assert codes(store.history(early, sigma)) == ["CLAIMANT_LIMIT_REACHED"]
    assert screen(store, early, sigma).status == Status.REJECT
    # the five screened first keep their verdicts on re-screening
    for i in range(5):
        assert screen(store, make_claim(f"late-{i}", sigma, serial=f"1000000{i}", minutes=30 + i),
                      sigma).status == Status.APPROVE


def test_limit_ignores_rejected_claims_and_other_claimants(store: Store, sigma: Campaign) -> None:
    for i in range(5):
        status = Status.REJECT if i == 0 else Status.APPROVE
        screen(store, make_claim(f"c-{i}", sigma, serial=f"1000000{i}", minutes=i), sigma, status)
    sixth = make_claim("c-6", sigma, serial="10000006", minutes=10)
    assert store.history(sixth, sigma) == []
    other = make_claim("o-1", sigma, serial="20000001", minutes=20, email="other@example.com",
                       iban="DK9520000123456789", name="Søren Ågård")  # same name, different person
    assert store.history(other, sigma) == []


def test_limit_counts_per_campaign(store: Store, sigma: Campaign, sigma_2021: Campaign) -> None:
    for i in range(5):
        screen(store, make_claim(f"old-{i}", sigma_2021, serial=f"3000000{i}", minutes=i), sigma_2021)
    assert store.history(make_claim("new-1", sigma, serial="40000001", minutes=30), sigma) == []


def test_sony_romania_limit_is_three(store: Store) -> None:
    ro = get_campaign("sony-ro-cashback-2018")
    assert ro.max_claims_per_claimant == 3
    bank = {"clearing_number": None, "account_number": None, "iban": "RO49 AAAA 1B31 0075 9384 0000"}
    for i in range(3):
        c = make_claim(f"ro-{i}", ro, serial=f"500000{i}", minutes=i, bank=bank, email=f"ion{i}@example.ro")
        assert store.history(c, ro) == [], i  # matched on the bank account only
        screen(store, c, ro)
    fourth = make_claim("ro-4", ro, serial="5000004", minutes=5, bank={"iban": "ro49aaaa1b31007593840000"},
                        email="ion4@example.ro")
    found = store.history(fourth, ro)
    assert codes(found) == ["CLAIMANT_LIMIT_REACHED"] and "3 claims" in found[0].message


# -- prior fraud -------------------------------------------------------------------


def test_prior_fraud_holds_the_claimants_later_claims(store: Store, sigma: Campaign, sigma_2021: Campaign) -> None:
    old = make_claim("old", sigma_2021, serial="60000001")
    screen(store, old, sigma_2021)
    new = make_claim("new", sigma, serial="60000002", email="fresh@example.com", minutes=60)  # same IBAN
    stranger = make_claim("stranger", sigma, serial="60000003", email="x@example.com", iban=None)
    assert store.history(new, sigma) == []
    store.mark_fraud("old", note="forged receipt")
    found = store.history(new, sigma)
    assert codes(found) == ["CLAIMANT_PRIOR_FRAUD"] and "old" in found[0].message
    assert store.history(stranger, sigma) == []
    assert store.history(old, sigma_2021) == []  # its own mark is not "prior"
    assert screen(store, new, sigma).status == Status.REVIEW
    with pytest.raises(StoreError):
        store.mark_fraud("no-such-claim")


# -- personal data -----------------------------------------------------------------


def test_no_raw_identity_in_the_database(store: Store, sigma: Campaign, db_url: str) -> None:
    claim = make_claim("pii-1", sigma, name="Bjørg Kæregaard-Lindqvist", email="Bjorg.Kaeregaard+cb@example.com",
                       iban="DK50 0040 0440 1162 43")
    screen(store, claim, sigma)
    store.mark_fraud("pii-1")
    screen(store, make_claim("pii-2", sigma, serial="777777", bank={"clearing_number": "8327",
                                                                     "account_number": "9912345678"}), sigma)
    needles = ["bjorg", "bjørg", "kaeregaard", "kæregaard", "lindqvist", "example.com",
               "DK5000400440116243", "DK50 0040", "0400440116243", "9912345678", "83279912345678"]
    dump: list[str] = []
    insp = inspect(store.engine)
    with store.engine.connect() as conn:
        for table in insp.get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(str(v) for v in row))
    blob = "\n".join(dump).lower()
    assert "pii-1" in blob and "pii-2" in blob  # the dump does see the rows
    for needle in needles:
        assert needle.lower() not in blob, needle
    if db_url.startswith("sqlite:///"):
        path = Path(make_url(db_url).database or "")
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).lower()
        for needle in needles:
            assert needle.lower().encode() not in raw, needle
