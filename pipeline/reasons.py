"""The catalogue of verdict reason codes: the status each asks for and the
sentence a claim handler reads. Rules build reasons only through `reason()`,
so every code a verdict can carry is listed here (and in docs/rules.md)."""

from __future__ import annotations

from models.fields import Evidence
from models.verdict import Reason, Status

R, I, V, A = Status.REJECT, Status.INCOMPLETE, Status.REVIEW, Status.APPROVE  # noqa: E741 - table shorthand

CATALOGUE: dict[str, tuple[Status, str]] = {
    # intake
    "CLAIM_INVALID": (V, "The claim form could not be read: {detail}."),
    "CAMPAIGN_UNKNOWN": (V, "The claim names a campaign that is not configured: {detail}."),
    "FILE_MISSING": (I, "The {field} file named in the claim was not uploaded."),
    "FILE_EMPTY": (I, "The {field} file is empty (0 bytes)."),
    "FILE_TYPE_MISMATCH": (I, "The {field} file is named as {named} but its content is {detected}."),
    "FILE_FORMAT_UNSUPPORTED": (I, "The {field} file is {detected}; the campaign accepts {allowed}."),
    "FILE_TOO_LARGE": (I, "The {field} file is {size} bytes; the campaign's limit is {limit} bytes."),
    "FILE_CORRUPT": (I, "The {field} file is damaged and cannot be opened: {detail}."),
    "FILE_ENCRYPTED": (I, "The {field} PDF is password-protected and cannot be read."),
    "FILE_TOO_MANY_PAGES": (I, "The {field} PDF has {pages} pages; at most {limit} are read."),
    "FILE_TOO_MANY_PIXELS": (I, "The {field} image is {width} x {height} pixels, over the {limit}-pixel limit."),
    # reading
    "RECEIPT_UNREADABLE": (I, "No text could be read on the receipt; a sharper copy is needed."),
    "OCR_FAILED": (V, "The OCR engine failed on the {field}: {detail}."),
    # terms
    "RECEIPT_FIELD_MISSING": (I, "The receipt does not show the {label}, which the terms require."),
    "RECEIPT_FIELD_UNCERTAIN": (V, "The {label} on the receipt was read with low confidence ({confidence:.0%})."),
    "DOCUMENT_KIND_NOT_ACCEPTED": (I, "The document looks like {kind_label}, which the terms do not accept as proof of purchase."),
    "DOCUMENT_KIND_UNCERTAIN": (V, "The document was taken for {kind_label} with low confidence ({confidence:.0%}); the terms do not accept every kind of document."),
    "PURCHASE_OUTSIDE_WINDOW": (R, "The purchase date {date} is outside the campaign's purchase period {start} to {end}."),
    "PURCHASE_DATE_UNCERTAIN": (V, "The purchase date {date} would fall outside the campaign period, but it was read with low confidence."),
    "PURCHASE_AFTER_SUBMISSION": (V, "The receipt's date {date} is after the claim was submitted ({submitted})."),
    "CLAIM_TOO_LATE": (R, "The claim was registered on {submitted}, after the last claim day {end}."),
    "CLAIM_TOO_EARLY": (R, "The claim was registered {days} days after purchase; the terms require at least {min_days}."),
    "SKU_NOT_ELIGIBLE": (R, "The product on the receipt ({product}) is not one of the campaign's eligible products."),
    "SKU_UNCERTAIN": (V, "The product on the receipt could not be matched to an eligible product with confidence ({detail})."),
    "RESELLER_NOT_AUTHORIZED": (R, "The seller '{reseller}' is not on the campaign's list of authorized resellers."),
    "RESELLER_UNCERTAIN": (V, "The seller could not be matched to an authorized reseller with confidence ({detail})."),
    "RESELLER_VAT_CONFLICT": (V, "The reseller's name and its VAT number on the receipt point to different resellers ({detail})."),
    "RESELLER_VAT_INVALID": (V, "The reseller VAT number {vat} on the receipt fails its checksum."),
    "EXCLUDED_CHANNEL": (R, "The purchase was made through {channel}, which the terms exclude."),
    "PRODUCT_NOT_NEW": (V, "The receipt describes the product as {condition}; only new products qualify."),
    "BUYER_IS_BUSINESS": (V, "The receipt carries a buyer's company VAT number ({vat}); claims from resellers or businesses are excluded."),
    "SERIAL_MISMATCH": (V, "The serial number {where} does not match: {detail}."),
    "SERIAL_UNREADABLE": (V, "The serial number on the {where} could not be read with confidence."),
    "SERIAL_PHOTO_MISSING": (I, "The photo of the product's serial-number label is missing."),
    "DECLARED_MISMATCH": (V, "The {label} typed in the form ({declared}) differs from the receipt ({found})."),
    "PAYOUT_BANK_COUNTRY": (I, "The bank account is in {country}; the campaign pays only to banks in {allowed}."),
    "IBAN_INVALID": (I, "The IBAN given for payment is not valid ({detail})."),
    # memory across claims (the claims store)
    "SERIAL_ALREADY_CLAIMED": (V, "The serial number was already claimed in claim {other} ({campaign})."),
    "CLAIMANT_LIMIT_REACHED": (R, "This claimant already has {count} claims in the campaign; the terms allow {limit}."),
    "CLAIMANT_PRIOR_FRAUD": (V, "This claimant made a claim judged fraudulent before ({other})."),
    # forensics: never a rejection on their own (a handler judges a changed receipt)
    "RECEIPT_ALTERED_SUSPECTED": (V, "The receipt shows signs of alteration: {detail}."),
    "RECEIPT_INCONSISTENT": (V, "What the receipt prints does not add up: {detail}."),
    "RECEIPT_DUPLICATE": (V, "The same receipt was already submitted in claim {other} ({detail})."),
    "INTERNAL_ERROR": (V, "The pre-screen failed on this claim ({detail}); a handler must check it by hand."),
}

FIELD_LABELS = {
    "reseller_name": "reseller's name",
    "reseller_vat": "reseller's VAT number",
    "purchase_date": "purchase date",
    "product_model": "product model",
    "receipt_number": "receipt number",
    "serial_handwritten": "handwritten serial number",
    "total": "total amount",
    "serial_number": "serial number",
}

KIND_LABELS = {
    "order_confirmation": "an online order confirmation",
    "handwritten_receipt": "a handwritten receipt",
    "unknown": "an unrecognised document",
    "till_receipt": "a till receipt",
    "invoice": "an invoice",
}


def reason(code: str, *, field: str | None = None, clause: str = "", evidence: tuple[Evidence, ...] = (),
           status: Status | None = None, **params: object) -> Reason:
    """Build a Reason from the catalogue. `params` fill the sentence."""
    default_status, template = CATALOGUE[code]
    values = {"field": field or "", "label": FIELD_LABELS.get(field or "", field or ""), **params}
    try:
        message = template.format(**values)
    except (KeyError, ValueError, IndexError):
        message = template
    return Reason(code=code, status=status or default_status, message=message, field=field,
                  clause=clause, evidence=evidence)
