"""Degraded copies of SROIE scans, to get more extraction failure cases from a tuning half.

    .venv/bin/python scripts/augment_sroie.py /work/gen/sroie-tune-sro /work/gen/sroie-tune-aug-shd --seed 5

For every images/<ID>.jpg it writes OUT/images/<ID>__aug.jpg: the scan after two or three
degradations drawn at random (deterministic for a --seed), in this order when drawn:
rotation by 1-3 degrees (either way, white fill), downscaling to 60-70%, a slight Gaussian blur
(sigma 0.5-1.0), added Gaussian noise (sigma 4-9 grey levels), and always a JPEG save at quality
40-60. OUT/labels/<ID>__aug.json and OUT/ocr_lines/<ID>__aug.txt repeat the original's label and
transcript (the GST number scorer reads the transcript; its boxes are no longer the image's), and
OUT/companies.txt the closed list, so `claimcheck eval OUT` scores the copies. OUT/augment.json
lists what was done to each copy.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter


def degrade(img: Image.Image, rng: random.Random) -> tuple[Image.Image, dict]:
    ops: dict = {}
    picks = rng.sample(["rotate", "downscale", "blur", "noise"], k=rng.choice((2, 3)))
    img = img.convert("RGB")
    if "rotate" in picks:
        deg = rng.uniform(1.0, 3.0) * rng.choice((-1, 1))
        img = img.rotate(deg, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
        ops["rotate"] = round(deg, 2)
    if "downscale" in picks:
        f = rng.uniform(0.60, 0.70)
        img = img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.LANCZOS)
        ops["downscale"] = round(f, 3)
    if "blur" in picks:
        s = rng.uniform(0.5, 1.0)
        img = img.filter(ImageFilter.GaussianBlur(s))
        ops["blur"] = round(s, 2)
    if "noise" in picks:
        s = rng.uniform(4.0, 9.0)
        arr = np.asarray(img, dtype=np.float32)
        nrng = np.random.default_rng(rng.randrange(2**32))
        arr = np.clip(arr + nrng.normal(0.0, s, arr.shape[:2])[..., None], 0, 255).astype(np.uint8)
        img = Image.fromarray(arr)
        ops["noise"] = round(s, 2)
    ops["jpeg_quality"] = rng.randint(40, 60)
    return img, ops


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    src: Path = args.dataset
    out: Path = args.out
    for sub in ("images", "labels", "ocr_lines"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "companies.txt", out / "companies.txt")
    rng = random.Random(args.seed)
    done: dict[str, dict] = {}
    for path in sorted((src / "images").glob("*.jpg")):
        stem = path.stem
        label = src / "labels" / f"{stem}.json"
        if not label.exists():
            continue
        new = f"{stem}__aug"
        with Image.open(path) as im:
            img, ops = degrade(im, rng)
        img.save(out / "images" / f"{new}.jpg", quality=ops["jpeg_quality"])
        shutil.copyfile(label, out / "labels" / f"{new}.json")
        lines = src / "ocr_lines" / f"{stem}.txt"
        if lines.exists():
            shutil.copyfile(lines, out / "ocr_lines" / f"{new}.txt")
        done[new] = ops
    (out / "augment.json").write_text(json.dumps({"seed": args.seed, "source": str(src), "copies": done}, indent=1))
    print(f"{len(done)} degraded copies in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
