"""The claim screening pipeline, declared in one place.

    load -> check files -> read receipt -> extract -> read label -> match -> rules -> verdict

Each stage is a function from a frozen `Screening` record to a new one. A
stage that fails on bad input adds a reason; an unexpected error in a stage
becomes an INTERNAL_ERROR reason, so every claim ends with exactly one
verdict and one bad claim never stops a batch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from models.campaign import Campaign
from models.claim import Claim
from models.documents import DocumentRole, DocumentText, FileInfo
from models.fields import Evidence, FieldValue, LabelExtraction, ReceiptExtraction
from models.forensics import Signal, SignalFamily
from models.match import ChannelHit, ResellerMatch, SkuMatch
from models.verdict import Reason, Status, Verdict, worst
from pipeline import __version__
from pipeline.campaigns import get_campaign
from pipeline.errors import ClaimcheckError, ClaimInputError, DependencyMissing
from pipeline.reasons import reason
from pipeline.rules import Context, apply_rules, purchase_date
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.store import Store

log = logging.getLogger(__name__)

_STORES: dict[str, Store] = {}


def open_store(settings: Settings) -> Store | None:
    """The claims store for these settings, opened once per process."""
    if not settings.use_store:
        return None
    from pipeline.store import Store, default_url

    url = settings.database_url or default_url()
    if url not in _STORES:
        store = Store(url)
        if settings.migrate_store:
            store.migrate()
        _STORES[url] = store
    return _STORES[url]


@dataclass(frozen=True)
class Screening:
    """Everything known about one claim so far. Stages return new copies."""

    claim_dir: Path
    settings: Settings
    store: Store | None = None
    claim: Claim | None = None
    campaign: Campaign | None = None
    files: dict[DocumentRole, FileInfo] = field(default_factory=dict)
    receipt: DocumentText | None = None
    receipt_alt: tuple[DocumentText, ...] = ()
    receipt_extraction: ReceiptExtraction | None = None  # of `receipt` alone, made while it was read
    extraction: ReceiptExtraction | None = None
    label_doc: DocumentText | None = None
    label: LabelExtraction | None = None
    reseller: ResellerMatch | None = None
    sku: SkuMatch | None = None
    channels: tuple[ChannelHit, ...] = ()
    signals: tuple[Signal, ...] = ()  # forensic findings, strongest first
    fingerprint: object | None = None  # the receipt's fingerprint, recorded with the verdict
    forensic_input: object | None = None  # the receipt as the detectors see it (images decoded once)
    reasons: tuple[Reason, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    stop: bool = False  # set when later stages cannot run (no claim, no campaign)

    def add(self, *reasons: Reason, **changes: object) -> Screening:
        return dataclasses.replace(self, reasons=self.reasons + tuple(reasons), **changes)  # type: ignore[arg-type]


# --- stages ------------------------------------------------------------------

def stage_load(s: Screening) -> Screening:
    from pipeline.intake import load_claim

    try:
        claim = load_claim(s.claim_dir)
    except ClaimInputError as exc:
        return s.add(reason("CLAIM_INVALID", detail=exc.message), stop=True)
    try:
        campaign = get_campaign(claim.campaign_id, s.settings.campaigns_dir)
    except ClaimcheckError as exc:
        return s.add(reason("CAMPAIGN_UNKNOWN", detail=exc.message), claim=claim, stop=True)
    return dataclasses.replace(s, claim=claim, campaign=campaign)


def stage_check_files(s: Screening) -> Screening:
    from pipeline.intake import check_claim_files

    assert s.claim is not None and s.campaign is not None
    files, problems = check_claim_files(s.claim_dir, s.claim, s.campaign)
    return s.add(*problems, files=files)


def _needs_second_reading(s: Screening, ex: ReceiptExtraction) -> bool:
    assert s.campaign is not None and s.receipt is not None
    if not s.settings.second_engine or s.settings.second_engine == s.settings.ocr_engine:
        return False
    if all(p.source == "pdf-text" for p in s.receipt.pages):
        return False
    c = s.campaign

    def weak(fv: FieldValue | None) -> bool:
        return fv is None or fv.confidence < s.settings.accept_confidence

    missing = [f for f in c.required_receipt_fields
               if f not in ("product_model", "reseller_name") and weak(getattr(ex, f, None))]
    if c.handwritten_serial_required and weak(ex.serial_handwritten):
        missing.append("serial_handwritten")
    return bool(missing) or not any(p.lines for p in s.receipt.pages)


def stage_read_receipt(s: Screening) -> Screening:
    from pipeline.ocr import read_document

    info = s.files.get(DocumentRole.RECEIPT)
    if info is None:
        return s
    assert s.campaign is not None
    c = s.campaign
    first: list[tuple[DocumentText, ReceiptExtraction]] = []

    def weak_match(d: DocumentText) -> bool:
        # the top lines are re-read by the second engine only when the reading's reseller match is
        # weak (see pipeline.ocr.REREAD_HEADER_LINES); a strong match keeps this extraction
        from pipeline.extract import extract_receipt
        from pipeline.match import match_reseller

        e = extract_receipt(d, country=c.country, serial_pattern=c.serial_pattern)
        first.append((d, e))
        m = match_reseller(e, c.resellers)
        return m.reseller is None or m.score < s.settings.accept_confidence

    doc = read_document(info, languages=c.ocr_languages, engine=s.settings.ocr_engine,
                        keep_images_dir=s.settings.keep_images_dir,
                        header_reread_wanted=weak_match if c.resellers else None)
    pre = first[0][1] if first and first[0][0] is doc else None
    return dataclasses.replace(s, receipt=doc, receipt_extraction=pre)


def stage_extract(s: Screening) -> Screening:
    from pipeline.extract import extract_receipt
    from pipeline.ocr import read_document

    if s.receipt is None:
        return s
    assert s.campaign is not None
    c = s.campaign
    ex = s.receipt_extraction or extract_receipt(s.receipt, country=c.country, serial_pattern=c.serial_pattern)
    alt: tuple[DocumentText, ...] = ()
    if _needs_second_reading(s, ex):
        info = s.files[DocumentRole.RECEIPT]
        second = read_document(info, languages=c.ocr_languages, engine=s.settings.second_engine or "rapidocr")
        alt = (second,)
        ex = extract_receipt(s.receipt, country=c.country, serial_pattern=c.serial_pattern, extra_docs=alt)
    return dataclasses.replace(s, extraction=ex, receipt_alt=alt)


def stage_read_label(s: Screening) -> Screening:
    from pipeline.extract import extract_label
    from pipeline.ocr import read_label

    info = s.files.get(DocumentRole.SERIAL_PHOTO)
    if info is None:
        return s
    assert s.campaign is not None
    doc = read_label(info, languages=s.campaign.ocr_languages, engine=s.settings.label_engine,
                     keep_images_dir=s.settings.keep_images_dir)
    return dataclasses.replace(s, label_doc=doc, label=extract_label(doc, serial_pattern=s.campaign.serial_pattern))


def stage_match(s: Screening) -> Screening:
    from pipeline.match import find_excluded_channels, match_reseller, match_sku

    if s.extraction is None or s.receipt is None:
        return s
    assert s.campaign is not None
    c = s.campaign
    docs = (s.receipt, *s.receipt_alt)
    channels: list[ChannelHit] = []
    for d in docs:
        channels.extend(find_excluded_channels(d, c.excluded_channels))
    ex = s.extraction
    if ex.serial_handwritten is not None:
        from pipeline.extract.serial import confirm_serial, cross_check_serial_length

        # the claim's other serials: a handwritten reading of another length is probably short a digit
        label = s.label.serial if s.label is not None else None
        refs = [("declared", s.claim.declared.serial_number if s.claim else "")]
        if label is not None and label.confidence >= s.settings.accept_confidence:
            refs.append(("label", label.value))
        # and a reading equal to one of them is confirmed (the OCR never saw them: no circularity)
        hand = confirm_serial(cross_check_serial_length(ex.serial_handwritten, refs), refs)
        ex = ex.model_copy(update={"serial_handwritten": hand})
    return dataclasses.replace(
        s,
        extraction=ex,
        reseller=match_reseller(s.extraction, c.resellers),
        sku=match_sku(s.extraction, c.skus, s.receipt, declared=s.claim.declared.product_model if s.claim else None),
        channels=tuple(channels),
    )


def _forensic_input(s: Screening):  # noqa: ANN202 - ForensicInput, imported lazily
    from pipeline.forensics import ForensicInput

    if s.forensic_input is not None:
        return s.forensic_input
    info = s.files.get(DocumentRole.RECEIPT)
    if info is None or not s.settings.forensics:
        return None
    return ForensicInput(file=info, doc=s.receipt, extraction=s.extraction, campaign=s.campaign,
                         submitted_at=s.claim.submitted_at if s.claim is not None else None)


def _signal_evidence(signals: list[Signal], limit: int = 6) -> tuple[Evidence, ...]:
    out = []
    for sig in signals:
        for r in sig.regions:
            out.append(Evidence(document="receipt", page=r.page, box=r.box, text=r.note or sig.detector))
    return tuple(out[:limit])


def _signal_detail(signals: list[Signal], limit: int = 3) -> str:
    parts = [sig.message.rstrip(".") for sig in signals[:limit]]
    more = len(signals) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


#: which reason a flagged signal of each family raises (all ask for review, none rejects)
_FAMILY_REASON = {SignalFamily.METADATA: "RECEIPT_ALTERED_SUSPECTED", SignalFamily.IMAGE: "RECEIPT_ALTERED_SUSPECTED",
                  SignalFamily.LAYOUT: "RECEIPT_ALTERED_SUSPECTED", SignalFamily.CONTENT: "RECEIPT_INCONSISTENT"}


def stage_forensics(s: Screening) -> Screening:
    """Signs that the receipt file was edited or what it prints does not add up.
    Flagged signals become review reasons with their regions as evidence."""
    from pipeline.forensics import run_detectors

    inp = _forensic_input(s)
    if inp is None:
        return s
    signals, timings = run_detectors(inp)
    for name, secs in timings.items():
        s.timings[f"forensics.{name}"] = secs
    found: list[Reason] = []
    for code in dict.fromkeys(_FAMILY_REASON.values()):
        hits = [g for g in signals if g.flagged and _FAMILY_REASON.get(g.family) == code]
        if hits:
            found.append(reason(code, field="receipt", detail=_signal_detail(hits), evidence=_signal_evidence(hits),
                                clause=s.campaign.clause(code) if s.campaign is not None else ""))
    return s.add(*found, signals=tuple(signals), forensic_input=inp)


def stage_rules(s: Screening) -> Screening:
    assert s.claim is not None and s.campaign is not None
    ctx = Context(claim=s.claim, campaign=s.campaign, settings=s.settings, receipt=s.receipt,
                  extraction=s.extraction, label=s.label, label_doc=s.label_doc, reseller=s.reseller,
                  sku=s.sku, channels=s.channels, files=frozenset(s.files))
    return s.add(*apply_rules(ctx))


def stage_history(s: Screening) -> Screening:
    """Cross-claim rules from the claims store: serial already claimed,
    claimant limits, a claimant's earlier fraud."""
    if s.store is None:
        return s
    assert s.claim is not None and s.campaign is not None
    found = list(s.store.history(s.claim, s.campaign))
    signals = s.signals
    fp = None
    inp = _forensic_input(s)
    if inp is not None:
        from pipeline.forensics.fingerprint import fingerprint

        fp = fingerprint(inp)
        dupes = sorted(s.store.find_duplicates(s.claim, s.campaign, fp), key=lambda g: -g.score)
        hits = [g for g in dupes if g.flagged]
        if hits:
            found.append(reason("RECEIPT_DUPLICATE", field="receipt", other=hits[0].other_claim or "?",
                                detail=_signal_detail(hits), evidence=_signal_evidence(hits)))
        signals = tuple(sorted(signals + tuple(dupes), key=lambda g: (not g.flagged, -g.score)))
    found = [r if r.clause else r.model_copy(update={"clause": s.campaign.clause(r.code)}) for r in found]
    return s.add(*found, signals=signals, fingerprint=fp)


Stage = Callable[[Screening], Screening]

STAGES: tuple[tuple[str, Stage], ...] = (
    ("load", stage_load),
    ("check_files", stage_check_files),
    ("read_receipt", stage_read_receipt),
    ("extract", stage_extract),
    ("read_label", stage_read_label),
    ("match", stage_match),
    ("forensics", stage_forensics),
    ("rules", stage_rules),
    ("history", stage_history),
)


def _dedupe(reasons: tuple[Reason, ...]) -> tuple[Reason, ...]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for r in reasons:
        key = (r.code, r.field)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return tuple(out)


def build_verdict(s: Screening) -> Verdict:
    """Stage 9: the worst status any reason asks for, with what the handler needs."""
    reasons = _dedupe(s.reasons)
    status = worst([r.status for r in reasons])
    claim, c = s.claim, s.campaign
    now = dt.datetime.now(dt.UTC)
    out: dict[str, object] = {}
    if c is not None and s.sku is not None and s.sku.sku is not None:
        out["matched_sku"] = s.sku.sku.sku
        if status != Status.REJECT:  # what would be paid once the claim is complete and validated
            out.update(cashback_amount=s.sku.sku.amount, cashback_currency=c.payout_currency or s.sku.sku.currency)
    if s.reseller is not None and s.reseller.reseller is not None:
        out["matched_reseller"] = s.reseller.reseller.id
    if c is not None and claim is not None:
        submitted = claim.submitted_at.astimezone(ZoneInfo(c.timezone)).date()
        if status == Status.INCOMPLETE:
            out["missing"] = tuple(dict.fromkeys(r.field or r.code for r in reasons if r.status == Status.INCOMPLETE))
            # the claimant is told on the day of screening; the reply window runs from then
            today = max(submitted, now.astimezone(ZoneInfo(c.timezone)).date())
            out["reply_deadline"] = today + dt.timedelta(days=c.reply_days)
        if status == Status.APPROVE:
            base = submitted if c.payment_from == "complete_claim" else now.astimezone(ZoneInfo(c.timezone)).date()
            out["payment_due"] = base + dt.timedelta(days=c.payment_days)
    fields: dict[str, FieldValue] = {}
    if s.extraction is not None:
        fields.update(s.extraction.fields())
        ex = s.extraction
        fields["document_kind"] = FieldValue(name="document_kind", raw=ex.document_kind.value,
                                             value=ex.document_kind.value, confidence=ex.document_kind_confidence)
    scores: dict[str, float] = {}
    if s.reseller is not None:
        scores.update(reseller=s.reseller.score, reseller_name=s.reseller.name_score)
    if s.sku is not None:
        scores["sku"] = s.sku.score
    out["match_scores"] = scores
    if s.label is not None:
        for name in ("serial_text", "serial_barcode", "model_text"):
            fv = getattr(s.label, name)
            if fv is not None:
                fields[f"label_{name}"] = fv
    claim_id = claim.claim_id if claim is not None else s.claim_dir.name
    return Verdict(claim_id=claim_id, campaign_id=c.id if c else (claim.campaign_id if claim else None),
                   status=status, reasons=reasons, fields=fields, signals=s.signals, timings=dict(s.timings),
                   screened_at=now,
                   pipeline_version=__version__, **out)  # type: ignore[arg-type]


def record_verdict(s: Screening, verdict: Verdict) -> Verdict:
    """Stage 10: remember the claim and its verdict. Registering the serial
    happens here, in the same transaction, under a unique constraint: if
    another claim got the serial first, the verdict comes back amended."""
    if s.store is None or s.claim is None or s.campaign is None:
        return verdict
    try:
        stored = s.store.record(s.claim, s.campaign, verdict, files=tuple(s.files.values()),
                                serial=s.claim.declared.serial_number, fingerprint=s.fingerprint)
    except Exception as exc:  # noqa: BLE001 - the verdict must still come out
        log.error("claim %s: recording in the claims store failed: %s", s.claim_dir.name, type(exc).__name__)
        failed = reason("INTERNAL_ERROR", field="store", detail=f"{type(exc).__name__} while recording the claim")
        return verdict.model_copy(update={"reasons": verdict.reasons + (failed,),
                                          "status": worst([verdict.status, Status.REVIEW])})
    return stored.model_copy(update={"reasons": tuple(
        r if r.clause else r.model_copy(update={"clause": s.campaign.clause(r.code)}) for r in stored.reasons)})


def screen_claim(claim_dir: Path | str, settings: Settings | None = None, store: Store | None = None) -> Verdict:
    """Screen one claim folder. Never raises for bad input: every problem is a reason.

    With the default settings the claim is remembered in the claims store
    (`store`, or the one `settings` name); `Settings(use_store=False)` screens
    without memory across claims."""
    settings = settings or Settings()
    if store is None:
        store = open_store(settings)
    s = Screening(claim_dir=Path(claim_dir), settings=settings, store=store)
    for name, stage in STAGES:
        if s.stop:
            break
        t0 = time.perf_counter()
        try:
            s = stage(s)
        except DependencyMissing:
            raise  # a broken installation is not the claim's fault: stop the batch loudly
        except ClaimcheckError as exc:
            log.warning("claim %s: stage %s failed: %s", s.claim_dir.name, name, exc.code)
            s = s.add(reason("OCR_FAILED" if exc.code == "OCR_FAILED" else "INTERNAL_ERROR",
                             field=name, detail=exc.message))
            if name in ("load", "check_files"):
                s = dataclasses.replace(s, stop=True)
        except Exception as exc:  # noqa: BLE001 - a bad claim must never stop the batch
            log.exception("claim %s: stage %s crashed", s.claim_dir.name, name)
            s = s.add(reason("INTERNAL_ERROR", field=name, detail=f"{type(exc).__name__} in stage {name}"))
            if name in ("load", "check_files"):
                s = dataclasses.replace(s, stop=True)
        s.timings[name] = round(time.perf_counter() - t0, 4)
    t0 = time.perf_counter()
    verdict = build_verdict(s)
    verdict = record_verdict(s, verdict)
    return verdict.model_copy(update={"timings": {**verdict.timings, "record": round(time.perf_counter() - t0, 4)}})


__all__ = ["STAGES", "Screening", "build_verdict", "screen_claim", "purchase_date"]
