"""Benchmark the pixel forensics (and every other registered detector) on forged SROIE scans
and on generated claim sets.

    # OCR readings are cached (DocumentText + ReceiptExtraction as JSON) under --cache
    nice -n 10 .venv/bin/python scripts/bench_forensics.py ocr --gen /work/gen/seed7-300 --sroie /tmp/forge-yours/sroie-forged
    nice -n 10 .venv/bin/python scripts/bench_forensics.py run --sroie /tmp/forge-yours/sroie-forged \
        --gen /work/gen/seed7-300 --half heldout --out runs/forensics-bench

Tuning protocol (thresholds and score shaping of image.py/layout.py are chosen on the tune halves
only, then measured once on the held-out halves):

    tune:     run --sroie /tmp/forge-yours/sroie-forged --half tune --gt-lines --families image,layout
              run --gen /work/gen/seed11-300 --only-pixel --genuine 60 --cached-only --families image,layout
    held-out: run --sroie /tmp/forge-yours/sroie-forged --half heldout --gt-lines --families image,layout
              run --gen /work/gen/seed7-300 --only-pixel --genuine 100 --cached-only --families image,layout

SROIE: the forged folder made by scripts/forge_sroie.py (images/, truth/, untouched.json).
Its images are split by a fixed hash of the ORIGINAL file name into a tuning half and a
held-out half (`split_of`); `--half tune|heldout|all` picks which is scored.
Generated sets: each claim folder's truth.json (`alterations`); a claim is "tampered" when it
has any alteration, and the per-type rates count claims with that alteration type.

Printed and written (`--out`/report.json): detection rate per alteration type, false-alarm
rate on untouched/genuine receipts, per-signal ROC points (score sweeps), median seconds
per receipt of the forensics stage (OCR excluded: it is shared with the screening).

Old code against new code, timed in one interleaved run (on a loaded machine only a ratio of two
codes timed side by side means anything): `compare` runs the receipts through two worker
processes, one per source tree (e.g. `git archive REV | tar -x -C /tmp/old`), alternating which
goes first, and reports whether every signal is the same and the median seconds of each:

    nice -n 10 .venv/bin/python scripts/bench_forensics.py compare --old-tree /tmp/old \
        --sroie /work/gen/sroie-forged-tune --half tune --gt-lines --out runs/fxt-compare-sroie
    nice -n 10 .venv/bin/python scripts/bench_forensics.py compare --old-tree /tmp/old \
        --gen /work/gen/seed11-300 --history --out runs/fxt-compare-gen

With --history each worker also fingerprints the receipt, looks it up in its own claims store
(`Store.find_duplicates`) and records it there, as `stage_history` does in the screening; with
--prefill N the stores first hold the fingerprints of N receipts of the set that are not timed
(the look-up's cost grows with the store up to DUPLICATE_CANDIDATES verifications).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
# `_worker TREE` (a side of `compare`) imports the code of TREE, any other command this checkout's
sys.path.insert(0, sys.argv[2] if sys.argv[1:2] == ["_worker"] else str(Path(__file__).resolve().parents[1]))

from models.documents import DocumentRole, DocumentText, FileInfo  # noqa: E402

CACHE = Path("/tmp/forge-yours/ocr-cache")
SROIE_LANGS = ("eng",)
PIXEL_TYPES = ("digit_copy", "line_replaced", "line_erased")
PIXEL_DETECTORS = ("flat_patch", "copy_move", "glyph_mismatch", "line_rhythm")  # image.py + layout.py


def split_of(name: str) -> str:
    """Fixed split of a SROIE image by its original file name: 'tune' or 'heldout'."""
    stem = Path(name).stem.split("__")[0]
    return "tune" if int(hashlib.sha256(stem.encode()).hexdigest(), 16) % 2 == 0 else "heldout"


def fileinfo(path: Path) -> FileInfo:
    from PIL import Image

    from pipeline.intake import detect_type

    data = path.read_bytes()
    typ = detect_type(data[:2048])
    w = h = None
    pages = 1
    if typ in ("jpeg", "png"):
        with Image.open(path) as im:
            w, h = im.size
    return FileInfo(role=DocumentRole.RECEIPT, name=path.name, path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type=typ, width=w, height=h, pages=pages)


def _campaigns():
    from pipeline.campaigns import load_campaigns  # type: ignore[attr-defined]

    return load_campaigns()


def _langs_country(campaign_id: str | None) -> tuple[tuple[str, ...], str | None]:
    if campaign_id is None:
        return SROIE_LANGS, "MY"
    try:
        c = _campaigns()[campaign_id]
        return tuple(c.ocr_languages), c.country
    except Exception:  # noqa: BLE001
        lang = {"sigma-dk-autumn-2022": ("eng", "dan"), "sony-no-refusjon-2022": ("eng", "nor"),
                "sony-ro-cashback-2018": ("eng", "ron")}.get(campaign_id, ("eng",))
        country = {"sigma-dk-autumn-2022": "DK", "sony-no-refusjon-2022": "NO", "sony-ro-cashback-2018": "RO"}.get(campaign_id)
        return lang, country


def cached_reading(path: Path, campaign_id: str | None, *, cache: Path = CACHE, ocr: bool = True):
    """(FileInfo, DocumentText, ReceiptExtraction) for a receipt file, OCRed once and cached by content hash."""
    from models.fields import ReceiptExtraction
    from pipeline.extract import extract_receipt
    from pipeline.ocr import read_document

    info = fileinfo(path)
    cache.mkdir(parents=True, exist_ok=True)
    langs, country = _langs_country(campaign_id)
    key = cache / f"{info.sha256[:24]}-{'+'.join(langs)}.json"
    if key.is_file():
        d = json.loads(key.read_text())
        doc = DocumentText.model_validate(d["doc"])
        doc = doc.model_copy(update={"file": info})
        ex = ReceiptExtraction.model_validate(d["extraction"]) if d.get("extraction") else None
        return info, doc, ex
    if not ocr:
        return info, None, None
    t0 = time.perf_counter()
    doc = read_document(info, languages=langs)
    try:
        ex = extract_receipt(doc, country=country)
    except Exception:  # noqa: BLE001
        ex = None
    key.write_text(json.dumps({"doc": doc.model_dump(mode="json"),
                               "extraction": ex.model_dump(mode="json") if ex is not None else None,
                               "ocr_seconds": round(time.perf_counter() - t0, 3)}))
    return info, doc, ex


# ------------------------------------------------------------------ items


def gen_items(root: Path) -> list[dict]:
    items = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        tp = d / "truth.json"
        if not tp.is_file():
            continue
        t = json.loads(tp.read_text())
        rec = t["receipt"]
        alts = t.get("alterations") or []
        items.append({"set": root.name, "id": d.name, "path": d / rec["file"], "campaign": t["campaign_id"],
                      "tampered": bool(alts), "types": sorted({a["type"] for a in alts}),
                      "boxes": [a["box"] for a in alts if a.get("box")], "split": "all"})
    return items


def sroie_items(root: Path) -> list[dict]:
    items = []
    untouched = json.loads((root / "untouched.json").read_text())
    for name in untouched:
        items.append({"set": "sroie", "id": Path(name).stem, "path": root / "images" / name, "campaign": None,
                      "lines": root / "ocr_lines" / f"{Path(name).stem}.txt",
                      "tampered": False, "types": [], "boxes": [], "split": split_of(name)})
    for tp in sorted((root / "truth").glob("*.json")):
        t = json.loads(tp.read_text())
        items.append({"set": "sroie", "id": tp.stem, "path": root / "images" / t["file"], "campaign": None,
                      "lines": root / "ocr_lines" / f"{Path(t['original']).stem}.txt",
                      "tampered": True, "types": [t["type"]], "boxes": [t["box"]], "field": t.get("field"),
                      "split": split_of(t["original"])})
    return items


# ------------------------------------------------------------------ run


def gt_lines_doc(info: FileInfo, lines_file: Path) -> DocumentText:
    """A DocumentText from SROIE's ground-truth text lines (development only: no OCR)."""
    from models.documents import Box, Line, Page, Word

    lines = []
    for raw in lines_file.read_text(encoding="utf-8", errors="replace").splitlines():
        p = raw.split(",", 8)
        if len(p) < 9 or not p[8].strip():
            continue
        try:
            xs, ys = [float(v) for v in p[0:8:2]], [float(v) for v in p[1:8:2]]
        except ValueError:
            continue
        lines.append(Line(words=(Word(text=p[8].strip(), conf=0.9, box=Box(x0=min(xs), y0=min(ys), x1=max(xs), y1=max(ys))),)))
    return DocumentText(file=info, pages=(Page(page_no=1, width=info.width or 0, height=info.height or 0, lines=tuple(lines)),))


def run_one(item: dict, *, ocr: bool = True, cache: Path = CACHE, gt_lines: bool = False) -> dict:
    from pipeline.forensics import ForensicInput, run_detectors

    if gt_lines and item.get("lines"):
        info = fileinfo(item["path"])
        doc, ex = gt_lines_doc(info, item["lines"]), None
    else:
        info, doc, ex = cached_reading(item["path"], item["campaign"], ocr=ocr, cache=cache)
    t0 = time.perf_counter()
    inp = ForensicInput(file=info, doc=doc, extraction=ex)
    signals, timings = run_detectors(inp)
    secs = time.perf_counter() - t0
    return {"id": item["id"], "set": item["set"], "split": item["split"], "tampered": item["tampered"],
            "types": item["types"], "truth_boxes": item["boxes"], "seconds": round(secs, 4), "timings": timings,
            "signals": [{"detector": s.detector, "score": round(s.score, 4), "threshold": s.threshold,
                         "flagged": s.flagged, "field": s.field, "detail": s.detail,
                         "regions": [[r.box.x0, r.box.y0, r.box.x1, r.box.y1] for r in s.regions]}
                        for s in signals]}


def _box_tuple(b) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in b)  # type: ignore[return-value]


def summarize(rows: list[dict], families: tuple[str, ...] | None = None) -> dict:
    """Detection per type, false alarms, per-detector ROC points, timing."""
    def keep(s):
        return families is None or s["detector"].split(".")[0] in families

    def flagged(r):
        return any(s["flagged"] for s in r["signals"] if keep(s))

    genuine = [r for r in rows if not r["tampered"]]
    out: dict = {"n": len(rows), "genuine": len(genuine),
                 "false_alarm_rate": round(sum(flagged(r) for r in genuine) / len(genuine), 4) if genuine else None,
                 "false_alarms": [r["id"] for r in genuine if flagged(r)]}
    per_type = {}
    for t in sorted({t for r in rows for t in r["types"]}):
        rs = [r for r in rows if t in r["types"]]
        per_type[t] = {"n": len(rs), "detected": sum(flagged(r) for r in rs),
                       "rate": round(sum(flagged(r) for r in rs) / len(rs), 4),
                       "missed": [r["id"] for r in rs if not flagged(r)]}
    out["per_type"] = per_type
    pix = [r for r in rows if set(r["types"]) & set(PIXEL_TYPES)]
    if pix:
        out["pixel_alterations_rate"] = round(sum(flagged(r) for r in pix) / len(pix), 4)
    # ROC points per detector: max score per receipt, swept
    dets = sorted({s["detector"] for r in rows for s in r["signals"] if keep(s)})
    roc = {}
    for d in dets:
        def score(r, d=d):
            return max((s["score"] for s in r["signals"] if s["detector"] == d), default=0.0)
        thr = next((s["threshold"] for r in rows for s in r["signals"] if s["detector"] == d), None)
        pts = []
        for th in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
            fa = sum(score(r) >= th for r in genuine) / max(1, len(genuine))
            det = {t: round(sum(score(r) >= th for r in rows if t in r["types"]) / max(1, sum(t in r["types"] for r in rows)), 3)
                   for t in per_type}
            pts.append({"threshold": th, "false_alarm": round(fa, 4), "detected": det})
        roc[d] = {"threshold": thr, "points": pts}
    out["roc"] = roc
    secs = [r["seconds"] for r in rows]
    if secs:
        out["median_seconds"] = round(statistics.median(secs), 4)
        out["p90_seconds"] = round(sorted(secs)[int(0.9 * (len(secs) - 1))], 4)
        per_det: dict[str, list[float]] = {}
        for r in rows:
            for k, v in r["timings"].items():
                per_det.setdefault(k, []).append(v)
        out["median_seconds_per_detector"] = {k: round(statistics.median(v), 4) for k, v in per_det.items()}
        pix = [sum(v for k, v in r["timings"].items() if k in PIXEL_DETECTORS) for r in rows]
        out["median_seconds_pixel_detectors"] = round(statistics.median(pix), 4)
    return out


def _print(name: str, s: dict) -> None:
    print(f"== {name}: n={s['n']} genuine={s['genuine']} false alarms={s['false_alarm_rate']} "
          f"median {s.get('median_seconds')} s/receipt (p90 {s.get('p90_seconds')})")
    for t, v in s["per_type"].items():
        print(f"   {t:22s} {v['detected']:3d}/{v['n']:3d} = {v['rate']:.2f}")
    if "pixel_alterations_rate" in s:
        print(f"   {'pixel alterations':22s} {s['pixel_alterations_rate']:.2f}")
    print("   per detector median s:", s.get("median_seconds_per_detector"),
          "| image+layout detectors:", s.get("median_seconds_pixel_detectors"))
    for d, v in s["roc"].items():
        pts = " ".join(f"{p['threshold']:.2f}:fa={p['false_alarm']:.3f}" for p in v["points"])
        print(f"   ROC {d} (thr {v['threshold']}): {pts}")


def select(items: list[dict], half: str, limit: int | None, every: int = 1) -> list[dict]:
    if half != "all":
        items = [i for i in items if i["split"] in (half, "all")]
    items = items[::every]
    if limit:
        items = items[:limit]
    return items


# ------------------------------------------------------------------ compare (old tree vs new tree)


def _signal_rows(signals) -> list:
    return [[s.detector, round(s.score, 6), bool(s.flagged), s.field, s.other_claim,
             [[round(v, 2) for v in (r.box.x0, r.box.y0, r.box.x1, r.box.y1)] for r in s.regions]]
            for s in signals]


def _worker() -> int:
    """One side of `compare`: JSON jobs on stdin, one JSON answer per line on stdout."""
    import datetime as dt
    import tempfile

    import pipeline
    from pipeline.forensics import ForensicInput, run_detectors

    assert Path(pipeline.__file__).resolve().is_relative_to(Path(sys.argv[2]).resolve()), pipeline.__file__
    store = None
    for line in sys.stdin:
        job = json.loads(line)
        path = Path(job["path"])
        claim = campaign = None
        if job.get("prefill"):  # a receipt only stored: fingerprinted as read without OCR
            info = fileinfo(path)
            doc, ex = None, None
        elif job.get("lines"):
            info = fileinfo(path)
            doc, ex = gt_lines_doc(info, Path(job["lines"])), None
        else:
            info, doc, ex = cached_reading(path, job.get("campaign"), cache=Path(job["cache"]))
        if job.get("history"):
            from models.claim import Claim
            from pipeline.campaigns import get_campaign

            claim = Claim.model_validate_json((path.parent / "claim.json").read_text())
            campaign = get_campaign(claim.campaign_id)
        inp = ForensicInput(file=info, doc=doc, extraction=ex, campaign=campaign,
                            submitted_at=claim.submitted_at if claim is not None else None)
        out: dict = {}
        if not job.get("prefill"):
            t0 = time.perf_counter()
            signals, timings = run_detectors(inp)
            out.update(seconds=time.perf_counter() - t0, timings=timings, signals=_signal_rows(signals))
        if claim is not None:
            from models.verdict import Status, Verdict
            from pipeline.forensics.fingerprint import fingerprint
            from pipeline.store import Store

            if store is None:
                store = Store(f"sqlite:///{Path(tempfile.mkdtemp(prefix='fxt-compare-')) / 'claims.db'}")
                store.migrate()
            t0 = time.perf_counter()
            fp = fingerprint(inp)
            t_fp = time.perf_counter() - t0
            dupes = [] if job.get("prefill") else store.find_duplicates(claim, campaign, fp)
            t_hist = time.perf_counter() - t0
            store.record(claim, campaign, Verdict(claim_id=claim.claim_id, campaign_id=claim.campaign_id,
                                                  status=Status.APPROVE, screened_at=dt.datetime.now(dt.UTC)),
                         files=(info,), fingerprint=fp)
            out.update(fingerprint_seconds=t_fp, history_seconds=t_hist, duplicates=_signal_rows(dupes),
                       hashes=fp.hashes_hex())
        print(json.dumps(out), flush=True)
    return 0


def _median_pair(old: list[float], new: list[float]) -> dict:
    o, n = statistics.median(old), statistics.median(new)
    return {"old_median": round(o, 4), "new_median": round(n, 4), "ratio": round(n / o, 3) if o else None,
            "median_of_ratios": round(statistics.median([b / a for a, b in zip(old, new, strict=True) if a > 0]), 3)}


def compare(items: list[dict], old_tree: Path, *, gt_lines: bool, history: bool, cache: Path,
            prefill: list[dict] | None = None, families: tuple[str, ...] | None = None) -> dict:
    """Run `items` through the forensics of two source trees, interleaved (see the docstring)."""
    import subprocess

    new_tree = Path(__file__).resolve().parents[1]
    procs = {}
    for side, tree in (("old", Path(old_tree).resolve()), ("new", new_tree)):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        procs[side] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_worker", str(tree)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(tree))

    def ask(side: str, job: dict) -> dict:
        pr = procs[side]
        assert pr.stdin is not None and pr.stdout is not None
        pr.stdin.write(json.dumps(job) + "\n")
        pr.stdin.flush()
        answer = pr.stdout.readline()
        if not answer:
            raise RuntimeError(f"the {side} worker stopped")
        return json.loads(answer)

    def job_of(it: dict, **extra) -> dict:
        return {"path": str(it["path"]), "campaign": it["campaign"], "cache": str(cache), "history": history,
                "lines": str(it["lines"]) if gt_lines and it.get("lines") else None, **extra}

    for k, it in enumerate(prefill or []):
        for side in ("old", "new"):
            ask(side, job_of(it, prefill=True))
        if k % 50 == 0:
            print(f"prefill {k}/{len(prefill or [])}", file=sys.stderr, flush=True)
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for k, it in enumerate(items):
        for side in (("old", "new") if k % 2 == 0 else ("new", "old")):
            res[side].append(ask(side, job_of(it)))
        if k % 20 == 0:
            print(f"compare {k}/{len(items)}", file=sys.stderr, flush=True)
    for pr in procs.values():
        assert pr.stdin is not None
        pr.stdin.close()
        pr.wait()
    rows = {side: [{**{k: it[k] for k in ("id", "set", "split", "tampered", "types")}, "truth_boxes": it["boxes"],
                    "seconds": r["seconds"], "timings": r["timings"], "signals": [
                        {"detector": d, "score": sc, "flagged": fl, "field": f, "threshold": None, "regions": rg}
                        for d, sc, fl, f, _o, rg in r["signals"]]}
                   for it, r in zip(items, res[side], strict=True)] for side in res}
    out: dict = {"n": len(items),
                 "signals_differ": [it["id"] for it, a, b in zip(items, res["old"], res["new"], strict=True)
                                    if a["signals"] != b["signals"]],
                 "duplicates_differ": [it["id"] for it, a, b in zip(items, res["old"], res["new"], strict=True)
                                       if a.get("duplicates") != b.get("duplicates")],
                 "detectors": _median_pair([r["seconds"] for r in res["old"]], [r["seconds"] for r in res["new"]])}
    for side in res:
        s = summarize(rows[side], families)
        out[f"{side}_detection"] = {"false_alarm_rate": s["false_alarm_rate"], "false_alarms": s["false_alarms"],
                                    "per_type": {t: [v["detected"], v["n"]] for t, v in s["per_type"].items()}}
    names = sorted({k for r in res["old"] for k in r["timings"]})
    out["per_detector_median"] = {k: [round(statistics.median([r["timings"].get(k, 0.0) for r in res[side]]), 4)
                                      for side in ("old", "new")] for k in names}
    if history:
        for key in ("fingerprint_seconds", "history_seconds"):
            out[key.replace("_seconds", "")] = _median_pair([r[key] for r in res["old"]], [r[key] for r in res["new"]])
        out["together"] = _median_pair([r["seconds"] + r["history_seconds"] for r in res["old"]],
                                       [r["seconds"] + r["history_seconds"] for r in res["new"]])
        out["duplicates_flagged"] = {side: sum(any(d[2] for d in r["duplicates"]) for r in res[side]) for side in res}
    return out


def main(argv: list[str] | None = None) -> int:
    if (argv if argv is not None else sys.argv[1:])[:1] == ["_worker"]:
        return _worker()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("ocr", "run", "compare"))
    ap.add_argument("--old-tree", type=Path, help="compare: the source tree of the old code")
    ap.add_argument("--history", action="store_true", help="compare, gen sets: fingerprint + duplicate look-up too")
    ap.add_argument("--prefill", type=int, default=0,
                    help="compare --history: the last N claims of each gen set are put in the stores first (untimed, no OCR)")
    ap.add_argument("--sroie", type=Path, help="forged SROIE folder from scripts/forge_sroie.py")
    ap.add_argument("--gen", type=Path, action="append", default=[], help="generated claim set (repeatable)")
    ap.add_argument("--half", choices=("tune", "heldout", "all"), default="heldout", help="SROIE split to score")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--every", type=int, default=1, help="SROIE: score every k-th receipt only (development)")
    ap.add_argument("--only-pixel", action="store_true", help="gen sets: only genuine claims and pixel alterations")
    ap.add_argument("--genuine", type=int, help="gen sets: keep only the first N genuine claims (by folder name)")
    ap.add_argument("--gt-lines", action="store_true", help="SROIE: use the dataset's text lines instead of OCR (development)")
    ap.add_argument("--cached-only", action="store_true", help="skip receipts with no cached OCR reading")
    ap.add_argument("--families", default="", help="comma list of families counted as 'flagged' (default: all)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/forge-yours/ocr-cache"))
    a = ap.parse_args(argv)
    sets: list[tuple[str, list[dict]]] = []
    pre_items: dict[str, list[dict]] = {}
    if a.sroie:
        sets.append((f"sroie-{a.half}", select(sroie_items(a.sroie), a.half, a.limit, a.every)))
    for g in a.gen:
        its = gen_items(g)
        if a.only_pixel:
            its = [i for i in its if not i["tampered"] or set(i["types"]) & set(PIXEL_TYPES)]
        if a.genuine is not None:
            gen = [i for i in its if not i["tampered"]][: a.genuine]
            its = [i for i in its if i["tampered"]] + gen
        if a.command == "compare" and a.prefill:  # the last --prefill claims are stored, not timed
            pre_items[g.name], its = its[len(its) - a.prefill:], its[:len(its) - a.prefill]
        sets.append((g.name, select(its, "all", a.limit)))
    if a.command == "ocr":
        for name, its in sets:
            for k, it in enumerate(its):
                try:
                    cached_reading(it["path"], it["campaign"], cache=a.cache)
                except Exception as exc:  # noqa: BLE001
                    print(f"{name} {it['id']}: {type(exc).__name__}: {exc}", file=sys.stderr)
                if k % 20 == 0:
                    print(f"{name}: {k}/{len(its)}", flush=True)
        return 0
    fams = tuple(f for f in a.families.split(",") if f) or None
    if a.command == "compare":
        if a.old_tree is None:
            ap.error("compare needs --old-tree")
        report_c = {}
        for name, its in sets:
            gt = a.gt_lines and name.startswith("sroie")
            if a.cached_only and not gt:
                its = [it for it in its if cached_reading(it["path"], it["campaign"], cache=a.cache, ocr=False)[1] is not None]
            pre = pre_items.get(name, [])
            report_c[name] = compare(its, a.old_tree, gt_lines=gt, history=a.history and not name.startswith("sroie"),
                                     cache=a.cache, prefill=pre, families=fams)
            print(json.dumps({name: report_c[name]}, indent=1))
        if a.out:
            a.out.mkdir(parents=True, exist_ok=True)
            (a.out / "compare.json").write_text(json.dumps(report_c, indent=1))
        return 0
    report = {}
    for name, its in sets:
        gt = a.gt_lines and name.startswith("sroie")
        if a.cached_only and not gt:
            its = [it for it in its if cached_reading(it["path"], it["campaign"], cache=a.cache, ocr=False)[1] is not None]
        rows = [run_one(it, cache=a.cache, gt_lines=gt) for it in its]
        s = summarize(rows, fams)
        _print(name, s)
        report[name] = {"summary": s, "rows": rows}
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "report.json").write_text(json.dumps({k: v["summary"] for k, v in report.items()}, indent=1))
        (a.out / "rows.json").write_text(json.dumps({k: v["rows"] for k, v in report.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
