"""Forge genuine SROIE scans, to measure the pixel forensics on real receipts.

    .venv/bin/python scripts/forge_sroie.py ../shared/datasets/sroie-dev /tmp/forge-yours/sroie-forged --seed 1

For every scan (images/<ID>.jpg with ocr_lines/<ID>.txt and labels/<ID>.json) it writes, into OUT/images:

- <ID>.jpg                   the original, byte for byte (listed in OUT/untouched.json)
- <ID>__digit_date.jpg       one digit of the printed date overwritten by a digit glyph cut from
                             another line of the same receipt (resized to the target glyph's box)
- <ID>__digit_total.jpg      the same in the total amount
- <ID>__line_replaced.jpg    an item line painted over with the paper colour and re-typed, with
                             changed digits, in a similar TTF (DejaVu/Liberation/Nimbus/Noto Mono)
- <ID>__line_erased.jpg      an item line painted over with the paper colour

Forgeries are saved as JPEG with the original's quantisation tables and chroma subsampling
(what an editor's "save" does). OUT/truth/<ID>__<kind>.json holds {type, field, box, original,
file, detail}; box is in the image's pixels. OUT/labels/ and OUT/companies.txt repeat the
originals' labels and OUT/forgeries.json lists every forgery, so `claimcheck eval OUT` scores the
forensics (detection per type, false alarms on the untouched originals, ROC). Deterministic for a --seed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, JpegImagePlugin

FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
         "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf",
         "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf")
KINDS = ("digit_date", "digit_total", "line_replaced", "line_erased")


def read_lines(path: Path) -> list[dict]:
    out = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) < 9:
            continue
        try:
            xs = [int(float(v)) for v in parts[0:8:2]]
            ys = [int(float(v)) for v in parts[1:8:2]]
        except ValueError:
            continue
        out.append({"box": [min(xs), min(ys), max(xs), max(ys)], "text": parts[8].strip()})
    return out


def _gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float32)


def glyphs(gray: np.ndarray, box: list[int]) -> list[list[int]]:
    """Dark connected components of a line box (x-sorted), as boxes in page pixels."""
    import cv2

    x0, y0, x1, y1 = box
    crop = gray[y0:y1, x0:x1]
    if crop.size == 0:
        return []
    u8 = np.clip(crop, 0, 255).astype(np.uint8)
    _, bw = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    h = y1 - y0
    out = []
    for i in range(1, n):
        x, y, w, hh, a = stats[i]
        if hh >= 0.35 * h and a >= 6 and w <= 1.2 * hh:
            out.append([int(x0 + x), int(y0 + y), int(x0 + x + w), int(y0 + y + hh)])
    return sorted(out)


def char_glyph(gray: np.ndarray, line: dict, idx: int) -> list[int] | None:
    """The connected component of character `idx` of the line's transcript (by proportional position)."""
    text = line["text"]
    comps = glyphs(gray, line["box"])
    if not comps or not text:
        return None
    x0, _, x1, _ = line["box"]
    cx = x0 + (idx + 0.5) / len(text) * (x1 - x0)
    best = min(comps, key=lambda c: abs((c[0] + c[2]) / 2 - cx))
    pitch = (x1 - x0) / len(text)
    if abs((best[0] + best[2]) / 2 - cx) > 0.8 * pitch:
        return None
    return best


def paper_colour(arr: np.ndarray, box: list[int]) -> tuple[int, int, int]:
    x0, y0, x1, y1 = box
    pad = 6
    reg = arr[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad].reshape(-1, 3).astype(np.float32)
    lum = reg.mean(axis=1)
    bright = reg[lum >= np.percentile(lum, 60)]
    return tuple(int(v) for v in np.median(bright, axis=0))


def ink_colour(arr: np.ndarray, box: list[int]) -> tuple[int, int, int]:
    x0, y0, x1, y1 = box
    reg = arr[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
    lum = reg.mean(axis=1)
    dark = reg[lum <= np.percentile(lum, 8)]
    return tuple(int(v) for v in np.median(dark, axis=0))


def digit_paste(img: Image.Image, lines: list[dict], target_line: int, value: str, rng: random.Random) -> dict | None:
    gray = _gray(img)
    tl = lines[target_line]
    pos = tl["text"].find(value)
    if pos < 0:
        return None
    digit_idx = [pos + i for i, ch in enumerate(value) if ch.isdigit()]
    rng.shuffle(digit_idx)
    # sources: digits on other lines with a glyph height close to the target's
    for ti in digit_idx:
        tg = char_glyph(gray, tl, ti)
        if tg is None:
            continue
        th = tg[3] - tg[1]
        old = tl["text"][ti]
        cands = []
        for k, ln in enumerate(lines):
            if k == target_line:
                continue
            for j, ch in enumerate(ln["text"]):
                if ch.isdigit() and ch != old:
                    cands.append((k, j, ch))
        rng.shuffle(cands)
        for k, j, ch in cands[:60]:
            sg = char_glyph(gray, lines[k], j)
            if sg is None:
                continue
            sh = sg[3] - sg[1]
            if not (0.75 * th <= sh <= 1.35 * th):
                continue
            m = 2
            sbox = [sg[0] - m, sg[1] - m, sg[2] + m, sg[3] + m]
            w_t = max(tg[2] - tg[0], int(round((sg[2] - sg[0]) * th / max(1, sh))))
            tbox = [tg[0] - m, tg[1] - m, tg[0] + w_t + m, tg[3] + m]
            if tbox[2] > img.width or tbox[3] > img.height or min(sbox) < 0 or min(tbox) < 0:
                continue
            patch = img.crop(tuple(sbox))
            tw, tht = tbox[2] - tbox[0], tbox[3] - tbox[1]
            if patch.size != (tw, tht):
                patch = patch.resize((tw, tht), Image.Resampling.LANCZOS)
            # paint the old glyph out (the new one can be narrower), then paste
            d = ImageDraw.Draw(img)
            d.rectangle([tg[0] - 1, tg[1] - 1, tg[2], tg[3]], fill=paper_colour(np.asarray(img), tg))
            img.paste(patch, (tbox[0], tbox[1]))
            return {"box": [min(tbox[0], tg[0] - 1), tbox[1], max(tbox[2], tg[2]), tbox[3]],
                    "detail": {"from_box": sbox, "digit": ch, "replaced_digit": old,
                               "scaled": patch.size != (sbox[2] - sbox[0], sbox[3] - sbox[1])}}
    return None


def _find_line(lines: list[dict], value: str, prefer_bottom: bool) -> int | None:
    hits = [i for i, ln in enumerate(lines) if value and value in ln["text"]]
    if not hits:
        return None
    return hits[-1] if prefer_bottom else hits[0]


def item_lines(lines: list[dict], exclude: set[int]) -> list[int]:
    """Lines that look like item/amount lines (digits, not the date/total), away from the header."""
    n = len(lines)
    out = []
    for i, ln in enumerate(lines):
        if i in exclude or i < n * 0.25:
            continue
        t = ln["text"]
        b = ln["box"]
        if len(t) >= 8 and re.search(r"\d", t) and re.search(r"[A-Za-z]{2}", t) and (b[2] - b[0]) > 2 * (b[3] - b[1]):
            out.append(i)
    return out


def fit_font(path: str, text: str, box: list[int], cap_h: float) -> ImageFont.FreeTypeFont:
    size = max(6, int(cap_h / 0.72))
    for _ in range(40):
        f = ImageFont.truetype(path, size)
        if f.getlength(text) <= (box[2] - box[0]) * 1.02 or size <= 6:
            return f
        size -= 1
    return ImageFont.truetype(path, size)


def _mutate_digits(text: str, rng: random.Random) -> str:
    s = list(text)
    idx = [i for i, ch in enumerate(s) if ch.isdigit()]
    for i in rng.sample(idx, min(2, len(idx))):
        s[i] = str((int(s[i]) + rng.randrange(1, 9)) % 10)
    return "".join(s)


def line_replace(img: Image.Image, lines: list[dict], i: int, rng: random.Random) -> dict:
    arr = np.asarray(img)
    ln = lines[i]
    b = ln["box"]
    comps = glyphs(_gray(img), b)
    cap = float(np.median([c[3] - c[1] for c in comps])) if comps else 0.7 * (b[3] - b[1])
    paper, ink = paper_colour(arr, b), ink_colour(arr, b)
    box = [b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2]
    d = ImageDraw.Draw(img)
    d.rectangle(box, fill=paper)
    new = _mutate_digits(ln["text"], rng)
    fp = rng.choice([f for f in FONTS if Path(f).is_file()])
    f = fit_font(fp, new, b, cap)
    top = f.getbbox("0123456789A", anchor="ls")[1]
    d.text((b[0], (b[1] + b[3]) / 2 + (-top) / 2), new, font=f, fill=ink, anchor="ls")
    nb = d.textbbox((b[0], (b[1] + b[3]) / 2 + (-top) / 2), new, font=f, anchor="ls")
    out = [min(box[0], int(nb[0])), min(box[1], int(nb[1])), max(box[2], int(nb[2]) + 1), max(box[3], int(nb[3]) + 1)]
    return {"box": out, "detail": {"font": Path(fp).stem, "size": f.size, "old_len": len(ln["text"])}}


def line_erase(img: Image.Image, lines: list[dict], i: int) -> dict:
    b = lines[i]["box"]
    box = [b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2]
    ImageDraw.Draw(img).rectangle(box, fill=paper_colour(np.asarray(img), b))
    return {"box": box, "detail": {}}


def save_like(img: Image.Image, orig: Image.Image, path: Path) -> None:
    kw: dict = {}
    try:
        kw["qtables"] = orig.quantization
        kw["subsampling"] = JpegImagePlugin.get_sampling(orig)
    except Exception:  # noqa: BLE001
        kw["quality"] = 90
    if kw.get("subsampling", 0) == -1:
        kw.pop("subsampling")
    img.save(path, "JPEG", **kw)


def forge_one(src: Path, root: Path, out: Path, seed: int, kinds: tuple[str, ...]) -> list[dict]:
    stem = src.stem
    rng = random.Random(f"forge-sroie:{seed}:{stem}")
    lines = read_lines(root / "ocr_lines" / f"{stem}.txt")
    label = json.loads((root / "labels" / f"{stem}.json").read_text())
    orig = Image.open(src)
    base = orig.convert("RGB")
    W, H = base.size
    for ln in lines:
        b = ln["box"]
        ln["box"] = [max(0, b[0]), max(0, b[1]), min(W, b[2]), min(H, b[3])]
    date_i = _find_line(lines, label.get("date", ""), False)
    total = (label.get("total") or "").replace("RM", "").replace("$", "").strip()
    total_i = _find_line(lines, total, True)
    results = []
    for kind in kinds:
        img = base.copy()
        krng = random.Random(f"{rng.random()}:{kind}")
        rec = None
        field = None
        if kind == "digit_date" and date_i is not None:
            rec, field = digit_paste(img, lines, date_i, label["date"], krng), "purchase_date"
        elif kind == "digit_total" and total_i is not None:
            rec, field = digit_paste(img, lines, total_i, total, krng), "total"
        elif kind in ("line_replaced", "line_erased"):
            cand = item_lines(lines, {i for i in (date_i, total_i) if i is not None})
            if cand:
                i = krng.choice(cand)
                field = "other_line"
                rec = line_replace(img, lines, i, krng) if kind == "line_replaced" else line_erase(img, lines, i)
        if rec is None:
            continue
        name = f"{stem}__{kind}.jpg"
        save_like(img, orig, out / "images" / name)
        typ = "digit_copy" if kind.startswith("digit") else kind
        t = {"type": typ, "kind": kind, "field": field, "box": rec["box"], "original": src.name, "file": name,
             "seed": seed, "detail": rec["detail"]}
        (out / "truth" / f"{stem}__{kind}.json").write_text(json.dumps(t, indent=1))
        results.append(t)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sroie", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--limit", type=int)
    ap.add_argument("--half", choices=("tune", "heldout", "all"), default="all",
                    help="only the scans of one half of the fixed split (scripts/bench_forensics.py split_of)")
    a = ap.parse_args(argv)
    kinds = tuple(k for k in a.kinds.split(",") if k)
    (a.out / "images").mkdir(parents=True, exist_ok=True)
    (a.out / "truth").mkdir(parents=True, exist_ok=True)
    srcs = sorted((a.sroie / "images").glob("*.jpg"))
    if a.half != "all":
        from bench_forensics import split_of  # the one tune/held-out split (scripts/ is on sys.path)

        srcs = [p for p in srcs if split_of(p.stem) == a.half]
    srcs = srcs[: a.limit]
    (a.out / "labels").mkdir(parents=True, exist_ok=True)
    untouched, counts, forgeries = [], {}, {}
    for src in srcs:
        shutil.copyfile(src, a.out / "images" / src.name)
        untouched.append(src.name)
        label = a.sroie / "labels" / f"{src.stem}.json"
        shutil.copyfile(label, a.out / "labels" / label.name)
        for t in forge_one(src, a.sroie, a.out, a.seed, kinds):
            counts[t["kind"]] = counts.get(t["kind"], 0) + 1
            stem = Path(t["file"]).stem
            forgeries[stem] = [t]
            # the original's labels (a forged date or total is scored against what was printed first)
            shutil.copyfile(label, a.out / "labels" / f"{stem}.json")
    shutil.copytree(a.sroie / "ocr_lines", a.out / "ocr_lines", dirs_exist_ok=True)  # the bench's --gt-lines mode
    if (a.sroie / "companies.txt").is_file():
        shutil.copyfile(a.sroie / "companies.txt", a.out / "companies.txt")
    (a.out / "untouched.json").write_text(json.dumps(untouched, indent=1))
    # `claimcheck eval OUT` reads this: every image not listed is genuine
    (a.out / "forgeries.json").write_text(json.dumps({"forgeries": forgeries}, indent=1))
    print(json.dumps({"originals": len(untouched), "forgeries": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
