"""The first RANSAC fit of a duplicate look-up (`fingerprint.align`) is capped at FIRST_FIT_ITERS
draws (issue 6, the time budget): a pair whose matches mostly agree stops long before the cap, so
its fit is the same draw for draw as under a higher cap; only pairs that never align run to it."""

from __future__ import annotations

import cv2
import numpy as np

import pipeline.forensics.fingerprint as fpm


def _matches(n: int, share: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """n point matches of which `share` follow one homography (a re-submitted page), the rest random."""
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 1000, (n, 2)).astype(np.float32)
    H = np.array([[0.8, 0.03, 40.0], [-0.02, 0.82, 25.0], [1e-5, 2e-5, 1.0]])
    dst = cv2.perspectiveTransform(src.reshape(-1, 1, 2), H).reshape(-1, 2)
    dst += rng.normal(0, 0.7, dst.shape)
    k = int(round(share * n))
    dst[k:] = rng.uniform(0, 1000, (n - k, 2))
    return src, dst.astype(np.float32)


def test_a_mostly_agreeing_pair_is_fitted_exactly_as_under_a_higher_cap():
    for share in (0.44, 0.6, 0.9):
        for n in (40, 120, 400):
            src, dst = _matches(n, share)
            H1, m1 = cv2.findHomography(src, dst, cv2.RANSAC, 8.0, maxIters=fpm.FIRST_FIT_ITERS)
            H2, m2 = cv2.findHomography(src, dst, cv2.RANSAC, 8.0, maxIters=5000)
            assert np.array_equal(H1, H2) and np.array_equal(m1, m2), (share, n)
            assert int(m1.sum()) >= 0.95 * share * n


def test_the_cap_is_what_stops_a_pair_that_does_not_align():
    # all matches random: RANSAC never becomes confident and runs to its cap
    src, dst = _matches(200, 0.0)
    H, m = cv2.findHomography(src, dst, cv2.RANSAC, 8.0, maxIters=fpm.FIRST_FIT_ITERS)
    assert H is None or int(m.sum()) < fpm.MIN_INLIERS
    assert 100 <= fpm.FIRST_FIT_ITERS <= 1000
