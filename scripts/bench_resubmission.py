"""Re-submitted receipts: how often the claims store finds them, how often it
matches different receipts, and how long fingerprint + look-up take.

    .venv/bin/python scripts/bench_resubmission.py /work/gen/seed7-300 --out runs/resubmission-seed7.json

Every receipt of a generated claim set is registered in a fresh SQLite store
(`Store.record(..., fingerprint=fp)`) under its claim; then each receipt is
re-submitted as variants under a new claim id and looked up
(`Store.find_duplicates`). A variant is caught when a signal names its
original claim; a false match is a signal naming any other claim. Every
original is also looked up against all the others (different receipts,
many from the same shop and layout). No OCR: the content key
(reseller + receipt number + date) is measured on the declared values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.claim import Claim  # noqa: E402
from models.documents import DocumentRole, FileInfo  # noqa: E402
from models.verdict import Status, Verdict  # noqa: E402
from pipeline.campaigns import get_campaign  # noqa: E402
from pipeline.forensics import ForensicInput  # noqa: E402
from pipeline.forensics.fingerprint import content_key, fingerprint  # noqa: E402
from pipeline.samples import photo  # noqa: E402
from pipeline.store import Store  # noqa: E402

VARIANTS = ("same_file", "jpeg_resave", "scale_50", "scale_75", "scale_125", "scale_150",
            "crop_top", "crop_bottom", "crop_left", "crop_right", "rephoto")


def file_info(path: Path, data: bytes | None = None) -> FileInfo:
    data = path.read_bytes() if data is None else data
    kind = {".pdf": "pdf", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}[path.suffix.lower()]
    return FileInfo(role=DocumentRole.RECEIPT, name=path.name, path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type=kind)


def page_image(path: Path) -> Image.Image:
    """The receipt as an RGB image; a PDF rasterised at 150 dpi (what a print would show)."""
    if path.suffix.lower() == ".pdf":
        from pipeline.render import _rasterise

        a = _rasterise(path, 0, 150)
        return Image.fromarray(a).convert("RGB")
    return Image.open(path).convert("RGB")


def make_variant(name: str, src: Path, rng: random.Random, tmp: Path) -> Path:
    if name == "same_file":
        out = tmp / f"v{src.suffix}"
        out.write_bytes(src.read_bytes())
        return out
    im = page_image(src)
    w, h = im.size
    quality = rng.choice([60, 70, 80, 90])
    if name == "jpeg_resave":
        pass
    elif name.startswith("scale_"):
        f = int(name.split("_")[1]) / 100
        im = im.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.LANCZOS)
    elif name.startswith("crop_"):
        side = name.split("_")[1]
        dx, dy = round(w * 0.1), round(h * 0.1)
        box = {"top": (0, dy, w, h), "bottom": (0, 0, w, h - dy), "left": (dx, 0, w, h), "right": (0, 0, w - dx, h)}[side]
        im = im.crop(box)
    elif name == "rephoto":
        # printed (or shown) and photographed again: perspective, table, lighting, blur, noise, JPEG
        im, _, _ = photo.phone_photo(im, rng)
        quality = rng.choice([75, 85, 92])
    out = tmp / "v.jpg"
    im.save(out, "JPEG", quality=quality)
    return out


def verdict(claim: Claim) -> Verdict:
    return Verdict(claim_id=claim.claim_id, campaign_id=claim.campaign_id, status=Status.APPROVE,
                   screened_at=dt.datetime.now(dt.UTC))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--limit", type=int, default=None, help="register only the first N claims")
    ap.add_argument("--sample", type=int, default=None, help="make variants of N receipts (random, seeded)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]

    folders = sorted(p for p in args.dataset.iterdir() if (p / "claim.json").is_file() and (p / "truth.json").is_file())
    if args.limit:
        folders = folders[:args.limit]
    tmpdir = Path(tempfile.mkdtemp(prefix="bench-resub-"))
    store = Store(f"sqlite:///{tmpdir / 'store.db'}")
    store.migrate()
    claims: dict[str, tuple[Claim, Path, object]] = {}
    layout: dict[str, str] = {}
    fps = {}
    t_fp_orig = []
    print(f"registering {len(folders)} receipts ...", file=sys.stderr)
    for d in folders:
        claim = Claim.model_validate_json((d / "claim.json").read_text())
        truth = json.loads((d / "truth.json").read_text())
        campaign = get_campaign(claim.campaign_id)
        rpath = d / claim.files.receipt
        info = file_info(rpath)
        t0 = time.perf_counter()
        fp = fingerprint(ForensicInput(file=info))
        t_fp_orig.append(time.perf_counter() - t0)
        store.record(claim, campaign, verdict(claim), files=[info], fingerprint=fp)
        claims[claim.claim_id] = (claim, rpath, campaign)
        layout[claim.claim_id] = truth["receipt"]["layout"]
        fps[claim.claim_id] = fp

    # originals against the other receipts
    orig_false: list[dict] = []
    t_lookup = []
    for cid, (claim, _, campaign) in claims.items():
        t0 = time.perf_counter()
        sig = store.find_duplicates(claim, campaign, fps[cid])
        t_lookup.append(time.perf_counter() - t0)
        for s in sig:
            if s.flagged:
                orig_false.append({"claim": cid, "other": s.other_claim, "detector": s.detector, "score": s.score,
                                   "layouts": [layout[cid], layout.get(s.other_claim or "", "?")]})

    # content keys of different receipts (declared values)
    keys: dict[str, list[str]] = defaultdict(list)
    for cid, (claim, _, _) in claims.items():
        k = content_key(claim.declared.reseller, claim.declared.receipt_number,
                        claim.declared.purchase_date.isoformat())
        if k:
            keys[k].append(cid)
    key_collisions = sum(len(v) * (len(v) - 1) for v in keys.values())

    rng = random.Random(args.seed)
    ids = list(claims)
    sample = ids if not args.sample or args.sample >= len(ids) else sorted(random.Random(args.seed).sample(ids, args.sample))
    per: dict[str, dict[str, list]] = {v: {"caught": [], "false": [], "seconds": [], "missed": []} for v in variants}
    per_layout: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    print(f"{len(sample)} receipts x {len(variants)} variants ...", file=sys.stderr)
    for i, cid in enumerate(sample):
        claim, rpath, campaign = claims[cid]
        for v in variants:
            vdir = Path(tempfile.mkdtemp(dir=tmpdir))
            try:
                path = make_variant(v, rpath, rng, vdir)
            except Exception as exc:  # noqa: BLE001
                print(f"  {cid} {v}: variant failed: {exc}", file=sys.stderr)
                continue
            resub = claim.model_copy(update={"claim_id": f"resub-{v}-{cid}"[:128]})
            t0 = time.perf_counter()
            fp = fingerprint(ForensicInput(file=file_info(path)))
            sig = [s for s in store.find_duplicates(resub, campaign, fp) if s.flagged]
            per[v]["seconds"].append(time.perf_counter() - t0)
            hit = any(s.other_claim == cid for s in sig)
            per[v]["caught"].append(hit)
            if not hit:
                # diagnose: was it not retrieved (no shared LSH key, ranked below the
                # DUPLICATE_PRESELECT by hash, or by hash and keypoint vote below the
                # DUPLICATE_CANDIDATES verified), or did verification say no?
                from pipeline.forensics.fingerprint import (
                    hash_distance,
                    keypoint_votes,
                    unpack_features,
                    unpack_keypoints,
                    verify,
                )
                from pipeline.store.store import DUPLICATE_PRESELECT
                diag: dict = {"claim": cid}
                stored = fps[cid]
                qkeys = set(fp.band_keys(query=True))
                shared = {c: len(qkeys & set(f.band_keys())) for c, f in fps.items()}
                ranked = sorted((hash_distance(fp, f.hashes_hex()), -shared[c], c)
                                for c, f in fps.items() if shared[c])
                rank = next((i for i, r in enumerate(ranked) if r[2] == cid), None)
                diag.update(shared_keys=shared[cid], rank=rank, candidates=len(ranked),
                            hash_distance=round(hash_distance(fp, stored.hashes_hex()), 2))
                if fp.features and stored.features and rank is not None:
                    qf = unpack_features(fp.features)
                    votes = {c: keypoint_votes(qf.points, qf.descriptors, *unpack_keypoints(fps[c].features))
                             for _, _, c in ranked[:max(DUPLICATE_PRESELECT, rank + 1)] if fps[c].features}
                    diag.update(vote=votes.get(cid), vote_rank=sorted(votes.values(), reverse=True).index(votes[cid])
                                if cid in votes else None)
                if fp.image is not None and fp.features and stored.features:
                    sc, det = verify(fp.image, unpack_features(fp.features), unpack_features(stored.features))
                    diag.update(direct_score=round(sc, 3), **det)
                per[v]["missed"].append(diag)
            per[v]["false"].extend({"claim": cid, "other": s.other_claim, "detector": s.detector, "score": s.score}
                                   for s in sig if s.other_claim != cid)
            per_layout[v][layout[cid]][0] += int(hit)
            per_layout[v][layout[cid]][1] += 1
            for p in vdir.iterdir():
                p.unlink()
            vdir.rmdir()
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{len(sample)}", file=sys.stderr)

    all_secs = [x for v in per.values() for x in v["seconds"]]
    n_orig = len(claims)
    result = {
        "dataset": str(args.dataset), "registered": n_orig, "sampled": len(sample),
        "variants": {v: {"n": len(r["caught"]), "caught": sum(r["caught"]),
                         "catch_rate": round(sum(r["caught"]) / max(1, len(r["caught"])), 4),
                         "false_matches": len(r["false"]),
                         "variants_with_false_match": len({f["claim"] for f in r["false"]}),
                         "median_seconds": round(statistics.median(r["seconds"]), 3) if r["seconds"] else None,
                         "missed": r["missed"], "false": r["false"],
                         "by_layout": {k: f"{a}/{b}" for k, (a, b) in sorted(per_layout[v].items())}}
                     for v, r in per.items()},
        "originals": {"n": n_orig, "false_matches": len(orig_false),
                      "originals_with_false_match": len({f["claim"] for f in orig_false}),
                      "pairs_compared": n_orig * (n_orig - 1), "false": orig_false,
                      "median_lookup_seconds": round(statistics.median(t_lookup), 3)},
        "content_key": {"with_key": sum(len(v) for v in keys.values()), "colliding_pairs": key_collisions},
        "median_seconds_fingerprint_original": round(statistics.median(t_fp_orig), 3),
        "median_seconds_fingerprint_plus_lookup": round(statistics.median(all_secs), 3) if all_secs else None,
    }
    print(f"\n{'variant':<13} {'n':>4} {'caught':>7} {'rate':>7} {'false':>6} {'med s':>6}")
    for v, r in result["variants"].items():
        print(f"{v:<13} {r['n']:>4} {r['caught']:>7} {r['catch_rate']:>7.1%} {r['false_matches']:>6} "
              f"{r['median_seconds'] if r['median_seconds'] is not None else '-':>6}")
    o = result["originals"]
    print(f"\noriginals vs the other receipts: {o['false_matches']} false matches "
          f"({o['originals_with_false_match']}/{n_orig} originals; {o['pairs_compared']} ordered pairs)")
    print(f"content keys: {result['content_key']['with_key']} receipts, {key_collisions} colliding pairs")
    print(f"median fingerprint + look-up: {result['median_seconds_fingerprint_plus_lookup']} s "
          f"(fingerprint of an original {result['median_seconds_fingerprint_original']} s, "
          f"look-up {o['median_lookup_seconds']} s)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
