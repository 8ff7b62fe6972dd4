"""Campaign files: the shipped ones load and check clean; broken ones fail with file, key and fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.claim import Claim
from pipeline.campaign_check import check_campaign_files, reseller_number_valid
from pipeline.campaigns import REFERENCE_DATA, get_campaign, load_campaign_file
from pipeline.errors import CampaignError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_campaigns_check_clean():
    assert check_campaign_files() == []


@pytest.mark.parametrize(
    ("campaign_id", "start", "end", "tz", "reply", "limit"),
    [("sigma-dk-autumn-2022", "2022-10-01", "2022-11-30", "Europe/Copenhagen", 14, 5),
     ("sony-no-refusjon-2022", "2022-11-01", "2023-01-15", "Europe/Oslo", 14, None),
     ("sony-ro-cashback-2018", "2018-11-01", "2019-01-31", "Europe/Bucharest", 10, 3)],
)
def test_campaign_terms(campaign_id, start, end, tz, reply, limit):
    c = get_campaign(campaign_id)
    assert (c.purchase_start.isoformat(), c.purchase_end.isoformat()) == (start, end)
    assert c.timezone == tz and c.reply_days == reply and c.max_claims_per_claimant == limit


def test_example_lists_are_marked():
    for cid in ("sony-no-refusjon-2022", "sony-ro-cashback-2018"):
        c = get_campaign(cid)
        assert all(s.example for s in c.skus) and all(r.example for r in c.resellers)
    assert not any(s.example for s in get_campaign("sigma-dk-autumn-2022").skus)


def test_unknown_campaign_suggests_close_name():
    with pytest.raises(CampaignError, match="did you mean 'sigma-dk-autumn-2022'"):
        get_campaign("sigma-dk-autum-2022")


def _copy(tmp_path: Path, edit) -> Path:
    shutil.copytree(REFERENCE_DATA, tmp_path / "rd")
    path = tmp_path / "rd" / "campaigns" / "sigma-dk-autumn-2022.toml"
    path.write_text(edit(path.read_text()))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [(lambda s: s.replace("reply_days = 14", "reply_dayz = 14"), "unknown key 'reply_dayz'; did you mean 'reply_days'"),
     (lambda s: s.replace("reply_days = 14", 'reply_days = "two weeks"'), "'reply_days'"),
     (lambda s: s.replace("purchase_end = 2022-11-30", "purchase_end = 2022-09-01"), "before purchase_start"),
     (lambda s: s.replace('timezone = "Europe/Copenhagen"\n', ""), "'timezone': Field required"),
     (lambda s: s.replace("max_bytes = 5242880", "max_byte = 5242880"), "unknown key 'files.max_byte'"),
     (lambda s: s.replace("= [", "= [[", 1), "not valid TOML")],
    ids=["typo", "wrong-type", "inverted-window", "missing-field", "nested-typo", "bad-toml"],
)
def test_broken_campaign_file_names_file_and_key(tmp_path, edit, message):
    path = _copy(tmp_path, edit)
    with pytest.raises(CampaignError) as err:
        load_campaign_file(path)
    assert message in err.value.message and str(path) in err.value.message


def test_check_reports_duplicate_sku_and_bad_reseller_number(tmp_path):
    path = _copy(tmp_path, lambda s: s)
    skus = path.parent.parent / "skus" / "sigma_dk_autumn_2022.csv"
    skus.write_text(skus.read_text() + "213965,14-24MM F/2.8 DG DN ART SONY E/FE,1490,DKK,,false\n")
    res = path.parent.parent / "resellers" / "sigma_nordic_example.csv"
    res.write_text(res.read_text().replace("DK12972997", "DK12972998"))
    problems = check_campaign_files([path])
    assert any("duplicate SKU 213965" in p for p in problems)
    path2 = _copy(tmp_path / "b", lambda s: s)
    res2 = path2.parent.parent / "resellers" / "sigma_nordic_example.csv"
    res2.write_text(res2.read_text().replace("DK12972997", "DK12972998"))
    assert any("fails the DK checksum" in p for p in check_campaign_files([path2]))


@pytest.mark.parametrize(
    ("country", "number", "valid"),
    [("DK", "DK12972997", True), ("DK", "12972998", False), ("NO", "NO918057889MVA", True), ("NO", "918057888", False),
     ("SE", "SE557413748401", True), ("FI", "FI50090518", True), ("RO", "RO64615762", True), ("RO", "RO64615763", False)],
)
def test_reseller_number_checksums(country, number, valid):
    assert reseller_number_valid(country, number) is valid


def test_published_schema_is_current():
    published = json.loads((ROOT / "docs" / "claim.schema.json").read_text())
    assert published == Claim.model_json_schema(), "regenerate with: claimcheck schema > docs/claim.schema.json"
