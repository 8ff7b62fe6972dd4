"""What the match stage produces: the receipt's reseller, SKU and sales
channel matched against the campaign's lists."""

from __future__ import annotations

from models.base import Record
from models.campaign import ExcludedChannel, Reseller, Sku
from models.fields import Evidence


class ResellerMatch(Record):
    reseller: Reseller | None = None  # the reseller name and VAT agree on (or the only signal there is)
    score: float = 0.0  # 0..1
    by_name: Reseller | None = None
    name_score: float = 0.0
    by_vat: Reseller | None = None
    conflict: bool = False  # name and VAT number point to different resellers
    evidence: tuple[Evidence, ...] = ()


class SkuMatch(Record):
    sku: Sku | None = None
    score: float = 0.0  # 0..1
    line_text: str = ""  # the receipt line it was matched on
    runner_up: Sku | None = None
    runner_up_score: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    # mount variants of the same lens the receipt line does not tell apart (same focal
    # range, aperture, line and cashback amount); `sku` is then the one the claimant declared
    variants: tuple[str, ...] = ()


class ChannelHit(Record):
    channel: ExcludedChannel
    text: str
    evidence: tuple[Evidence, ...] = ()


class NameMatch(Record):
    """A closed-set match of a free text against a plain list of names."""

    name: str | None = None
    score: float = 0.0
    evidence: tuple[Evidence, ...] = ()
