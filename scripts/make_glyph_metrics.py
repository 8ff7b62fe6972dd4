"""Write the reference glyph metrics of `layout.set_width` (reference_data/glyph_metrics/).

    .venv/bin/python scripts/make_glyph_metrics.py   # needs fonts-liberation (scripts/setup.sh installs it)

For each character: advance width, ink left and right edge, ink top and bottom (above the
baseline), in em, measured by rendering the glyph at 200 px per em. The face is Liberation Sans,
metric-compatible with Arial and Helvetica, the usual proportional face of invoices and
till receipts. The table only predicts how wide a word is for its letters: the detector compares
rows of one receipt with each other, so it works for any face whose relative letter widths are
close to these (all the common sans faces), not only for Liberation Sans itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
OUT = Path(__file__).resolve().parents[1] / "reference_data" / "glyph_metrics" / "liberation_sans.json"
CHARS = "".join(chr(c) for c in range(33, 127)) + "ÆØÅæøåÄÖäöÉéÜüĂăÂâÎîȘșȚțŞşŢţ€£§°"
EM = 200


def metrics(path: Path = FONT, em: int = EM) -> dict[str, list[float]]:
    f = ImageFont.truetype(str(path), em)
    out: dict[str, list[float]] = {}
    for c in CHARS:
        im = Image.new("L", (3 * em, 3 * em), 0)
        ImageDraw.Draw(im).text((em, 2 * em), c, font=f, fill=255, anchor="ls")
        ys, xs = np.nonzero(np.asarray(im) > 127)
        if len(xs) == 0:
            continue
        out[c] = [round(f.getlength(c) / em, 4), round((xs.min() - em) / em, 4), round((xs.max() + 1 - em) / em, 4),
                  round((2 * em - ys.min()) / em, 4), round((2 * em - ys.max() - 1) / em, 4)]
    return out


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table = {"font": FONT.stem, "em_px": EM, "columns": ["advance", "ink_left", "ink_right", "ink_top", "ink_bottom"],
             "glyphs": metrics()}
    OUT.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(table['glyphs'])} glyphs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
