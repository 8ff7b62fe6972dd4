"""What the last stage produces: a status with its reasons and evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from models.base import Record
from models.fields import Evidence, FieldValue
from models.forensics import Signal


class Status(StrEnum):
    APPROVE = "approve"
    INCOMPLETE = "incomplete"
    REVIEW = "review"
    REJECT = "reject"


# Worst first: the verdict's status is the worst status any reason asks for.
STATUS_ORDER = (Status.REJECT, Status.INCOMPLETE, Status.REVIEW, Status.APPROVE)


class Reason(Record):
    code: str  # stable, upper snake case, e.g. PURCHASE_OUTSIDE_WINDOW
    status: Status  # the status this reason asks for
    message: str  # a plain sentence for a claim handler; no personal data
    field: str | None = None
    clause: str = ""  # the clause of the terms it rests on
    evidence: tuple[Evidence, ...] = ()


class Verdict(Record):
    claim_id: str
    campaign_id: str | None = None
    status: Status
    reasons: tuple[Reason, ...] = ()
    cashback_amount: Decimal | None = None
    cashback_currency: str | None = None
    matched_sku: str | None = None
    matched_reseller: str | None = None
    missing: tuple[str, ...] = ()  # for incomplete: what the claimant must send
    reply_deadline: dt.date | None = None
    payment_due: dt.date | None = None
    fields: dict[str, FieldValue] = Field(default_factory=dict)  # what was read, with evidence
    match_scores: dict[str, float] = Field(default_factory=dict)  # reseller, reseller_name, sku: 0..1
    signals: tuple[Signal, ...] = ()  # forensic findings (altered or re-submitted receipt), strongest first
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per stage
    screened_at: dt.datetime
    pipeline_version: str = ""

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def worst(statuses: list[Status]) -> Status:
    for s in STATUS_ORDER:
        if s in statuses:
            return s
    return Status.APPROVE
