"""What the extract stage produces: each field with its normalised value,
a confidence, and where on which document it was found."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from models.base import Record
from models.documents import Box


class DocumentKind(StrEnum):
    TILL_RECEIPT = "till_receipt"
    INVOICE = "invoice"
    ORDER_CONFIRMATION = "order_confirmation"
    HANDWRITTEN_RECEIPT = "handwritten_receipt"
    UNKNOWN = "unknown"


class Evidence(Record):
    document: str  # the document's role ("receipt", "serial_photo") or file name
    page: int = 1
    box: Box | None = None
    text: str = ""  # the OCR text the value was read from


class FieldValue(Record):
    """One extracted field.

    `raw` is the text as read; `value` is the normalised form used by rules
    (ISO date, decimal amount with a dot, VAT number compact with its country
    prefix, serial upper-cased without spaces); `meta` carries extras such as
    the VAT number's country and kind or the amount's currency.
    """

    name: str
    raw: str
    value: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: Evidence | None = None
    meta: dict[str, str] = Field(default_factory=dict)


class ReceiptExtraction(Record):
    """Fields read from the receipt. A field that was not found is absent."""

    document_kind: DocumentKind = DocumentKind.UNKNOWN
    document_kind_confidence: float = 0.0
    reseller_name: FieldValue | None = None
    reseller_vat: FieldValue | None = None
    buyer_vat: FieldValue | None = None  # a company VAT number of the buyer (SIGMA 11)
    purchase_date: FieldValue | None = None
    receipt_number: FieldValue | None = None
    total: FieldValue | None = None
    currency: FieldValue | None = None
    product_lines: tuple[FieldValue, ...] = ()  # candidate product/model lines
    serial_handwritten: FieldValue | None = None
    condition_flags: tuple[FieldValue, ...] = ()  # "used", "demo", "refurbished", "returned"
    header_lines: tuple[FieldValue, ...] = ()  # top-of-receipt lines, reseller candidates
    top_lines: tuple[FieldValue, ...] = ()  # the other rows above the items: weaker name candidates
    weekday: FieldValue | None = None

    def fields(self) -> dict[str, FieldValue]:
        out: dict[str, FieldValue] = {}
        for name in ("reseller_name", "reseller_vat", "buyer_vat", "purchase_date",
                     "receipt_number", "total", "currency", "serial_handwritten", "weekday"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return out


class LabelExtraction(Record):
    """Fields read from the photo of the product's serial-number label."""

    serial_text: FieldValue | None = None  # serial read by OCR
    serial_barcode: FieldValue | None = None  # serial decoded from a barcode
    model_text: FieldValue | None = None

    @property
    def serial(self) -> FieldValue | None:
        """The barcode when there is one (it has a checksum), else the OCR."""
        return self.serial_barcode or self.serial_text
