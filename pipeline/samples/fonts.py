"""Font files for the sample generator: printed (DejaVu / Liberation) and handwriting.

Fonts are looked up by file path (Debian locations) with a fallback search, so the
generator does not depend on fontconfig at run time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

FONT_FILES: dict[str, tuple[str, ...]] = {
    "mono": ("truetype/dejavu/DejaVuSansMono.ttf", "truetype/liberation/LiberationMono-Regular.ttf"),
    "mono-bold": ("truetype/dejavu/DejaVuSansMono-Bold.ttf", "truetype/liberation/LiberationMono-Bold.ttf"),
    "sans": ("truetype/liberation/LiberationSans-Regular.ttf", "truetype/dejavu/DejaVuSans.ttf"),
    "sans-bold": ("truetype/liberation/LiberationSans-Bold.ttf", "truetype/dejavu/DejaVuSans-Bold.ttf"),
    "sans-italic": ("truetype/liberation/LiberationSans-Italic.ttf", "truetype/dejavu/DejaVuSans-Oblique.ttf"),
    "dejavu": ("truetype/dejavu/DejaVuSans.ttf", "truetype/liberation/LiberationSans-Regular.ttf"),
    "dejavu-bold": ("truetype/dejavu/DejaVuSans-Bold.ttf", "truetype/liberation/LiberationSans-Bold.ttf"),
    # handwriting (fonts-dkg-handwriting, fonts-breip, fonts-femkeklaver, fonts-dancingscript)
    "hand-dkg": ("truetype/fifthhorseman/dkg.ttf",),
    "hand-femke": ("truetype/femkeklaver/femkeklaver.ttf",),
    "hand-breip": ("truetype/breip/Breip.ttf", "truetype/breip/breipfont.ttf"),
    "hand-dancing": ("opentype/dancingscript/DancingScript-Regular.otf",),
}

# femkeklaver is an outline (hollow) face: it does not look like a pen stroke, so it is not used
HANDWRITING = ("hand-dkg", "hand-breip", "hand-dancing")


class FontMissing(RuntimeError):
    pass


@cache
def font_path(name: str) -> Path:
    """The file of the font called `name` (a key of FONT_FILES)."""
    for rel in FONT_FILES[name]:
        for root in _ROOTS:
            p = root / rel
            if p.is_file():
                return p
        base = Path(rel).name
        for root in _ROOTS:
            if root.is_dir():
                hits = sorted(root.rglob(base))
                if hits:
                    return hits[0]
    raise FontMissing(f"font {name!r} not found (tried {FONT_FILES[name]})")


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)


def available_handwriting() -> tuple[str, ...]:
    out = []
    for n in HANDWRITING:
        try:
            font_path(n)
            out.append(n)
        except FontMissing:
            pass
    return tuple(out)
