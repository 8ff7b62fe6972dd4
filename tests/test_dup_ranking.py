"""Ranking the duplicate candidates (Store.find_duplicates): the closest by
hash are ranked again by a keypoint vote (fingerprint.keypoint_votes), and
only the best-ranked few are verified. Small synthetic receipts, no OCR."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import pipeline.forensics.fingerprint as fpm
from models.campaign import Campaign
from pipeline.forensics.fingerprint import MIN_INLIERS, keypoint_votes, unpack_features, unpack_keypoints
from pipeline.store import Store
from pipeline.store import store as store_mod
from tests.test_fingerprint import _crop, fp_of, jpeg, receipt
from tests.test_store import db_url, make_claim, make_verdict, sigma, store  # noqa: F401 - fixtures
from tests.test_store_duplicates import OTHER, _bytes, submit


def _others(i: int):  # noqa: ANN202 - a receipt of the same shop and layout, its own content
    return receipt(number=f"{70000 + i * 37}", date=f"{(i % 27) + 1:02d}.10.2022", total=f"{100 + i},00",
                   extra=f"Kort: **** {1000 + i * 7}",
                   items=tuple((f"Item {j}", f"{i * 3 + j},00") for j in range(1 + i % 4)))


@pytest.mark.parametrize("side", ["left", "top"])
def test_the_vote_prefers_the_same_receipt_over_its_template(side: str) -> None:
    """A cropped copy: its keypoints agree with one map onto the original far
    more than onto receipts of the same shop and layout (which share only
    the header and footer)."""
    again = fp_of(jpeg(_crop(receipt(), side), 80))
    qf = unpack_features(again.features or b"")

    def vote(img: Image.Image) -> int:
        return keypoint_votes(qf.points, qf.descriptors, *unpack_keypoints(fp_of(img).features or b""))

    same = vote(receipt())
    best_other = max(vote(_others(i)) for i in range(4))
    assert same >= MIN_INLIERS
    assert same > 1.25 * best_other


def test_too_few_matches_vote_zero() -> None:
    fp = fp_of(receipt())
    qf = unpack_features(fp.features or b"")
    few = keypoint_votes(qf.points[:10], qf.descriptors[:10], qf.points, qf.descriptors)
    none = keypoint_votes(qf.points, qf.descriptors, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    assert few == 0 and none == 0


def test_an_original_the_hashes_rank_last_is_still_verified(store: Store, sigma: Campaign,  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashes that put the true original behind all its template's receipts
    (what a re-photo or a crop can do) do not hide it: the keypoint vote of
    a cropped copy brings it into the few that are verified, and no more are
    verified."""
    n = 9
    for i in range(n):
        submit(store, sigma, f"r-{i}", _bytes(_others(i)), serial=f"9{i:07d}", email=f"r{i}@example.org", iban=None)
    _, orig = submit(store, sigma, "orig", _bytes(receipt()), serial="77777777", email="o@example.org", iban=None)
    assert n + 1 <= store_mod.DUPLICATE_PRESELECT
    assert store_mod.DUPLICATE_CANDIDATES < n
    worst = orig.hashes_hex()
    real_distance = fpm.hash_distance
    monkeypatch.setattr(fpm, "hash_distance", lambda q, text: 64.0 if text == worst else real_distance(q, text) / 2)
    verified: list[int] = []
    real_verify = fpm.verify
    monkeypatch.setattr(fpm, "verify", lambda *a: verified.append(1) or real_verify(*a))
    found, _ = submit(store, sigma, "dup", _bytes(_crop(receipt(), "left"), "JPEG", quality=85), serial="88888888",
                      **OTHER)
    assert [s.other_claim for s in found if s.detector == "duplicate.same_image"] == ["orig"]
    assert 1 <= len(verified) <= store_mod.DUPLICATE_CANDIDATES


def test_a_different_receipt_of_the_template_is_not_matched(store: Store, sigma: Campaign) -> None:  # noqa: F811
    for i in range(4):
        submit(store, sigma, f"r-{i}", _bytes(_others(i)), serial=f"9{i:07d}", email=f"r{i}@example.org", iban=None)
    claim = make_claim("new", sigma, serial="55555555", **OTHER)  # type: ignore[arg-type]
    fp = fp_of(jpeg(receipt(number="81234", items=(("Tripod T-200", "59,00"), ("Lens cap 67mm", "9,90"),
                                                   ("Camera bag", "29,00")), total="97,90"), 80))
    assert [s for s in store.find_duplicates(claim, sigma, fp) if s.detector == "duplicate.same_image"] == []
    store.record(claim, sigma, make_verdict(claim), fingerprint=fp)
