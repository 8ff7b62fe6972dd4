"""Measure OCR configurations so defaults are chosen by numbers, not taste.

Receipts: word recall against SROIE's ground-truth lines (case-insensitive
token multiset match) and median seconds per image, for tesseract psm 3/4/6
with and without `pipeline.preprocess`, RapidOCR, and the full `read_document`
path (preprocess + OCR + OSD fallback).

Labels (--labels): synthetic phone photos of serial-number labels rendered
here (white label, "S/N <8 digits>", a model name, rotated, perspective-warped,
glare, on grey), scored by "serial read exactly" and "model read exactly".

    .venv/bin/python scripts/ocr_probe.py --n 30            # receipts
    .venv/bin/python scripts/ocr_probe.py --labels --n 12   # label photos
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.ocr.base import OcrEngine  # noqa: E402
from pipeline.preprocess import preprocess  # noqa: E402

SROIE = Path("/work/shared/datasets/sroie-dev")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def tokens(text: str) -> list[str]:
    return [t for t in text.lower().split() if t]


def gt_tokens(path: Path) -> list[str]:
    out: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(",", 8)
        if len(parts) == 9:
            out.extend(tokens(parts[8]))
    return out


def recall(gt: list[str], got: list[str]) -> float:
    if not gt:
        return 1.0
    c_gt, c_got = collections.Counter(gt), collections.Counter(got)
    return sum(min(n, c_got[t]) for t, n in c_gt.items()) / len(gt)


def receipts(n: int) -> None:
    import pipeline.ocr.tesseract as tess_mod
    from pipeline.ocr import _read_image

    osd_calls = [0]
    real_osd = tess_mod.detect_orientation

    def counting_osd(*a, **k):  # noqa: ANN002, ANN003
        osd_calls[0] += 1
        return real_osd(*a, **k)

    tess_mod.detect_orientation = counting_osd
    from pipeline.ocr.rapid import RapidOcrEngine
    from pipeline.ocr.tesseract import TesseractEngine

    names = sorted(p.stem for p in (SROIE / "images").glob("*.jpg"))[:n]
    engines: dict[str, OcrEngine] = {f"psm{p}": TesseractEngine(psm=p) for p in (3, 4, 6)}
    configs: list[tuple[str, str, str]] = []  # label, engine key, mode
    for p in (3, 4, 6):
        configs.append((f"tesseract psm{p} raw", f"psm{p}", "raw"))
        configs.append((f"tesseract psm{p} +preprocess", f"psm{p}", "prep"))
    configs.append(("read path: psm6 + prep + OSD fallback", "psm6", "full"))
    configs.append(("rapidocr raw (1 thread)", "rapid", "raw"))
    engines["rapid"] = RapidOcrEngine(threads=1)
    engines["rapid"].recognize(np.full((64, 256), 255, np.uint8), ("eng",))  # load the models outside the timing
    res: dict[str, tuple[list[float], list[float]]] = {c[0]: ([], []) for c in configs}
    for i, name in enumerate(names):
        img = cv2.imread(str(SROIE / "images" / f"{name}.jpg"), cv2.IMREAD_COLOR)
        gt = gt_tokens(SROIE / "ocr_lines" / f"{name}.txt")
        for label, key, mode in configs:
            eng = engines[key]
            t = time.perf_counter()
            if mode == "raw":
                gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
                lines = eng.recognize(gray, ("eng",))
            elif mode == "prep":
                lines = eng.recognize(preprocess(img).image, ("eng",))
            else:
                lines = _read_image(img, eng, ("eng",), [], 1).lines
            dt = time.perf_counter() - t
            got = [tk for ln in lines for tk in tokens(ln.text)]
            res[label][0].append(recall(gt, got))
            res[label][1].append(dt)
        print(f"[{i + 1}/{len(names)}] {name}", file=sys.stderr, flush=True)
    print(f"\nSROIE, first {len(names)} images (sorted names); word recall = GT tokens found / GT tokens\n")
    print(f"| {'config':<52} | recall (mean) | median s/img | p90 s/img |")
    print(f"|{'-' * 54}|---------------|--------------|-----------|")
    for label, _, _ in configs:
        r, t = res[label]
        p90 = sorted(t)[int(0.9 * (len(t) - 1))]
        print(f"| {label:<52} | {statistics.mean(r):13.3f} | {statistics.median(t):12.2f} | {p90:9.2f} |")
    print(f"\nread path: orientation detection (OSD) ran on {osd_calls[0]} of {len(names)} images")


# ------------------------------------------------------------------ labels

def render_label_photo(serial: str, model: str, seed: int) -> np.ndarray:
    """A phone-photo-like picture of a serial label (BGR)."""
    from io import BytesIO

    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.graphics.barcode import code128
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    # barcode via reportlab (as the project's labels), rasterised with pdfium
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=(260, 70))
    code128.Code128(serial, barHeight=50, barWidth=1.1, humanReadable=False).drawOn(c, 10, 10)
    c.save()
    bc = pdfium.PdfDocument(buf.getvalue())[0].render(scale=2).to_pil().convert("L")

    W, H = 700, 420
    label = Image.new("L", (W, H), 250)
    d = ImageDraw.Draw(label)
    d.text((30, 25), model, font=ImageFont.truetype(FONT_BOLD, 44), fill=20)
    d.text((30, 95), "Digital Camera  5V 2A", font=ImageFont.truetype(FONT, 26), fill=40)
    d.text((30, 145), f"S/N {serial}", font=ImageFont.truetype(FONT, 38), fill=20)
    label.paste(bc, (30, 210))
    lab = np.array(label)

    # background: grey, larger canvas
    BW, BH = 1400, 1100
    bg = np.full((BH, BW), rng.randint(90, 140), np.uint8)
    noise = np.random.default_rng(seed).normal(0, 6, (BH, BW))
    bg = np.clip(bg + noise, 0, 255).astype(np.uint8)
    # random rotation + perspective
    ang = math_rad(rng.uniform(-12, 12))
    cx, cy = BW / 2 + rng.uniform(-80, 80), BH / 2 + rng.uniform(-60, 60)
    scale = rng.uniform(1.2, 1.5)
    corners = np.array([[-W / 2, -H / 2], [W / 2, -H / 2], [W / 2, H / 2], [-W / 2, H / 2]]) * scale
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = corners @ rot.T + [cx, cy]
    dst += np.array([[rng.uniform(-40, 40), rng.uniform(-40, 40)] for _ in range(4)])
    src = np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(lab, m, (BW, BH), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full((H, W), 255, np.uint8), m, (BW, BH), borderValue=0)
    photo = np.where(mask > 0, warped, bg).astype(np.float64)
    # glare: a bright elliptical blob; plus a lighting gradient
    yy, xx = np.mgrid[0:BH, 0:BW]
    gx, gy = rng.uniform(0.3, 0.7) * BW, rng.uniform(0.3, 0.7) * BH
    glare = 120 * np.exp(-(((xx - gx) / 160) ** 2 + ((yy - gy) / 90) ** 2))
    grad = 1.0 - 0.35 * (xx / BW)
    photo = np.clip(photo * grad + glare, 0, 255).astype(np.uint8)
    photo = cv2.GaussianBlur(photo, (3, 3), 0.8)
    ok, enc = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)


def math_rad(deg: float) -> float:
    return deg * np.pi / 180


def labels(n: int) -> None:
    from pipeline.barcode import decode_barcodes
    from pipeline.ocr.rapid import RapidOcrEngine
    from pipeline.ocr.tesseract import TesseractEngine

    engines: dict[str, OcrEngine] = {"tesseract psm11": TesseractEngine(psm=11), "tesseract psm6": TesseractEngine(psm=6),
                                     "rapidocr": RapidOcrEngine(threads=1)}
    engines["rapidocr"].recognize(np.full((64, 256), 255, np.uint8), ("eng",))
    models = ["DSC-RX100 VII", "EOS R6 Mark II", "X-T5 Body", "Z 6II", "LUMIX S5 II", "OM-5"]
    rng = random.Random(7)
    cases = [(str(rng.randint(10_000_000, 99_999_999)), models[i % len(models)], i) for i in range(n)]
    stats: dict[str, list[tuple[bool, bool, float]]] = collections.defaultdict(list)
    bc_ok = 0
    for serial, model, seed in cases:
        photo = render_label_photo(serial, model, seed)
        bc_ok += any(b.text == serial for b in decode_barcodes(photo))
        prep = preprocess(photo, rescale_text=True)
        for ename, eng in engines.items():
            for mode, img in (("raw", cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)), ("prep", prep.image)):
                t = time.perf_counter()
                text = "\n".join(ln.text for ln in eng.recognize(img, ("eng",)))
                dt = time.perf_counter() - t
                compact = re.sub(r"\s+", "", text)
                stats[f"{ename} {mode}"].append((serial in compact, re.sub(r"\s+", "", model) in compact, dt))
    print(f"\nsynthetic label photos: {n}; barcode (pyzbar) decoded exactly: {bc_ok}/{n}\n")
    print(f"| {'config':<24} | serial read | model read | median s |")
    print(f"|{'-' * 26}|-------------|------------|----------|")
    for k, v in stats.items():
        print(f"| {k:<24} | {sum(a for a, _, _ in v):>5}/{len(v):<5} | {sum(b for _, b, _ in v):>4}/{len(v):<5} "
              f"| {statistics.median(t for _, _, t in v):8.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--labels", action="store_true")
    args = ap.parse_args()
    if args.labels:
        labels(args.n)
    else:
        receipts(args.n)


if __name__ == "__main__":
    main()
