"""Re-submitted receipts caught by the whole screening, not the image look-up alone.

    .venv/bin/python scripts/bench_resubmission_e2e.py /work/gen/seed7-300 --sample 60 --out runs/resub-e2e-seed7.json

`bench_resubmission.py` measures the image fingerprint and its look-up with no OCR. A real
re-submission goes through the whole screen: the receipt is read, its reseller, receipt
number and date make the content key (`duplicate.same_receipt_number`), and the image is
looked up (`duplicate.same_image`). Here every claim of a generated set is screened
(`screen_claim`, every stage, real OCR or the OCR replay cache of CLAIMCHECK_OCR_CACHE_DIR)
into a fresh SQLite claims store; then the receipts of a seeded sample are re-submitted as
variants (the same ones `bench_resubmission.py` makes: `make_variant`) in new claims by
another claimant with another serial, and screened in turn. A variant is caught when a
flagged `duplicate.*` signal of its verdict names its original claim (the serial rule is kept
out of it: the variant's serial is new); a false match is one naming any other claim. The
sample and the variants use the same seeds as `bench_resubmission.py`, so the two benches
report the same re-photographs.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_resubmission import VARIANTS, make_variant  # noqa: E402

from pipeline.screen import screen_claim  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import Store  # noqa: E402


def _variant_claim(src: Path, variant: str, path: Path, out: Path, n: int) -> Path:
    """A copy of claim folder `src` whose receipt is `path`, under a new claim id, claimant and serial."""
    out.mkdir(parents=True)
    claim = json.loads((src / "claim.json").read_text())
    claim["claim_id"] = f"resub-{variant}-{claim['claim_id']}"[:128]
    claim["declared"]["serial_number"] = f"9{n:07d}"
    person = claim.get("claimant") or {}
    person.update(name=f"Other Claimant {n}", email=f"other.{n}@example.com")
    claim["claimant"] = person
    receipt = "receipt" + path.suffix
    shutil.copyfile(path, out / receipt)
    claim["files"]["receipt"] = receipt
    serial = claim["files"].get("serial_photo")
    if serial and (src / serial).is_file():
        shutil.copyfile(src / serial, out / serial)
    (out / "claim.json").write_text(json.dumps(claim, indent=2, ensure_ascii=False))
    return out


def _dupes(verdict) -> list:  # noqa: ANN001 - models.verdict.Verdict
    return [s for s in verdict.signals if s.detector.startswith("duplicate.") and s.flagged]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--sample", type=int, default=60, help="make variants of N receipts (random, seeded)")
    ap.add_argument("--variants", default="rephoto")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")

    folders = sorted(p for p in args.dataset.iterdir() if (p / "claim.json").is_file() and (p / "truth.json").is_file())
    tmp = Path(tempfile.mkdtemp(prefix="bench-resub-e2e-"))
    url = f"sqlite:///{tmp / 'store.db'}"
    settings = Settings(database_url=url)
    store = Store(url)
    store.migrate()
    ids = {}
    t_orig = []
    print(f"screening {len(folders)} claims into a fresh store ...", file=sys.stderr)
    orig_false = []
    for i, d in enumerate(folders):
        t0 = time.perf_counter()
        v = screen_claim(d, settings, store)
        t_orig.append(time.perf_counter() - t0)
        ids[v.claim_id] = d
        orig_false += [{"claim": v.claim_id, "other": s.other_claim, "detector": s.detector} for s in _dupes(v)]
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(folders)}", file=sys.stderr)

    # the sample and the variants of bench_resubmission.py (same seeds, same order of random draws)
    rng = random.Random(args.seed)
    order = list(ids)
    sample = order if not args.sample or args.sample >= len(order) else sorted(random.Random(args.seed).sample(order, args.sample))
    per = {v: {"caught": 0, "n": 0, "by": Counter(), "missed": [], "false": [], "seconds": []} for v in variants}
    n = 0
    print(f"{len(sample)} receipts x {len(variants)} variants ...", file=sys.stderr)
    for cid in sample:
        src = ids[cid]
        claim = json.loads((src / "claim.json").read_text())
        if not claim.get("files", {}).get("receipt") or not (src / claim["files"]["receipt"]).is_file():
            continue
        rpath = src / claim["files"]["receipt"]
        # every variant of bench_resubmission.py is made, in its order, so that the random draws
        # (JPEG quality, the re-photograph's camera) are the same; only `variants` are screened
        for v in VARIANTS:
            vdir = Path(tempfile.mkdtemp(dir=tmp))
            try:
                path = make_variant(v, rpath, rng, vdir)
            except Exception as exc:  # noqa: BLE001
                print(f"  {cid} {v}: variant failed: {exc}", file=sys.stderr)
                continue
            if v not in per:
                shutil.rmtree(vdir, ignore_errors=True)
                continue
            n += 1
            t0 = time.perf_counter()
            verdict = screen_claim(_variant_claim(src, v, path, vdir / "claim", n), settings, store)
            per[v]["seconds"].append(time.perf_counter() - t0)
            sig = _dupes(verdict)
            hit = [s.detector for s in sig if s.other_claim == cid]
            per[v]["n"] += 1
            if hit:
                per[v]["caught"] += 1
                per[v]["by"]["+".join(sorted(set(hit)))] += 1
            else:
                per[v]["missed"].append(cid)
            per[v]["false"] += [{"claim": cid, "other": s.other_claim, "detector": s.detector}
                                for s in sig if s.other_claim != cid]
    result = {"dataset": str(args.dataset), "registered": len(ids), "sampled": len(sample),
              "originals_false_matches": orig_false,
              "median_seconds_original_screen": round(statistics.median(t_orig), 3),
              "variants": {v: {"n": r["n"], "caught": r["caught"], "catch_rate": round(r["caught"] / max(1, r["n"]), 4),
                               "caught_by": dict(r["by"]), "missed": r["missed"], "false_matches": r["false"],
                               "median_seconds_screen": round(statistics.median(r["seconds"]), 3) if r["seconds"] else None}
                           for v, r in per.items()}}
    print(f"\n{'variant':<13} {'n':>4} {'caught':>7} {'rate':>7} {'false':>6}  caught by")
    for v, r in result["variants"].items():
        print(f"{v:<13} {r['n']:>4} {r['caught']:>7} {r['catch_rate']:>7.1%} {len(r['false_matches']):>6}  {r['caught_by']}")
    print(f"originals: {len(orig_false)} duplicate signals between different receipts of the set")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
