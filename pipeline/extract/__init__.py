"""Extract stage: fields from the receipt's and the serial label's text.

`extract_receipt` and `extract_label` are the stage's entry points. They take
OCR text only (never a claimant's declared values) and return each field with
its normalised value, a confidence and the evidence it was read from.

Confidence scheme (0..1, per field): a base that reflects how the value was
found (label cue found, checksum valid, several readings agree) multiplied by
an OCR factor 0.5 + 0.5 * mean word confidence of the words it came from.
Roughly: >= 0.8 labelled and valid; 0.4-0.8 plausible but unlabelled or
ambiguous; < 0.3 a guess (e.g. a VAT number whose checksum fails).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from models.documents import DocumentText
from models.fields import DocumentKind, FieldValue, LabelExtraction, ReceiptExtraction
from pipeline.extract.amounts import CURRENCY_BY_COUNTRY, KRONE_BY_COUNTRY, extract_total
from pipeline.extract.cues import find_cues
from pipeline.extract.dates import extract_purchase_date
from pipeline.extract.doc_kind import classify, condition_flags
from pipeline.extract.layout import Row, build_rows, clamp01, ocr_factor
from pipeline.extract.products import extract_product_lines, merge_product_lines, parse_product
from pipeline.extract.receipt_number import extract_receipt_number
from pipeline.extract.reseller import extract_header, extract_top_lines
from pipeline.extract.serial import _compile, pick_serial, serial_candidates
from pipeline.extract.vat import extract_vats

log = logging.getLogger(__name__)

__all__ = ["extract_receipt", "extract_label"]


def _best_of(primary: FieldValue | None, others: list[FieldValue | None]) -> FieldValue | None:
    """Vote over the readings of one field: values are grouped, each group weighs
    the sum of its confidences (the first reading slightly preferred on ties); the
    winner's confidence rises a little per agreeing reading and falls per
    disagreeing one."""
    readings = [f for f in [primary, *others] if f is not None]
    if not readings:
        return None
    if len(readings) == 1:
        return readings[0]
    groups: dict[str, list[FieldValue]] = {}
    for f in readings:
        groups.setdefault(f.value, []).append(f)

    def weight(item: tuple[str, list[FieldValue]]) -> float:
        return sum(f.confidence for f in item[1]) + (0.01 if primary is not None and primary in item[1] else 0.0)

    value, members = max(groups.items(), key=weight)
    best = max(members, key=lambda f: f.confidence)
    agree = len(members) - 1
    disagree = len(readings) - len(members)
    c = best.confidence + 0.05 * agree - 0.05 * disagree
    if "repaired_from" in best.meta:
        # a value derived against the printed one (a payment-line repair) keeps its cap:
        # both engines reading the same lines does not make the printed one wrong
        c = min(c, best.confidence)
    contra = next((f for f in members if "contradicted_by" in f.meta), None)
    extra: dict[str, str] = {}
    if contra is not None:
        # one reading saw a payment line contradicting this value: a reading that missed
        # that line does not lift it
        c = min(c, contra.confidence)
        extra = {k: contra.meta[k] for k in ("contradicted_by", "payment_amount") if k in contra.meta}
    return best.model_copy(update={"confidence": round(clamp01(c), 3),
                                   "meta": {**best.meta, **extra,
                                            "readings_agree": f"{len(members)}/{len(readings)}"}})


#: confidence cap of a receipt number the readings disagree on
DISAGREED_NUMBER_CONF = 0.75


def _readings_disagree(f: FieldValue) -> bool:
    agree, _, of = f.meta.get("readings_agree", "").partition("/")
    return agree.isdigit() and of.isdigit() and int(agree) < int(of)


def _single(rows: list[Row], country: str | None) -> dict[str, object]:
    out: dict[str, object] = {}
    out["seller_vat"], out["buyer_vat"], _ = extract_vats(rows, country)
    out["date"], out["weekday"] = extract_purchase_date(rows)
    out["total"], out["currency"] = extract_total(rows, country)
    out["receipt_number"] = extract_receipt_number(rows)
    return out


def extract_receipt(doc: DocumentText, *, country: str | None = None, serial_pattern: str | None = None,
                    extra_docs: Sequence[DocumentText] = (), reread: bool | None = None) -> ReceiptExtraction:
    """Fields of a receipt. `country` (ISO alpha-2) only resolves ambiguities
    ("kr", 8-digit numbers); `extra_docs` are other OCR readings of the same
    receipt, used to fill gaps and to vote.

    `reread` (default: when a campaign's `serial_pattern` is given and the file is
    an image or a scanned PDF that exists on disk): the probable handwriting and a
    shaky receipt number are read again line by line with RapidOCR's recogniser
    (`pipeline.extract.serial.reread_serial_regions`, ~0.1-0.2 s a line) and voted on."""
    ex = _extract_receipt(doc, country=country, serial_pattern=serial_pattern, extra_docs=extra_docs)
    if reread is None:
        import os

        reread = serial_pattern is not None and any(p.source != "pdf-text" for p in doc.pages) \
            and bool(doc.file.path) and os.path.isfile(doc.file.path)
    if reread:
        from pipeline.extract.serial import reread_serial_regions

        ex = reread_serial_regions(doc.file, doc, ex, serial_pattern, alt_docs=extra_docs)
    return ex


def _extract_receipt(doc: DocumentText, *, country: str | None = None, serial_pattern: str | None = None,
                     extra_docs: Sequence[DocumentText] = ()) -> ReceiptExtraction:
    rows = build_rows(doc)
    extra_rows = [build_rows(d) for d in extra_docs]
    main = _single(rows, country)
    extras = [_single(r, country) for r in extra_rows if r]

    def field(name: str) -> FieldValue | None:
        v = main[name]
        return _best_of(v if isinstance(v, FieldValue) else None,
                        [e[name] for e in extras if isinstance(e[name], FieldValue)])  # type: ignore[misc]

    seller_vat = field("seller_vat")
    buyer_vat = field("buyer_vat")
    date = field("date")
    weekday = field("weekday")
    total = field("total")
    currency = field("currency")
    receipt_number = field("receipt_number")
    if receipt_number is not None and _readings_disagree(receipt_number):
        # the two engines read different numbers: the vote's winner is not proven
        receipt_number = receipt_number.model_copy(update={"confidence": min(receipt_number.confidence,
                                                                              DISAGREED_NUMBER_CONF)})

    # "kr" without a country: resolve from the seller's VAT country
    if currency is not None and currency.value == "KR":
        cc = (seller_vat.meta.get("country") if seller_vat else None) or (country or "").upper()
        code = KRONE_BY_COUNTRY.get(cc or "")
        if code:
            currency = currency.model_copy(update={"value": code, "meta": {**currency.meta, "resolved_by": "country"}})
    if currency is None and total is not None and seller_vat is not None:
        code = CURRENCY_BY_COUNTRY.get(seller_vat.meta.get("country", ""))
        if code:
            currency = FieldValue(name="currency", raw="", value=code, confidence=0.3, evidence=seller_vat.evidence,
                                  meta={"inferred": "seller_vat_country"})

    header, name = extract_header(rows)
    if name is None:
        for r in extra_rows:
            header2, name2 = extract_header(r)
            if name2 is not None:
                header, name = header2, name2
                break

    kind, kind_conf = classify(rows)
    if kind == DocumentKind.UNKNOWN:
        for r in extra_rows:
            k2, c2 = classify(r)
            if k2 != DocumentKind.UNKNOWN:
                kind, kind_conf = k2, round(c2 * 0.9, 3)
                break

    # an order confirmation's order number is not a receipt number
    if kind == DocumentKind.ORDER_CONFIRMATION and receipt_number is not None \
            and receipt_number.meta.get("cue_kind") == "order":
        receipt_number = None

    products = merge_product_lines(extract_product_lines(rows), [extract_product_lines(r) for r in extra_rows])

    def product_rows(rs: list[Row]) -> set[int]:
        return {int(p.meta["row"]) for p in extract_product_lines(rs) if p.meta.get("row", "").isdigit()}

    flags = condition_flags(rows, product_rows(rows))
    seen = {f.value for f in flags}
    for r in extra_rows:
        for f in condition_flags(r, product_rows(r)):
            if f.value not in seen:
                flags.append(f)
                seen.add(f.value)

    # serial: all readings, excluding the printed fields found above
    excl = {f.value for f in (seller_vat, buyer_vat, receipt_number) if f is not None}
    excl |= {f.raw for f in (seller_vat, buyer_vat, receipt_number) if f is not None}
    cands = serial_candidates(rows, serial_pattern, 0, excl)
    for k, r in enumerate(extra_rows, start=1):
        cands += serial_candidates(r, serial_pattern, k, excl)
    serial = pick_serial(cands, 1 + len(extra_rows))

    return ReceiptExtraction(
        document_kind=kind, document_kind_confidence=kind_conf,
        reseller_name=name, reseller_vat=seller_vat, buyer_vat=buyer_vat, purchase_date=date,
        receipt_number=receipt_number, total=total, currency=currency, product_lines=tuple(products),
        serial_handwritten=serial, condition_flags=tuple(flags), header_lines=tuple(header), weekday=weekday,
        top_lines=tuple(extract_top_lines(rows, header)),
    )


_GS1_SERIAL = re.compile(r"^(?:\(01\)|01)\d{14}(?:\(21\)|21)([A-Za-z0-9]{4,20})")


def extract_label(doc: DocumentText, *, serial_pattern: str | None = None) -> LabelExtraction:
    """Serial (barcode and OCR) and model text from a photo of the product's label."""
    rx = _compile(serial_pattern)
    role = doc.file.role.value
    serial_barcode: FieldValue | None = None
    for page in doc.pages:
        for bc in page.barcodes:
            payload = bc.text.strip()
            cand, conf = None, 0.0
            up = payload.upper()
            if rx.fullmatch(up):
                cand, conf = up, 0.97
            else:
                m = _GS1_SERIAL.match(payload)
                if m and rx.fullmatch(m.group(1).upper()):
                    cand, conf = m.group(1).upper(), 0.93
                else:
                    for tm in re.finditer(r"[A-Za-z0-9]+", payload):
                        t = tm.group(0).upper()
                        if rx.fullmatch(t) and sum(ch.isdigit() for ch in t) >= 2:
                            cand, conf = t, 0.7
                            break
            if cand and (serial_barcode is None or conf > serial_barcode.confidence):
                from models.fields import Evidence

                serial_barcode = FieldValue(name="serial_barcode", raw=payload, value=cand, confidence=conf,
                                            evidence=Evidence(document=role, page=page.page_no, box=bc.box,
                                                              text=payload),
                                            meta={"symbology": bc.engine})
    rows = build_rows(doc)
    serial_text: FieldValue | None = None
    cands = serial_candidates(rows, serial_pattern, 0, set())
    if cands:
        best = max(cands, key=lambda c: (c.score, c.conf))
        base = 0.9 if best.score >= 0.7 else 0.5
        serial_text = FieldValue(name="serial_text", raw=best.raw, value=best.value,
                                 confidence=round(clamp01(base * ocr_factor(best.conf)), 3),
                                 evidence=best.row.span_evidence(best.start, best.end),
                                 meta={"cue": "yes" if best.score >= 0.7 else "no"})
    model_text: FieldValue | None = None
    best_model: tuple[float, Row, str] | None = None
    for row in rows:
        cues = find_cues(row.text)
        mc = [c for c in cues if c.label == "MODEL"]
        spec = parse_product(row.text)
        score = 0.0
        text = row.text
        if mc:
            rest = row.text[mc[0].end:].strip(" :.-")
            if rest:
                score, text = 0.8, rest
        if spec.codes and score < 0.7:
            score, text = 0.6, " ".join(sorted(spec.codes))
        if spec.is_lens and score < 0.6:
            score, text = 0.55, row.text
        if score and (best_model is None or score > best_model[0]):
            best_model = (score, row, text)
    if best_model is not None:
        score, row, text = best_model
        model_text = FieldValue(name="model_text", raw=row.text, value=" ".join(text.split()),
                                confidence=round(clamp01(score * ocr_factor(row.conf)), 3), evidence=row.evidence())
    return LabelExtraction(serial_text=serial_text, serial_barcode=serial_barcode, model_text=model_text)
