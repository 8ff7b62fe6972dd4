"""A campaign's terms as data. Each rule-bearing field names the clause of the
terms it comes from (`clauses`), so every verdict reason can cite it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, model_validator

from models.base import Record
from models.fields import DocumentKind


class Sku(Record):
    sku: str
    name: str
    amount: Decimal
    currency: str
    aliases: tuple[str, ...] = ()
    example: bool = False  # True for lists the terms do not give (replace before use)


class Reseller(Record):
    id: str
    name: str
    country: str
    vat: str | None = None  # VAT or organisation number, with or without prefix
    aliases: tuple[str, ...] = ()
    example: bool = False


class ExcludedChannel(Record):
    name: str
    patterns: tuple[str, ...]  # lower-case words or phrases that identify it on a receipt
    clause: str


class FileLimits(Record):
    formats: tuple[str, ...] = ("jpeg", "png", "pdf")
    max_bytes: int = 5 * 1024 * 1024
    max_pages: int = 10
    max_pixels: int = 50_000_000
    source: str = ""  # clause, or why the default applies


class Campaign(Record):
    id: str
    name: str
    organizer: str
    country: str  # ISO alpha-2 of the campaign
    timezone: str  # IANA name, e.g. Europe/Copenhagen
    currency: str
    ocr_languages: tuple[str, ...] = ("eng",)
    reseller_countries: tuple[str, ...]  # where an authorized purchase may be made
    purchase_start: dt.date
    purchase_end: dt.date  # inclusive
    claim_end: dt.date | None = None  # last day (inclusive, local time) a claim may be registered
    claim_min_days_after_purchase: int = 0
    reply_days: int  # days to complete an incomplete claim
    payment_days: int
    payment_from: str  # "complete_claim" or "validation"
    max_claims_per_claimant: int | None = None
    one_claim_per_serial: bool = True
    # serials are unique within a scope shared by the organizer's campaigns (SIGMA 15 (ii): "a previous campaign")
    serial_scope: str = ""
    required_receipt_fields: tuple[str, ...]
    accepted_document_kinds: tuple[DocumentKind, ...]
    new_products_only: bool = True
    end_users_only: bool = False
    handwritten_serial_required: bool = False
    serial_photo_required: bool = True
    serial_pattern: str = r"[A-Z0-9]{5,14}"
    payout_bank_countries: tuple[str, ...] = ()
    payout_currency: str | None = None
    files: FileLimits = Field(default_factory=FileLimits)
    excluded_channels: tuple[ExcludedChannel, ...] = ()
    skus: tuple[Sku, ...]
    resellers: tuple[Reseller, ...]
    clauses: dict[str, str] = Field(default_factory=dict)  # rule code -> clause reference

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        if self.purchase_end < self.purchase_start:
            raise ValueError(f"purchase_end {self.purchase_end} is before purchase_start {self.purchase_start}")
        if self.claim_end is not None and self.claim_end < self.purchase_start:
            raise ValueError(f"claim_end {self.claim_end} is before purchase_start {self.purchase_start}")
        seen: set[str] = set()
        for s in self.skus:
            if s.sku in seen:
                raise ValueError(f"duplicate SKU {s.sku}")
            seen.add(s.sku)
        ids = [r.id for r in self.resellers]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate reseller id")
        return self

    def clause(self, code: str) -> str:
        return self.clauses.get(code, "")
