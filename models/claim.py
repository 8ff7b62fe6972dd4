"""The claim a consumer submits: the form fields and the names of its files.

A claim on disk is a folder with `claim.json` (this model) and the files it
names. `claimcheck schema` prints its JSON Schema; docs/claim.schema.json is
the published copy (a test keeps it in sync).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from models.base import Record


class BankDetails(Record):
    iban: str | None = Field(default=None, description="IBAN, spaces allowed")
    bank_country: str | None = Field(default=None, description="ISO 3166 alpha-2 country of the bank")
    clearing_number: str | None = None
    account_number: str | None = None
    bank_name: str | None = None


class Claimant(Record):
    name: str
    email: str
    country: str = Field(description="ISO 3166 alpha-2")
    phone: str | None = None
    address: str | None = None
    bank: BankDetails = Field(default_factory=BankDetails)

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.strip().upper()


class DeclaredFields(Record):
    """What the claimant typed into the form about the purchase."""

    product_model: str
    serial_number: str
    purchase_date: dt.date
    reseller: str
    receipt_number: str | None = None


class ClaimFiles(Record):
    receipt: str = Field(description="file name of the receipt, relative to the claim folder")
    serial_photo: str | None = Field(default=None, description="file name of the serial-label photo")


class Claim(Record):
    claim_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    campaign_id: str
    submitted_at: dt.datetime = Field(description="when the claim was registered, with a UTC offset")
    declared: DeclaredFields
    claimant: Claimant
    files: ClaimFiles

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("submitted_at needs a UTC offset, e.g. 2022-11-20T10:00:00+01:00")
        return v
