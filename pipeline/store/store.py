"""The claims store: memory across claims.

Campaign terms need it: a serial number may be claimed once, also across the
organizer's earlier campaigns (SIGMA 12, 15 (ii)); an end-user may make at
most N claims per campaign (SIGMA 12: 5, Sony Romania FAQ 8: 3); a claimant
caught with a fraudulent claim is held for review (SIGMA 15 (iii)).

`history()` reads what earlier claims say about a claim before its verdict is
final; `record()` writes the claim, its documents, fields and verdict in one
transaction and registers its serial under a UNIQUE key, so two workers that
screen two claims with the same serial at the same moment cannot both
approve: the second insert fails and its verdict is amended to review.

SQLite (one file under the data folder, WAL, busy timeout, every transaction
`BEGIN IMMEDIATE`) is the embedded default; PostgreSQL by URL for several
workers. The schema is made by the Alembic migrations (`migrate()`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, and_, create_engine, delete, event, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from models.campaign import Campaign
from models.claim import Claim
from models.documents import FileInfo
from models.forensics import Signal, SignalFamily
from models.verdict import Reason, Status, Verdict
from pipeline.errors import ClaimcheckError
from pipeline.reasons import reason
from pipeline.store.identity import IdentityHashes, identity_hashes, normalise_serial, salt
from pipeline.store.tables import (
    ClaimRow,
    DocumentRow,
    FieldRow,
    FingerprintKeyRow,
    FingerprintRow,
    SerialRow,
    VerdictRow,
)

if TYPE_CHECKING:
    from pipeline.forensics.fingerprint import ReceiptFingerprint

log = logging.getLogger(__name__)

URL_ENV = "CLAIMCHECK_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SQLITE_BUSY_TIMEOUT_S = 30
#: duplicates: how many image candidates (sharing an LSH key) are ranked by the keypoint vote (the
#: closest by hash), how many of those are verified, and how many are reported per kind
DUPLICATE_PRESELECT = 16
DUPLICATE_CANDIDATES = 4
DUPLICATE_REPORT = 3
# Serialises `migrate()` across PostgreSQL workers starting together.
_PG_MIGRATE_LOCK = 0x636C6D63  # "clmc"


class StoreError(ClaimcheckError):
    """The claims store cannot do what was asked (unknown claim, bad input)."""

    code = "STORE_ERROR"


def data_dir() -> Path:
    """The project's data folder, as flows.DATA_DIR computes it (not imported
    from there: importing `flows` prepares Prefect's environment)."""
    return Path(os.environ.get("CLAIMCHECK_DATA_DIR", PROJECT_ROOT / "data"))


def default_url() -> str:
    url = os.environ.get(URL_ENV)
    if url:
        return url
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'claimcheck.db'}"


def _utc(t: dt.datetime) -> dt.datetime:
    """Naive UTC, the form every time column holds."""
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _scope(campaign: Campaign) -> str:
    """Serial numbers are unique within the organizer's scope; a campaign
    without one is its own scope."""
    return campaign.serial_scope or campaign.id


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(u, pool_pre_ping=True)
    memory = u.database in (None, "", ":memory:")
    if not memory:
        Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    if memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(u, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver must not open transactions itself: we emit BEGIN IMMEDIATE
        # below (and SAVEPOINTs then work too).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock at the start: a deferred transaction that reads
        # and then writes fails at once (SQLITE_BUSY_SNAPSHOT) under WAL
        # instead of waiting for the busy timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Store:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._salt = salt()

    # -- schema ---------------------------------------------------------------

    def migrate(self) -> None:
        """`alembic upgrade head` on this store's database."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATE_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    # -- reading --------------------------------------------------------------

    def _same_claimant(self, ids: IdentityHashes) -> Any:
        cond = ClaimRow.email_hash == ids.email
        if ids.bank:
            cond = or_(cond, ClaimRow.bank_hash == ids.bank)
        return cond

    def _limit_reason(self, s: Session, claim: Claim, campaign: Campaign, ids: IdentityHashes) -> Reason | None:
        """CLAIMANT_LIMIT_REACHED when the claimant already has the campaign's
        maximum of other claims whose current verdict is not reject.

        "Other claims" are those that came first: submitted earlier, or
        screened before this claim was first screened. A new claim so counts
        every other claim; re-screening one of the first five does not count
        the sixth (which would make the first five hit the limit in turn), and
        screening out of submission order still never lets more than the
        limit through.
        """
        limit = campaign.max_claims_per_claimant
        if not limit:
            return None
        cid = claim.claim_id
        sub = _utc(claim.submitted_at)
        conds = [
            ClaimRow.campaign_id == campaign.id,
            ClaimRow.claim_id != cid,
            self._same_claimant(ids),
            ClaimRow.current_status.is_not(None),
            ClaimRow.current_status != Status.REJECT.value,
        ]
        mine = s.execute(select(ClaimRow.created_at).where(ClaimRow.claim_id == cid)).scalar_one_or_none()
        if mine is not None:  # screened before: only the claims that came first count
            conds.append(or_(ClaimRow.submitted_at < sub,
                             and_(ClaimRow.submitted_at == sub, ClaimRow.claim_id < cid),
                             ClaimRow.created_at < mine,
                             and_(ClaimRow.created_at == mine, ClaimRow.claim_id < cid)))
        count = s.execute(select(func.count()).select_from(ClaimRow).where(*conds)).scalar_one()
        if count < limit:
            return None
        return reason("CLAIMANT_LIMIT_REACHED", count=count, limit=limit,
                      clause=campaign.clause("CLAIMANT_LIMIT_REACHED"))

    def _lock_claimant(self, s: Session, ids: IdentityHashes) -> None:
        """Serialise concurrent recordings of one claimant's claims, so two
        workers cannot both pass the claim limit. SQLite's write lock
        (BEGIN IMMEDIATE) already does; on PostgreSQL a transaction-scoped
        advisory lock per identity hash, taken in sorted order (no deadlock)."""
        if self.dialect != "postgresql":
            return
        for key in sorted({ids.email, *([ids.bank] if ids.bank else [])}):
            s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"claimant:{key}"})

    def history(self, claim: Claim, campaign: Campaign) -> list[Reason]:
        """What earlier claims say about this one (this claim_id excluded):
        SERIAL_ALREADY_CLAIMED, CLAIMANT_LIMIT_REACHED, CLAIMANT_PRIOR_FRAUD.
        The same claimant is the same normalised e-mail OR bank account."""
        cid = claim.claim_id
        ids = identity_hashes(claim.claimant, self._salt)
        out: list[Reason] = []
        with self._tx() as s:
            serial = normalise_serial(claim.declared.serial_number)
            if campaign.one_claim_per_serial and serial:
                holder = s.execute(
                    select(SerialRow.claim_id, SerialRow.campaign_id)
                    .where(SerialRow.serial_scope == _scope(campaign), SerialRow.serial == serial,
                           SerialRow.claim_id != cid)
                ).first()
                if holder is not None:
                    out.append(reason("SERIAL_ALREADY_CLAIMED", field="serial_number", other=holder.claim_id,
                                      campaign=holder.campaign_id, clause=campaign.clause("SERIAL_ALREADY_CLAIMED")))

            limit_reason = self._limit_reason(s, claim, campaign, ids)
            if limit_reason is not None:
                out.append(limit_reason)

            fraud = s.execute(
                select(ClaimRow.claim_id).where(ClaimRow.fraud.is_(True), ClaimRow.claim_id != cid,
                                                self._same_claimant(ids))
                .order_by(ClaimRow.fraud_marked_at, ClaimRow.claim_id).limit(1)
            ).scalar_one_or_none()
            if fraud is not None:
                out.append(reason("CLAIMANT_PRIOR_FRAUD", other=fraud, clause=campaign.clause("CLAIMANT_PRIOR_FRAUD")))
        return out

    def current_verdict(self, claim_id: str) -> Verdict | None:
        with self._tx() as s:
            js = s.execute(
                select(VerdictRow.verdict_json).join(
                    ClaimRow, and_(ClaimRow.claim_id == VerdictRow.claim_id, ClaimRow.current_seq == VerdictRow.seq))
                .where(ClaimRow.claim_id == claim_id)
            ).scalar_one_or_none()
        return Verdict.model_validate_json(js) if js is not None else None

    def verdict_history(self, claim_id: str) -> list[Verdict]:
        """Every verdict the claim was given, oldest first."""
        with self._tx() as s:
            rows = s.execute(
                select(VerdictRow.verdict_json).where(VerdictRow.claim_id == claim_id).order_by(VerdictRow.seq)
            ).scalars().all()
        return [Verdict.model_validate_json(js) for js in rows]

    # -- writing --------------------------------------------------------------

    def record(self, claim: Claim, campaign: Campaign, verdict: Verdict, *, files: Sequence[FileInfo] = (),
               serial: str | None = None, fingerprint: ReceiptFingerprint | None = None) -> Verdict:
        """Store a screening in one transaction and return the verdict as stored.

        The verdict is amended (a reason added, never removed) when the store
        knows better than the `history()` it was built on: SERIAL_ALREADY_CLAIMED
        and review (if it was approve) when another claim holds the serial, and
        CLAIMANT_LIMIT_REACHED and reject when the claimant's limit was reached
        meanwhile (counted again under a per-claimant lock). A non-reject verdict
        registers the serial (a re-screened claim keeps its own registration);
        a reject releases it. `fingerprint` (the receipt's, from
        pipeline.forensics.fingerprint) replaces the claim's stored one, so
        later claims can find this receipt (`find_duplicates`)."""
        cid = claim.claim_id
        if verdict.claim_id != cid:
            raise StoreError(f"verdict is for claim {verdict.claim_id}, not {cid}")
        now = _now()
        ids = identity_hashes(claim.claimant, self._salt)
        scope = _scope(campaign)
        norm = normalise_serial(serial) if serial else ""
        with self._tx() as s:
            if campaign.max_claims_per_claimant:
                self._lock_claimant(s, ids)
                # history() counted before the verdict was made; count again under the lock
                if verdict.status != Status.REJECT and "CLAIMANT_LIMIT_REACHED" not in verdict.codes:
                    over = self._limit_reason(s, claim, campaign, ids)
                    if over is not None:
                        verdict = verdict.model_copy(update={"reasons": (*verdict.reasons, over),
                                                             "status": Status.REJECT})
                        log.info("claim %s: claimant limit reached when recording", cid)
            self._upsert_claim(s, claim, campaign, ids, scope, now)

            s.execute(delete(DocumentRow).where(DocumentRow.claim_id == cid))
            seen: set[tuple[str, str]] = set()
            for f in files:
                if (f.role.value, f.name) in seen:
                    continue
                seen.add((f.role.value, f.name))
                s.add(DocumentRow(claim_id=cid, role=f.role.value, name=f.name, sha256=f.sha256, size=f.size,
                                  detected_type=f.detected_type))

            if verdict.status == Status.REJECT:
                s.execute(delete(SerialRow).where(SerialRow.claim_id == cid))
            elif campaign.one_claim_per_serial and norm:
                # a corrected serial releases the one this claim held before
                s.execute(delete(SerialRow).where(
                    SerialRow.claim_id == cid, or_(SerialRow.serial_scope != scope, SerialRow.serial != norm)))
                holder = self._register(s, scope, norm, cid, campaign.id, now)
                if holder is not None:
                    verdict = _amend_serial_taken(verdict, holder, campaign)
                    log.info("claim %s: serial already held by claim %s", cid, holder[0])

            seq = (s.execute(select(func.max(VerdictRow.seq)).where(VerdictRow.claim_id == cid)).scalar() or 0) + 1
            row = VerdictRow(claim_id=cid, seq=seq, campaign_id=verdict.campaign_id or campaign.id,
                             status=verdict.status.value, codes=" ".join(verdict.codes),
                             screened_at=_utc(verdict.screened_at), recorded_at=now,
                             pipeline_version=verdict.pipeline_version, verdict_json=verdict.model_dump_json())
            s.add(row)
            s.flush()
            for name, fv in verdict.fields.items():
                s.add(FieldRow(verdict_id=row.id, claim_id=cid, name=name, raw=fv.raw, value=fv.value,
                               confidence=fv.confidence, field_json=fv.model_dump_json()))
            s.execute(update(ClaimRow).where(ClaimRow.claim_id == cid)
                      .values(current_seq=seq, current_status=verdict.status.value, updated_at=now))
            if fingerprint is not None:
                self._store_fingerprint(s, cid, campaign, fingerprint, now)
        log.debug("claim %s: recorded verdict %d (%s)", cid, seq, verdict.status.value)
        return verdict

    def _upsert_claim(self, s: Session, claim: Claim, campaign: Campaign, ids: IdentityHashes, scope: str,
                      now: dt.datetime) -> None:
        declared = normalise_serial(claim.declared.serial_number) or None
        values = dict(claim_id=claim.claim_id, campaign_id=campaign.id, serial_scope=scope,
                      submitted_at=_utc(claim.submitted_at), declared_serial=declared, email_hash=ids.email,
                      name_hash=ids.name, bank_hash=ids.bank, created_at=now, updated_at=now)
        ins = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(ClaimRow).values(**values)
        keep = {"claim_id", "created_at"}
        s.execute(ins.on_conflict_do_update(index_elements=[ClaimRow.claim_id],
                                            set_={k: ins.excluded[k] for k in values if k not in keep}))

    def _register(self, s: Session, scope: str, serial: str, cid: str, campaign_id: str,
                  now: dt.datetime) -> tuple[str, str] | None:
        """Register (scope, serial) -> cid. Returns the (claim_id, campaign_id)
        of another claim that holds it, or None when cid holds it now.

        The UNIQUE primary key decides, not the look-up: a concurrent insert of
        the same serial waits for ours to commit (PostgreSQL) or runs after it
        (SQLite's write lock) and then fails with IntegrityError. The insert
        runs in a SAVEPOINT so that failure leaves the transaction usable."""
        key = and_(SerialRow.serial_scope == scope, SerialRow.serial == serial)
        for _ in range(3):
            held = s.execute(select(SerialRow.claim_id, SerialRow.campaign_id).where(key)).first()
            if held is not None:
                return None if held.claim_id == cid else (held.claim_id, held.campaign_id)
            try:
                with s.begin_nested():
                    s.execute(insert(SerialRow).values(serial_scope=scope, serial=serial, claim_id=cid,
                                                       campaign_id=campaign_id, registered_at=now))
                return None
            except IntegrityError:
                # someone registered it between our look-up and insert; loop to read who
                # (or, if they released it meanwhile, to try again)
                continue
        raise StoreError(f"claim {cid}: could not register its serial (contention)")

    # -- receipt duplicates -------------------------------------------------

    def _store_fingerprint(self, s: Session, cid: str, campaign: Campaign, fp: ReceiptFingerprint,
                           now: dt.datetime) -> None:
        s.execute(delete(FingerprintKeyRow).where(FingerprintKeyRow.claim_id == cid))
        s.execute(delete(FingerprintRow).where(FingerprintRow.claim_id == cid))
        s.add(FingerprintRow(claim_id=cid, campaign_id=campaign.id, sha256=fp.sha256, content_key=fp.content_key,
                             hashes=fp.hashes_hex(), features=fp.features, version=fp.version, recorded_at=now))
        keys = fp.band_keys()
        if keys:
            s.flush()
            s.execute(insert(FingerprintKeyRow), [{"key": k, "claim_id": cid} for k in keys])

    def find_duplicates(self, claim: Claim, campaign: Campaign, fp: ReceiptFingerprint) -> list[Signal]:
        """Other claims (any campaign; never this claim_id) with the same
        receipt: the same file (duplicate.same_file), the same reseller +
        receipt number + date (duplicate.same_receipt_number), or the same
        receipt image re-saved, scaled, cropped or photographed again
        (duplicate.same_image). Flagged signals only (file and receipt-number
        matches earliest claim first, image matches strongest first, at most
        DUPLICATE_REPORT of each), each with `other_claim` set.

        Image look-up: claims sharing an LSH band key of a perceptual hash
        (indexed); the DUPLICATE_PRESELECT with the closest hash are ranked
        by a keypoint vote (`keypoint_votes`: distinctive matches agreeing with
        one affine map), and at most DUPLICATE_CANDIDATES of those verified
        (pipeline.forensics.fingerprint.verify)."""
        from pipeline.forensics.fingerprint import (
            MIN_INLIERS,
            SAME_IMAGE_THRESHOLD,
            hash_distance,
            keypoint_votes,
            unpack_features,
            unpack_keypoints,
            verify,
        )

        cid = claim.claim_id
        out: list[Signal] = []
        with self._tx() as s:
            same_file = s.execute(
                select(DocumentRow.claim_id, func.min(ClaimRow.submitted_at))
                .join(ClaimRow, ClaimRow.claim_id == DocumentRow.claim_id)
                .where(DocumentRow.sha256 == fp.sha256, DocumentRow.claim_id != cid)
                .group_by(DocumentRow.claim_id).order_by(func.min(ClaimRow.submitted_at), DocumentRow.claim_id)
                .limit(DUPLICATE_REPORT)
            ).all()
            fp_file = s.execute(
                select(FingerprintRow.claim_id).where(FingerprintRow.sha256 == fp.sha256, FingerprintRow.claim_id != cid)
                .order_by(FingerprintRow.recorded_at, FingerprintRow.claim_id).limit(DUPLICATE_REPORT)
            ).scalars().all()
            files = list(dict.fromkeys([r[0] for r in same_file] + list(fp_file)))[:DUPLICATE_REPORT]
            for other in files:
                out.append(Signal(
                    detector="duplicate.same_file", family=SignalFamily.DUPLICATE, score=1.0, threshold=1.0,
                    other_claim=other, field=None,
                    message=f"The receipt is the same file (identical bytes) as a file of claim {other}."))
            reported = set(files)

            if fp.content_key:
                rows = s.execute(
                    select(FingerprintRow.claim_id).where(FingerprintRow.content_key == fp.content_key,
                                                          FingerprintRow.claim_id != cid)
                    .order_by(FingerprintRow.recorded_at, FingerprintRow.claim_id).limit(DUPLICATE_REPORT)
                ).scalars().all()
                for other in rows:
                    out.append(Signal(
                        detector="duplicate.same_receipt_number", family=SignalFamily.DUPLICATE, score=1.0,
                        threshold=1.0, other_claim=other, field="receipt_number",
                        message=(f"Claim {other} has a receipt from the same reseller with the same receipt "
                                 "number and purchase date.")))

            keys = fp.band_keys(query=True)
            if fp.image is None or fp.features is None or not keys:
                return out
            hits: dict[str, int] = {}
            for i in range(0, len(keys), 500):
                for other, n in s.execute(
                    select(FingerprintKeyRow.claim_id, func.count())
                    .where(FingerprintKeyRow.key.in_(keys[i:i + 500]), FingerprintKeyRow.claim_id != cid)
                    .group_by(FingerprintKeyRow.claim_id)
                ).all():
                    hits[other] = hits.get(other, 0) + int(n)
            cands = sorted((c for c in hits if c not in reported), key=lambda c: (-hits[c], c))
            if not cands:
                return out
            # first cut: the closest window of the same kind (any rotation of the query), by the
            # fine hashes (receipts of one template share their coarse ones), else the coarse ones
            hash_rows = s.execute(select(FingerprintRow.claim_id, FingerprintRow.hashes)
                                  .where(FingerprintRow.claim_id.in_(cands[:2000]))).all()
            ranked = [(hash_distance(fp, text_ or ""), -hits[other], other) for other, text_ in hash_rows]
            ranked.sort()
            pre = [other for _, _, other in ranked[:DUPLICATE_PRESELECT]]
            feats = {r[0]: r[1] for r in s.execute(select(FingerprintRow.claim_id, FingerprintRow.features)
                                                   .where(FingerprintRow.claim_id.in_(pre))).all()}
        qf = unpack_features(fp.features)
        # then the keypoint vote: how many distinctive keypoint matches agree with one affine
        # map (a re-photo or a crop moves the hashes more than it moves its keypoints). A
        # candidate whose matches put fewer than MIN_INLIERS on one map is not verified; the
        # others are ranked by the better of their two ranks (hash, vote), then by their sum,
        # and the first DUPLICATE_CANDIDATES verified
        votes: dict[str, int] = {}
        for other in pre:
            blob = feats.get(other)
            if not blob:
                continue
            try:
                votes[other] = keypoint_votes(qf.points, qf.descriptors, *unpack_keypoints(blob))
            except Exception as exc:  # noqa: BLE001 - a bad stored blob must not stop the claim
                log.warning("duplicate vote against claim %s failed: %s", other, type(exc).__name__)
        by_hash = [c for c in pre if votes.get(c, 0) >= MIN_INLIERS]
        by_vote = sorted(by_hash, key=lambda c: -votes[c])  # stable: ties keep the hash order
        vrank = {c: i for i, c in enumerate(by_vote)}
        fused = sorted(range(len(by_hash)), key=lambda i: (min(i, vrank[by_hash[i]]), i + vrank[by_hash[i]], i))
        found = []
        for other in [by_hash[i] for i in fused[:DUPLICATE_CANDIDATES]]:
            try:
                score, detail = verify(fp.image, qf, unpack_features(feats[other]))
            except Exception as exc:  # noqa: BLE001 - a bad stored blob must not stop the claim
                log.warning("duplicate check against claim %s failed: %s", other, type(exc).__name__)
                continue
            if score >= SAME_IMAGE_THRESHOLD:
                found.append((score, other, detail))
        found.sort(key=lambda x: -x[0])
        for score, other, detail in found[:DUPLICATE_REPORT]:
            out.append(Signal(
                detector="duplicate.same_image", family=SignalFamily.DUPLICATE, score=round(score, 4),
                threshold=SAME_IMAGE_THRESHOLD, other_claim=other, detail=dict(detail),
                message=(f"The receipt image matches the receipt of claim {other} (the same receipt, "
                         "possibly re-saved, scaled, cropped or photographed again).")))
        return out

    def mark_fraud(self, claim_id: str, note: str = "") -> None:
        """Mark a claim as judged fraudulent: the claimant's later claims get
        CLAIMANT_PRIOR_FRAUD (SIGMA 15 (iii)). `note` is for handlers; keep
        personal data out of it."""
        with self._tx() as s:
            res = s.execute(update(ClaimRow).where(ClaimRow.claim_id == claim_id)
                            .values(fraud=True, fraud_note=note, fraud_marked_at=_now()))
            n = cast(CursorResult[Any], res).rowcount
        if not n:
            raise StoreError(f"unknown claim {claim_id}")
        log.info("claim %s marked as fraud", claim_id)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _amend_serial_taken(verdict: Verdict, holder: tuple[str, str], campaign: Campaign) -> Verdict:
    other, other_campaign = holder
    reasons = verdict.reasons
    if "SERIAL_ALREADY_CLAIMED" not in verdict.codes:
        reasons = (*reasons, reason("SERIAL_ALREADY_CLAIMED", field="serial_number", other=other,
                                    campaign=other_campaign, clause=campaign.clause("SERIAL_ALREADY_CLAIMED")))
    status = Status.REVIEW if verdict.status == Status.APPROVE else verdict.status
    return verdict.model_copy(update={"reasons": reasons, "status": status})
