#!/usr/bin/env python3
"""Degraded copies of a SROIE-format set (tuning data only: never run it on a report set).

    .venv/bin/python scripts/augment_sroie.py /work/gen/sroie-tune-sro OUT [--copies 1] [--seed 1]

Each image gets `--copies` degraded copies (`STEM-aN.jpg`), each from two or three of: downscaling
to 60-70 %, a slight blur, a rotation of 1-3 degrees, added noise, faded print (lower contrast,
lighter ink) and a JPEG re-save at quality 40-60 (always last). The labels (and the transcripts of
`ocr_lines/`, for the GST scorer) are copied under the new stem; `companies.txt` as it is. The
choices are drawn from a generator seeded by (seed, stem, copy), so a run is reproducible. The
degradations made are listed in OUT/augment.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np


def _rng(seed: int, stem: str, copy: int) -> np.random.Generator:
    h = hashlib.sha1(f"{seed}:{stem}:{copy}".encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "big"))


def downscale(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    f = float(rng.uniform(0.60, 0.70))
    return cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), f"scale_{f:.2f}"


def blur(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    s = float(rng.uniform(0.6, 1.1))
    return cv2.GaussianBlur(img, (0, 0), s), f"blur_{s:.2f}"


def rotate(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    a = float(rng.uniform(1.0, 3.0)) * (1 if rng.random() < 0.5 else -1)
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), a, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)), f"rotate_{a:.1f}"


def noise(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    s = float(rng.uniform(6, 14))
    out = img.astype(np.float32) + rng.normal(0, s, img.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8), f"noise_{s:.0f}"


def fade(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    c = float(rng.uniform(0.45, 0.65))  # ink lightened: dark pixels pulled towards the paper
    out = 255.0 - (255.0 - img.astype(np.float32)) * c
    return np.clip(out, 0, 255).astype(np.uint8), f"fade_{c:.2f}"


STEPS = (downscale, blur, rotate, noise, fade)


def degrade(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    k = int(rng.integers(2, 4))
    picks = sorted(rng.choice(len(STEPS), size=k, replace=False))  # fixed order: scale, blur, rotate, ...
    names = []
    for p in picks:
        img, name = STEPS[p](img, rng)
        names.append(name)
    return img, names


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not (a.src / "images").is_dir() or not (a.src / "labels").is_dir():
        print(f"{a.src}: not a SROIE-format folder (images/ and labels/)", file=sys.stderr)
        return 2
    for sub in ("images", "labels", "ocr_lines"):
        (a.out / sub).mkdir(parents=True, exist_ok=True)
    if (a.src / "companies.txt").is_file():
        shutil.copy(a.src / "companies.txt", a.out / "companies.txt")
    made: dict[str, list[str]] = {}
    for path in sorted((a.src / "images").glob("*.jpg")):
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        label = a.src / "labels" / f"{path.stem}.json"
        if img is None or not label.is_file():
            print(f"skipped {path.name}: unreadable image or no label", file=sys.stderr)
            continue
        for c in range(1, a.copies + 1):
            rng = _rng(a.seed, path.stem, c)
            out, names = degrade(img, rng)
            q = int(rng.integers(40, 61))
            names.append(f"jpeg_{q}")
            stem = f"{path.stem}-a{c}"
            cv2.imwrite(str(a.out / "images" / f"{stem}.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, q])
            shutil.copy(label, a.out / "labels" / f"{stem}.json")
            lines = a.src / "ocr_lines" / f"{path.stem}.txt"
            if lines.is_file():
                shutil.copy(lines, a.out / "ocr_lines" / f"{stem}.txt")
            made[stem] = names
    (a.out / "augment.json").write_text(json.dumps(made, indent=1))
    print(f"{len(made)} degraded copies in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
