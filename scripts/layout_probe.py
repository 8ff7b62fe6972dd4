"""Re-run forensic detectors on saved readings of the real screening path (development tool).

    # 1. read once (OCR through CLAIMCHECK_OCR_CACHE_DIR), save DocumentText + ReceiptExtraction as JSON
    python scripts/layout_probe.py dump --gen /work/gen/seed11-300 --out /work/fx-docs/seed11
    python scripts/layout_probe.py dump --sroie /work/gen/sroie-forged-tune --half tune --out /work/fx-docs/sroie-tune
    # 2. run detector families on the saved readings, as often as needed (no OCR)
    python scripts/layout_probe.py run /work/fx-docs/seed11 /work/fx-docs/sroie-tune --families layout [--details]

Generated claims are read as `screen_claim` reads them (stages load .. extract, so the second
engine's reading and the key-line re-reads are in), loose SROIE scans as `claimcheck extract`
/ `claimcheck eval` read them. `--half` keeps only one half of the fixed SROIE split
(`bench_forensics.split_of`): only the tune half may be looked at while tuning.
Printed: per signal, flagged genuine receipts; per alteration type, receipts flagged by the
families asked for; with --details, every flagged signal with its detail (no receipt text).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _dump_gen(root: Path, out: Path, limit: int | None) -> None:
    from models.documents import DocumentRole
    from pipeline.screen import STAGES, Screening
    from pipeline.settings import Settings

    settings = Settings(use_store=False)
    want = {"load", "check_files", "read_receipt", "extract"}
    claims = sorted(p for p in root.iterdir() if (p / "truth.json").is_file())[:limit]
    for k, d in enumerate(claims):
        dest = out / f"{d.name}.json"
        if dest.is_file():
            continue
        t = json.loads((d / "truth.json").read_text())
        s = Screening(claim_dir=d, settings=settings, store=None)
        for name, stage in STAGES:
            if name in want and not s.stop:
                s = stage(s)
        info = s.files.get(DocumentRole.RECEIPT)
        alts = t.get("alterations") or []
        rec = {"id": d.name, "types": sorted({a["type"] for a in alts}), "tampered": bool(alts),
               "file": info.model_dump(mode="json") if info else None,
               "doc": s.receipt.model_dump(mode="json") if s.receipt is not None else None,
               "extraction": s.extraction.model_dump(mode="json") if s.extraction is not None else None,
               "campaign": t["campaign_id"]}
        dest.write_text(json.dumps(rec))
        if k % 20 == 0:
            print(f"{k}/{len(claims)}", flush=True)


def _dump_sroie(root: Path, out: Path, half: str, limit: int | None) -> None:
    from bench_forensics import split_of

    from models.documents import DocumentRole
    from pipeline.extract import extract_receipt
    from pipeline.intake import check_file
    from pipeline.loose import LOOSE_LIMITS
    from pipeline.ocr import read_document

    untouched = set(json.loads((root / "untouched.json").read_text()))
    truth = {json.loads(p.read_text())["file"]: json.loads(p.read_text()) for p in (root / "truth").glob("*.json")}
    imgs = sorted((root / "images").glob("*.jpg"))
    imgs = [p for p in imgs if half == "all" or split_of(p.name) == half][:limit]
    for k, p in enumerate(imgs):
        dest = out / f"{p.stem}.json"
        if dest.is_file():
            continue
        info, problems = check_file(p.parent, p.name, DocumentRole.RECEIPT, LOOSE_LIMITS)
        if info is None:
            continue
        doc = read_document(info, languages=("eng",))
        ex = extract_receipt(doc, country=None)
        t = truth.get(p.name)
        rec = {"id": p.stem, "types": [t["type"]] if t else [], "tampered": p.name not in untouched,
               "file": info.model_dump(mode="json"), "doc": doc.model_dump(mode="json"),
               "extraction": ex.model_dump(mode="json"), "campaign": None}
        dest.write_text(json.dumps(rec))
        if k % 20 == 0:
            print(f"{k}/{len(imgs)}", flush=True)


def load(path: Path):
    """(record, ForensicInput) of a saved reading."""
    from models.documents import DocumentText, FileInfo
    from models.fields import ReceiptExtraction
    from pipeline.forensics import ForensicInput

    rec = json.loads(path.read_text())
    if rec["file"] is None:
        return rec, None
    info = FileInfo.model_validate(rec["file"])
    doc = DocumentText.model_validate(rec["doc"]) if rec["doc"] else None
    ex = ReceiptExtraction.model_validate(rec["extraction"]) if rec["extraction"] else None
    return rec, ForensicInput(file=info, doc=doc, extraction=ex)


def _truth_boxes(rec: dict) -> list[list[float]]:
    """The altered regions of a saved reading (generated claim truth.json or forge_sroie truth)."""
    path = Path(rec["file"]["path"])
    tj = path.parent / "truth.json"
    if tj.is_file():
        return [a["box"] for a in json.loads(tj.read_text()).get("alterations") or [] if a.get("box")]
    tj = path.parent.parent / "truth" / f"{path.stem}.json"
    return [json.loads(tj.read_text())["box"]] if tj.is_file() else []


def _at_truth(sig, boxes: list[list[float]]) -> bool:
    return any(r.box.x0 < b[2] and r.box.x1 > b[0] and r.box.y0 < b[3] and r.box.y1 > b[1]
               for r in sig.regions for b in boxes)


def _run(dirs: list[Path], families: tuple[str, ...] | None, details: bool, only: str | None) -> None:
    from models.forensics import SignalFamily
    from pipeline.forensics import run_detectors

    fams = tuple(SignalFamily(f) for f in families) if families else None
    for d in dirs:
        fa: Counter = Counter()
        n_gen = n_fa = 0
        det: dict[str, list[int]] = {}
        by_sig: dict[str, Counter] = {}
        top: dict[str, list[tuple[float, str]]] = {}
        for p in sorted(d.glob("*.json")):
            if only and only not in p.stem:
                continue
            rec, inp = load(p)
            if inp is None:
                continue
            signals, _ = run_detectors(inp, only=fams)
            hit = [s for s in signals if s.flagged]
            if not rec["tampered"]:
                for s in signals:
                    top.setdefault(s.detector, []).append((s.score, p.stem))
                n_gen += 1
                n_fa += bool(hit)
                fa.update({s.detector for s in hit})
            boxes = _truth_boxes(rec) if rec["tampered"] else []
            for t in rec["types"]:
                det.setdefault(t, [0, 0, 0])
                det[t][1] += 1
                det[t][0] += bool(hit)
                det[t][2] += any(_at_truth(s, boxes) for s in hit)
                by_sig.setdefault(t, Counter()).update({s.detector for s in hit})
            if details and (hit or only):
                tag = "ALTERED " + ",".join(rec["types"]) if rec["tampered"] else "GENUINE"
                for s in (signals if only else hit):
                    print(f"  {p.stem[:40]:40s} {tag:22s} {s.detector} {s.score:.3f} field={s.field} {s.detail}")
        print(f"== {d.name}: genuine flagged {n_fa}/{n_gen} ({n_fa / max(1, n_gen):.3f}) {dict(fa)}")
        for k, v in sorted(top.items()):
            v.sort(reverse=True)
            print(f"   genuine top {k}: " + " ".join(f"{sc:.2f}" for sc, _ in v[:8]))
        for t, (a, n, at) in sorted(det.items()):
            print(f"   {t:22s} {a:3d}/{n:3d} (at the altered region: {at:3d})  {dict(by_sig.get(t, {}))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a1 = sub.add_parser("dump")
    a1.add_argument("--gen", type=Path)
    a1.add_argument("--sroie", type=Path)
    a1.add_argument("--half", choices=("tune", "heldout", "all"), default="tune")
    a1.add_argument("--limit", type=int)
    a1.add_argument("--out", type=Path, required=True)
    a2 = sub.add_parser("run")
    a2.add_argument("dirs", type=Path, nargs="+")
    a2.add_argument("--families", default="")
    a2.add_argument("--details", action="store_true")
    a2.add_argument("--only", help="receipts whose name contains this")
    a = ap.parse_args(argv)
    if a.cmd == "dump":
        a.out.mkdir(parents=True, exist_ok=True)
        if a.gen:
            _dump_gen(a.gen, a.out, a.limit)
        if a.sroie:
            _dump_sroie(a.sroie, a.out, a.half, a.limit)
        return 0
    _run(a.dirs, tuple(f for f in a.families.split(",") if f) or None, a.details, a.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
