"""`claimcheck campaigns check`: every problem in the campaign files, listed
with the file and the key, rather than the first one raised."""

from __future__ import annotations

from pathlib import Path

from stdnum import get_cc_module

from models.campaign import Campaign
from pipeline.campaigns import CAMPAIGN_DIR, load_campaign_file
from pipeline.errors import CampaignError

# python-stdnum modules that validate a reseller's number, per country (first that accepts wins)
_VAT_MODULES = {
    "DK": ("vat",), "SE": ("vat", "orgnr"), "NO": ("mva", "orgnr"), "FI": ("vat", "ytunnus"), "RO": ("vat", "cui", "cf"),
}


def reseller_number_valid(country: str, number: str) -> bool:
    for name in _VAT_MODULES.get(country.upper(), ("vat",)):
        mod = get_cc_module(country.lower(), name)
        if mod is not None and mod.is_valid(number):
            return True
    return False


def check_campaign(c: Campaign, path: Path) -> list[str]:
    problems = []
    for r in c.resellers:
        if r.vat and not reseller_number_valid(r.country, r.vat):
            problems.append(f"{path}: reseller '{r.id}': number {r.vat} fails the {r.country} checksum")
        if r.country not in c.reseller_countries:
            problems.append(f"{path}: reseller '{r.id}' is in {r.country}, outside reseller_countries")
    for s in c.skus:
        if s.currency != c.currency:
            problems.append(f"{path}: SKU {s.sku}: currency {s.currency} differs from the campaign's {c.currency}")
    if c.claim_end is not None and c.claim_end < c.purchase_end:
        problems.append(f"{path}: claim_end {c.claim_end} is before purchase_end {c.purchase_end}")
    return problems


def _windows_overlap(a: Campaign, b: Campaign) -> bool:
    return a.purchase_start <= b.purchase_end and b.purchase_start <= a.purchase_end


def check_campaign_files(paths: list[Path] | None = None) -> list[str]:
    files = sorted(paths) if paths else sorted(CAMPAIGN_DIR.glob("*.toml"))
    problems: list[str] = []
    loaded: list[tuple[Path, Campaign]] = []
    for path in files:
        try:
            c = load_campaign_file(path)
        except CampaignError as exc:
            problems.append(exc.message)
            continue
        if c.id != Path(path).stem:
            problems.append(f"{path}: id '{c.id}' must equal the file name '{Path(path).stem}'")
        problems.extend(check_campaign(c, Path(path)))
        loaded.append((Path(path), c))
    for i, (pa, a) in enumerate(loaded):
        for pb, b in loaded[i + 1:]:
            shared = {s.sku for s in a.skus} & {s.sku for s in b.skus}
            if a.country == b.country and shared and _windows_overlap(a, b):
                problems.append(f"{pa} and {pb}: purchase windows overlap for {len(shared)} shared SKUs in {a.country}")
    return problems
