"""Load and validate campaign files from reference_data/campaigns/.

A campaign is a TOML file whose SKU and reseller lists are CSV files next to
it. Unknown keys fail with the closest known key suggested (as invoice2data's
schema does), wrong types and missing fields fail with the file and key.
"""

from __future__ import annotations

import csv
import difflib
import logging
import tomllib
from collections.abc import Set as AbstractSet
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.campaign import Campaign, ExcludedChannel, FileLimits, Reseller, Sku
from pipeline.errors import CampaignError

log = logging.getLogger(__name__)

REFERENCE_DATA = Path(__file__).resolve().parent.parent / "reference_data"
CAMPAIGN_DIR = REFERENCE_DATA / "campaigns"
_FILE_KEYS = {"skus_file", "resellers_file"}

_NESTED: dict[str, type] = {"files": FileLimits, "excluded_channels": ExcludedChannel}


def _suggest(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _check_keys(data: dict[str, Any], model: type, where: str, path: Path, extra: AbstractSet[str] = frozenset()) -> None:
    known = set(model.model_fields) | set(extra)  # type: ignore[attr-defined]
    for key in data:
        if key not in known:
            raise CampaignError(f"{path}: unknown key '{where}{key}'{_suggest(key, known)}")


def _bool(v: str) -> bool:
    return v.strip().lower() in {"1", "true", "yes", "y"}


def _aliases(v: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (v or "").split(";") if a.strip())


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise CampaignError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_skus(path: Path) -> tuple[Sku, ...]:
    out = []
    for i, row in enumerate(_read_csv(path), start=2):
        try:
            out.append(Sku(sku=row["sku"].strip(), name=row["name"].strip(), amount=row["amount"],
                           currency=row["currency"].strip(), aliases=_aliases(row.get("aliases")),
                           example=_bool(row.get("example") or "false")))
        except (KeyError, ValidationError) as exc:
            raise CampaignError(f"{path}:{i}: bad SKU row ({_short(exc)})") from None
    return tuple(out)


def load_resellers(path: Path) -> tuple[Reseller, ...]:
    out = []
    for i, row in enumerate(_read_csv(path), start=2):
        try:
            out.append(Reseller(id=row["id"].strip(), name=row["name"].strip(), country=row["country"].strip().upper(),
                                vat=(row.get("vat") or "").strip() or None, aliases=_aliases(row.get("aliases")),
                                example=_bool(row.get("example") or "false")))
        except (KeyError, ValidationError) as exc:
            raise CampaignError(f"{path}:{i}: bad reseller row ({_short(exc)})") from None
    return tuple(out)


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            parts.append(f"'{loc}': {err['msg']}")
        return "; ".join(parts)
    if isinstance(exc, KeyError):
        return f"missing column {exc}"
    return str(exc)


def load_campaign_file(path: Path) -> Campaign:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: not valid TOML ({exc})") from None
    _check_keys(data, Campaign, "", path, extra=_FILE_KEYS | {"skus", "resellers"})
    for key, model in _NESTED.items():
        value = data.get(key)
        for item in value if isinstance(value, list) else [value] if isinstance(value, dict) else []:
            _check_keys(item, model, f"{key}.", path)
    for key in _FILE_KEYS:
        if key not in data and key.removesuffix("_file") + "s" not in data:
            raise CampaignError(f"{path}: missing key '{key}' (the CSV list of {key.removesuffix('_file')}s)")
    if "skus_file" in data:
        data["skus"] = load_skus(path.parent / data.pop("skus_file"))
    if "resellers_file" in data:
        data["resellers"] = load_resellers(path.parent / data.pop("resellers_file"))
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignError(f"{path}: {_short(exc)}") from None


@lru_cache(maxsize=32)
def _load_dir(directory: str) -> dict[str, Campaign]:
    out: dict[str, Campaign] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        c = load_campaign_file(path)
        if c.id in out:
            raise CampaignError(f"{path}: campaign id '{c.id}' is used twice")
        if c.id != path.stem:
            raise CampaignError(f"{path}: campaign id '{c.id}' must equal the file name '{path.stem}'")
        out[c.id] = c
    return out


def load_campaigns(directory: Path | None = None) -> dict[str, Campaign]:
    return _load_dir(str(directory or CAMPAIGN_DIR))


def get_campaign(campaign_id: str, directory: Path | None = None) -> Campaign:
    campaigns = load_campaigns(directory)
    if campaign_id not in campaigns:
        raise CampaignError(f"unknown campaign '{campaign_id}'{_suggest(campaign_id, set(campaigns))}",
                            code="CAMPAIGN_UNKNOWN")
    return campaigns[campaign_id]
