"""Stage 8: the campaign's terms as rules.

Each rule is a function from the screening context to reasons; `RULES`
lists them in one place. A rule that would reject on a value read with low
confidence asks for review instead: the machine only rejects on evidence it
is sure of. docs/rules.md maps each clause of the terms to its rule.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError

from models.campaign import Campaign, Sku
from models.claim import Claim
from models.documents import DocumentRole, DocumentText
from models.fields import DocumentKind, Evidence, FieldValue, LabelExtraction, ReceiptExtraction
from models.match import ChannelHit, ResellerMatch, SkuMatch
from models.verdict import Reason, Status
from pipeline.reasons import KIND_LABELS, reason
from pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    claim: Claim
    campaign: Campaign
    settings: Settings
    receipt: DocumentText | None = None
    extraction: ReceiptExtraction | None = None
    label: LabelExtraction | None = None
    label_doc: DocumentText | None = None
    reseller: ResellerMatch | None = None
    sku: SkuMatch | None = None
    channels: tuple[ChannelHit, ...] = ()
    files: frozenset[DocumentRole] = field(default_factory=frozenset)

    def clause(self, code: str) -> str:
        return self.campaign.clause(code)

    @property
    def submitted_local(self) -> dt.date:
        return self.claim.submitted_at.astimezone(ZoneInfo(self.campaign.timezone)).date()

    def confident(self, fv: FieldValue | None) -> bool:
        return fv is not None and fv.confidence >= self.settings.accept_confidence

    def campaign_refuses_some_kind(self) -> bool:
        known = {k for k in DocumentKind if k != DocumentKind.UNKNOWN}
        return not known <= set(self.campaign.accepted_document_kinds)

    def found(self, fv: FieldValue | None) -> bool:
        return fv is not None and fv.confidence >= self.settings.min_confidence


def _ev(fv: FieldValue | None) -> tuple[Evidence, ...]:
    return (fv.evidence,) if fv is not None and fv.evidence is not None else ()


def _date(fv: FieldValue | None) -> dt.date | None:
    if fv is None:
        return None
    try:
        return dt.date.fromisoformat(fv.value)
    except ValueError:
        return None


def purchase_date(ctx: Context) -> tuple[dt.date, bool]:
    """The purchase date the rules act on, and whether it is certain: the
    receipt's when read confidently, else the declared one (not certain
    unless the receipt agrees)."""
    ex = ctx.extraction
    read = _date(ex.purchase_date) if ex else None
    if read is not None and ctx.confident(ex.purchase_date if ex else None):
        return read, True
    return ctx.claim.declared.purchase_date, read == ctx.claim.declared.purchase_date


# --- rules -------------------------------------------------------------------

def rule_receipt_readable(ctx: Context) -> list[Reason]:
    if ctx.receipt is not None and not any(p.lines for p in ctx.receipt.pages):
        return [reason("RECEIPT_UNREADABLE", field="receipt", clause=ctx.clause("RECEIPT_FIELD_MISSING"))]
    return []


def rule_document_kind(ctx: Context) -> list[Reason]:
    ex = ctx.extraction
    if ex is None or ex.document_kind == DocumentKind.UNKNOWN:
        return []
    accepted = ctx.campaign.accepted_document_kinds
    if ex.document_kind in accepted:
        if ctx.campaign_refuses_some_kind() and ex.document_kind_confidence < ctx.settings.document_kind_accept_confidence:
            # an accepted kind read with low confidence may be a refused one (an order confirmation taken for a
            # till receipt): not an approval on that reading
            return [reason("DOCUMENT_KIND_UNCERTAIN", field="document_kind", confidence=ex.document_kind_confidence,
                           clause=ctx.clause("DOCUMENT_KIND_NOT_ACCEPTED"),
                           kind_label=KIND_LABELS.get(ex.document_kind.value, ex.document_kind.value))]
        return []
    status = Status.INCOMPLETE if ex.document_kind_confidence >= 0.5 else Status.REVIEW
    return [reason("DOCUMENT_KIND_NOT_ACCEPTED", field="document_kind", status=status,
                   clause=ctx.clause("DOCUMENT_KIND_NOT_ACCEPTED"),
                   kind_label=KIND_LABELS.get(ex.document_kind.value, ex.document_kind.value))]


def _required_value(ctx: Context, name: str) -> tuple[bool, FieldValue | None]:
    ex = ctx.extraction
    assert ex is not None
    if name == "product_model":
        if ctx.sku is not None and ctx.sku.sku is not None:
            return True, None
        best = max(ex.product_lines, key=lambda f: f.confidence, default=None)
        return ctx.found(best), best
    if name == "reseller_name":
        if ctx.reseller is not None and ctx.reseller.reseller is not None and ctx.reseller.by_name is not None:
            return True, None
        return ctx.found(ex.reseller_name), ex.reseller_name
    fv = getattr(ex, name, None)
    return ctx.found(fv), fv


def rule_required_fields(ctx: Context) -> list[Reason]:
    """SIGMA 5 and 10, Sony NO FAQ 4, Sony RO Pasul 3: what the receipt must show."""
    if ctx.extraction is None or ctx.receipt is None or not any(p.lines for p in ctx.receipt.pages):
        return []
    out = []
    for name in ctx.campaign.required_receipt_fields:
        ok, fv = _required_value(ctx, name)
        if not ok:
            out.append(reason("RECEIPT_FIELD_MISSING", field=name, clause=ctx.clause("RECEIPT_FIELD_MISSING")))
        elif fv is not None and not ctx.confident(fv):
            out.append(reason("RECEIPT_FIELD_UNCERTAIN", field=name, confidence=fv.confidence,
                              clause=ctx.clause("RECEIPT_FIELD_MISSING"), evidence=_ev(fv)))
    return out


def rule_purchase_window(ctx: Context) -> list[Reason]:
    c = ctx.campaign
    clause = ctx.clause("PURCHASE_OUTSIDE_WINDOW")
    out: list[Reason] = []
    declared = ctx.claim.declared.purchase_date
    ex = ctx.extraction
    fv = ex.purchase_date if ex else None
    read = _date(fv)
    start, end = c.purchase_start.isoformat(), c.purchase_end.isoformat()
    if not (c.purchase_start <= declared <= c.purchase_end):
        # the claimant's own statement puts the purchase outside the period
        out.append(reason("PURCHASE_OUTSIDE_WINDOW", field="purchase_date", clause=clause,
                          date=declared.isoformat(), start=start, end=end))
    if read is not None and not (c.purchase_start <= read <= c.purchase_end) and not out:
        if ctx.confident(fv):
            out.append(reason("PURCHASE_OUTSIDE_WINDOW", field="purchase_date", clause=clause, evidence=_ev(fv),
                              date=read.isoformat(), start=start, end=end))
        else:
            out.append(reason("PURCHASE_DATE_UNCERTAIN", field="purchase_date", clause=clause, evidence=_ev(fv),
                              date=read.isoformat()))
    if read is not None and read != declared and ctx.found(fv):
        out.append(reason("DECLARED_MISMATCH", field="purchase_date", clause=ctx.clause("DECLARED_MISMATCH"),
                          evidence=_ev(fv), declared=declared.isoformat(), found=read.isoformat()))
    return out


def rule_claim_window(ctx: Context) -> list[Reason]:
    c = ctx.campaign
    out: list[Reason] = []
    submitted = ctx.submitted_local
    if c.claim_end is not None and submitted > c.claim_end:
        out.append(reason("CLAIM_TOO_LATE", clause=ctx.clause("CLAIM_TOO_LATE"),
                          submitted=submitted.isoformat(), end=c.claim_end.isoformat()))
    bought, certain = purchase_date(ctx)
    days = (submitted - bought).days
    if days < 0:
        fv = ctx.extraction.purchase_date if ctx.extraction else None
        out.append(reason("PURCHASE_AFTER_SUBMISSION", field="purchase_date", evidence=_ev(fv),
                          date=bought.isoformat(), submitted=submitted.isoformat()))
    elif days < c.claim_min_days_after_purchase:
        status = Status.REJECT if certain or bought == ctx.claim.declared.purchase_date else Status.REVIEW
        out.append(reason("CLAIM_TOO_EARLY", clause=ctx.clause("CLAIM_TOO_EARLY"), status=status,
                          days=days, min_days=c.claim_min_days_after_purchase))
    return out


def _names_a_product(text: str) -> bool:
    """The text describes a lens or camera (focal range, mount or model code), not a filter or a bag."""
    from pipeline.extract.products import parse_product

    spec = parse_product(text)
    # a lens name carries an aperture or a mount besides the focal length ("72mm" alone is a filter size)
    return bool(spec.codes) or (spec.focal is not None and (spec.aperture is not None or spec.mount is not None))


def _eligible(text: str, skus: tuple[Sku, ...]) -> bool:
    from pipeline.match import sku_text_score

    return any(sku_text_score(text, sku) >= 0.5 for sku in skus)


def rule_sku(ctx: Context) -> list[Reason]:
    """SKU_NOT_ELIGIBLE rejects only on positive evidence: a confidently read
    receipt line, or the model the claimant typed, that names a lens or camera
    matching none of the campaign's SKUs. Not finding the eligible line (a shop
    abbreviation, an OCR misreading) is SKU_UNCERTAIN: review, never reject."""
    s, m = ctx.settings, ctx.sku
    ex = ctx.extraction
    if m is None or ex is None:
        return []
    clause = ctx.clause("SKU_NOT_ELIGIBLE")
    skus = ctx.campaign.skus
    if m.sku is None or m.score < s.sku_reject_score:
        declared = ctx.claim.declared.product_model
        ineligible = [fv for fv in ex.product_lines
                      if fv.confidence >= s.accept_confidence and _names_a_product(fv.value)
                      and not _eligible(fv.value, skus)]
        if ineligible:
            return [reason("SKU_NOT_ELIGIBLE", field="product_model", clause=clause, evidence=_ev(ineligible[0]),
                           product=ineligible[0].value)]
        if _names_a_product(declared) and not _eligible(declared, skus):
            return [reason("SKU_NOT_ELIGIBLE", field="product_model", clause=clause, evidence=m.evidence,
                           product=declared)]
        if not ex.product_lines and m.sku is None:
            return []  # nothing readable: rule_required_fields asks for it
        return [reason("SKU_UNCERTAIN", field="product_model", clause=clause, evidence=m.evidence,
                       detail="no receipt line matches an eligible product")]
    out = []
    if m.score < s.sku_accept_score or (m.runner_up is not None and m.score - m.runner_up_score < s.sku_margin):
        detail = f"best {m.sku.sku} at {m.score:.2f}"
        if m.runner_up is not None:
            detail += f", next {m.runner_up.sku} at {m.runner_up_score:.2f}"
        out.append(reason("SKU_UNCERTAIN", field="product_model", clause=clause, evidence=m.evidence, detail=detail))
    return out


def _declared_differs(ctx: Context, field: str, declared: str, names: tuple[str, ...], found: str,
                      evidence: tuple[Evidence, ...], threshold: float = 0.6) -> list[Reason]:
    """DECLARED_MISMATCH when what the claimant typed is like none of the names the receipt matched."""
    from pipeline.match import similarity

    if not declared or max(similarity(declared, n) for n in names) >= threshold:
        return []
    return [reason("DECLARED_MISMATCH", field=field, clause=ctx.clause("DECLARED_MISMATCH"), evidence=evidence,
                   declared=declared, found=found)]


def rule_declared_model(ctx: Context) -> list[Reason]:
    """The model typed in the form names the SKU matched on the receipt (compared
    structurally: focal range, aperture, mount, model code; not by shared words)."""
    from pipeline.extract.products import parse_product
    from pipeline.match import sku_text_score

    m = ctx.sku
    declared = ctx.claim.declared.product_model
    if m is None or m.sku is None or sku_text_score(declared, m.sku) >= 0.5:
        return []
    spec = parse_product(declared)
    if spec.focal is None and spec.mount is None and not spec.codes:
        # nothing to compare structurally ("Sigma 85 1.4 Art Sony"): compare the words
        return _declared_differs(ctx, "product_model", declared, (m.sku.name, *m.sku.aliases), m.sku.name,
                                 m.evidence)
    return [reason("DECLARED_MISMATCH", field="product_model", clause=ctx.clause("DECLARED_MISMATCH"),
                   evidence=m.evidence, declared=declared, found=m.sku.name)]


def rule_channel(ctx: Context) -> list[Reason]:
    return [reason("EXCLUDED_CHANNEL", field="reseller_name", clause=hit.channel.clause or ctx.clause("EXCLUDED_CHANNEL"),
                   evidence=hit.evidence, channel=hit.channel.name) for hit in ctx.channels[:1]]


def rule_reseller(ctx: Context) -> list[Reason]:
    s, m, ex = ctx.settings, ctx.reseller, ctx.extraction
    if m is None or ex is None or ctx.channels:
        return []
    out: list[Reason] = []
    if m.conflict:
        detail = f"name: {m.by_name.name if m.by_name else '?'}; VAT: {m.by_vat.name if m.by_vat else '?'}"
        out.append(reason("RESELLER_VAT_CONFLICT", field="reseller_vat", clause=ctx.clause("RESELLER_VAT_INVALID"),
                          evidence=m.evidence, detail=detail))
    vat = ex.reseller_vat
    if vat is not None and vat.meta.get("checksum") == "invalid":
        out.append(reason("RESELLER_VAT_INVALID", field="reseller_vat", clause=ctx.clause("RESELLER_VAT_INVALID"),
                          evidence=_ev(vat), vat=vat.value))
    if m.reseller is not None:
        if m.reseller.country not in ctx.campaign.reseller_countries:
            out.append(reason("RESELLER_NOT_AUTHORIZED", field="reseller_name", evidence=m.evidence,
                              clause=ctx.clause("RESELLER_NOT_AUTHORIZED"), reseller=m.reseller.name))
        elif m.score < s.reseller_accept_score and m.by_vat is None:
            out.append(reason("RESELLER_UNCERTAIN", field="reseller_name", evidence=m.evidence,
                              clause=ctx.clause("RESELLER_NOT_AUTHORIZED"),
                              detail=f"best {m.reseller.name} at {m.score:.2f}"))
        return out
    name = ex.reseller_name
    if name is None:
        return out  # rule_required_fields asks for it when the terms require it
    if ctx.confident(name) and m.score < s.reseller_reject_score:
        out.append(reason("RESELLER_NOT_AUTHORIZED", field="reseller_name", evidence=_ev(name),
                          clause=ctx.clause("RESELLER_NOT_AUTHORIZED"), reseller=name.value))
    else:
        out.append(reason("RESELLER_UNCERTAIN", field="reseller_name", evidence=_ev(name),
                          clause=ctx.clause("RESELLER_NOT_AUTHORIZED"), detail=f"best score {m.score:.2f}"))
    return out


def rule_condition(ctx: Context) -> list[Reason]:
    ex = ctx.extraction
    if not ctx.campaign.new_products_only or ex is None or not ex.condition_flags:
        return []
    flag = ex.condition_flags[0]
    return [reason("PRODUCT_NOT_NEW", field="product_model", clause=ctx.clause("PRODUCT_NOT_NEW"),
                   evidence=_ev(flag), condition=flag.value)]


def rule_end_user(ctx: Context) -> list[Reason]:
    ex = ctx.extraction
    if not ctx.campaign.end_users_only or ex is None or ex.buyer_vat is None:
        return []
    return [reason("BUYER_IS_BUSINESS", field="buyer_vat", clause=ctx.clause("BUYER_IS_BUSINESS"),
                   evidence=_ev(ex.buyer_vat), vat=ex.buyer_vat.value)]


def _norm_serial(s: str) -> str:
    return "".join(ch for ch in s.upper() if ch.isalnum())


def _serial_distance(a: str, b: str) -> int:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(_norm_serial(a), _norm_serial(b))


def rule_serial(ctx: Context) -> list[Reason]:
    c, s = ctx.campaign, ctx.settings
    clause = ctx.clause("SERIAL_MISMATCH")
    out: list[Reason] = []
    declared = ctx.claim.declared.serial_number
    if c.serial_photo_required and DocumentRole.SERIAL_PHOTO not in ctx.files and not ctx.claim.files.serial_photo:
        out.append(reason("SERIAL_PHOTO_MISSING", field="serial_photo", clause=ctx.clause("SERIAL_PHOTO_MISSING")))
    label = ctx.label.serial if ctx.label is not None else None
    if DocumentRole.SERIAL_PHOTO in ctx.files:
        if label is None or not ctx.found(label):
            out.append(reason("SERIAL_UNREADABLE", field="serial_label", clause=clause, where="label photo",
                              evidence=_ev(label)))
        elif _serial_distance(label.value, declared) > s.serial_max_distance:
            out.append(reason("SERIAL_MISMATCH", field="serial_label", clause=clause, evidence=_ev(label),
                              where="on the label photo", detail=f"form {declared}, label {label.value}"))
    hand = ctx.extraction.serial_handwritten if ctx.extraction else None
    if hand is not None and ctx.found(hand):
        ref, ref_name = (label.value, "label") if label is not None and ctx.found(label) else (declared, "form")
        if _serial_distance(hand.value, ref) > s.serial_max_distance:
            out.append(reason("SERIAL_MISMATCH", field="serial_handwritten", clause=clause, evidence=_ev(hand),
                              where="handwritten on the receipt",
                              detail=f"receipt {hand.value}, {ref_name} {ref}"))
    return out


def rule_payout(ctx: Context) -> list[Reason]:
    c = ctx.campaign
    bank = ctx.claim.claimant.bank
    out: list[Reason] = []
    country = (bank.bank_country or "").upper() or None
    if bank.iban:
        try:
            compact = stdnum_iban.validate(bank.iban)
            country = compact[:2]
        except StdnumError as exc:
            # the message names the check that failed, never the number
            out.append(reason("IBAN_INVALID", field="bank", clause=ctx.clause("IBAN_INVALID"),
                              detail=type(exc).__name__.replace("Invalid", "invalid ").strip()))
    if c.payout_bank_countries and country and country not in c.payout_bank_countries:
        out.append(reason("PAYOUT_BANK_COUNTRY", field="bank", clause=ctx.clause("PAYOUT_BANK_COUNTRY"),
                          country=country, allowed=", ".join(c.payout_bank_countries)))
    return out


def rule_declared_reseller(ctx: Context) -> list[Reason]:
    m = ctx.reseller
    if m is None or m.reseller is None:
        return []
    return _declared_differs(ctx, "reseller_name", ctx.claim.declared.reseller,
                             (m.reseller.name, *m.reseller.aliases), m.reseller.name, m.evidence)


def rule_declared_receipt_number(ctx: Context) -> list[Reason]:
    ex = ctx.extraction
    if ex is None or ex.receipt_number is None or not ctx.confident(ex.receipt_number):
        return []
    found = ex.receipt_number.value
    return _declared_differs(ctx, "receipt_number", ctx.claim.declared.receipt_number or "", (found,), found,
                             _ev(ex.receipt_number), threshold=0.8)


Rule = Callable[[Context], list[Reason]]

# The rules in the order their reasons are listed in a verdict.
RULES: tuple[Rule, ...] = (
    rule_receipt_readable,
    rule_document_kind,
    rule_channel,
    rule_purchase_window,
    rule_claim_window,
    rule_sku,
    rule_declared_model,
    rule_reseller,
    rule_declared_reseller,
    rule_declared_receipt_number,
    rule_required_fields,
    rule_condition,
    rule_end_user,
    rule_serial,
    rule_payout,
)


def apply_rules(ctx: Context) -> list[Reason]:
    out: list[Reason] = []
    for rule in RULES:
        out.extend(rule(ctx))
    return out
