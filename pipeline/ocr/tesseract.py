"""The one wrapper around the tesseract binary (through pytesseract).

Everything that runs tesseract lives here: word recognition
(`TesseractEngine`), orientation detection (`detect_orientation`) and the
list of installed languages. Failures become domain errors here:
`TesseractNotFoundError` -> `DependencyMissing`; a timeout, a crash or
unparsable output -> `OcrError`.

Tesseract runs with ``OMP_THREAD_LIMIT=1``: on the 2-core target machine its
OpenMP threads make it ~2.5x slower, and the pipeline parallelises by claim.
"""

from __future__ import annotations

import functools
import logging
import os
import re

import numpy as np
from PIL import Image

from models.documents import Box, Line, Word
from pipeline.errors import DependencyMissing, OcrError
from pipeline.ocr.base import as_gray

log = logging.getLogger(__name__)

# pytesseract passes os.environ to the subprocess, so this must be in our own
# environment (it is read only by tesseract's OpenMP runtime).
os.environ["OMP_THREAD_LIMIT"] = "1"

#: page-segmentation mode for documents, chosen by scripts/ocr_probe.py on SROIE:
#: psm 6 (one uniform block) read receipts as well as psm 3/4 (recall 0.75 each,
#: within noise) and was the fastest; it also keeps "item ... price" on one line
DEFAULT_PSM = 6
#: seconds before a tesseract run on one page is killed
DEFAULT_TIMEOUT = 60


def _pytesseract():  # imported lazily so importing the package never needs it
    try:
        import pytesseract
    except ImportError as exc:  # pragma: no cover - pytesseract is a hard dependency
        raise DependencyMissing("the pytesseract package is not installed") from exc
    return pytesseract


def _to_pil(image: np.ndarray) -> Image.Image:
    if image.dtype != np.uint8:
        raise OcrError(f"tesseract needs a uint8 image, got {image.dtype}")
    try:
        pil = Image.fromarray(np.ascontiguousarray(as_gray(image)))
    except ValueError as exc:
        raise OcrError(f"cannot pass the image to tesseract: {exc}") from exc
    # pytesseract writes the image to a temp file in `format`; uncompressed BMP is
    # much cheaper to write than its default PNG on a 3000-px scan
    pil.format = "BMP"
    return pil


def _translate(exc: BaseException, what: str) -> Exception:
    pt = _pytesseract()
    if isinstance(exc, pt.TesseractNotFoundError):
        return DependencyMissing("tesseract is not installed or not on PATH (apt-get install tesseract-ocr)")
    if isinstance(exc, RuntimeError) and "timeout" in str(exc).lower():
        return OcrError(f"tesseract {what} timed out")
    if isinstance(exc, pt.TesseractError):
        return OcrError(f"tesseract {what} failed (status {exc.status})")
    return OcrError(f"tesseract {what} failed: {type(exc).__name__}")


@functools.lru_cache(maxsize=4)
def _installed_languages(cmd: str) -> frozenset[str]:
    pt = _pytesseract()
    try:
        langs = pt.get_languages(config="")
    except Exception as exc:  # noqa: BLE001 - translated
        raise _translate(exc, "--list-langs") from exc
    return frozenset(langs)


def installed_languages() -> frozenset[str]:
    """Languages tesseract has data for (``tesseract --list-langs``), cached per binary."""
    return _installed_languages(_pytesseract().pytesseract.tesseract_cmd)


def usable_languages(requested: tuple[str, ...]) -> tuple[str, ...]:
    """The requested languages that are installed, in order; "eng" if none is."""
    have = installed_languages()
    langs = tuple(dict.fromkeys(lang for lang in requested if lang in have and lang != "osd"))
    missing = [lang for lang in requested if lang not in have]
    if missing:
        log.warning("tesseract languages not installed, skipped: %s", ",".join(missing))
    if not langs:
        if "eng" not in have:
            raise DependencyMissing("tesseract has no data for English (apt-get install tesseract-ocr-eng)")
        langs = ("eng",)
    return langs


class TesseractEngine:
    """Tesseract LSTM recognition with word boxes (`image_to_data`).

    Lines are tesseract's own (block, paragraph, line) groups; words with
    confidence -1 (layout rows) and empty words are dropped; confidences are
    scaled to 0..1.
    """

    def __init__(self, psm: int = DEFAULT_PSM, *, timeout: int = DEFAULT_TIMEOUT, extra_config: str = ""):
        self.psm = psm
        self.timeout = timeout
        self.extra_config = extra_config.strip()
        self.name = "tesseract" if psm == DEFAULT_PSM and not self.extra_config else f"tesseract-psm{psm}"

    def __repr__(self) -> str:
        return f"TesseractEngine(psm={self.psm}, timeout={self.timeout})"

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        pt = _pytesseract()
        langs = usable_languages(languages)
        pil = _to_pil(image)
        config = f"--psm {self.psm} --oem 1 {self.extra_config}".strip()
        try:
            data = pt.image_to_data(pil, lang="+".join(langs), config=config,
                                    output_type=pt.Output.DICT, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed error
            raise _translate(exc, "recognition") from exc
        try:
            return _lines_from_data(data, self.name)
        except (KeyError, ValueError, TypeError) as exc:
            raise OcrError("tesseract returned output that could not be parsed") from exc


def _lines_from_data(data: dict[str, list], engine: str) -> list[Line]:
    groups: dict[tuple[int, int, int, int], list[Word]] = {}
    n = len(data["text"])
    for i in range(n):
        text = str(data["text"][i]).strip()
        conf = float(data["conf"][i])
        if conf < 0 or not text:
            continue
        x, y, w, h = (int(data[k][i]) for k in ("left", "top", "width", "height"))
        word = Word(text=text, conf=min(1.0, max(0.0, conf / 100.0)),
                    box=Box(x0=x, y0=y, x1=x + w, y1=y + h), engine=engine)
        key = (int(data["page_num"][i]), int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        groups.setdefault(key, []).append(word)
    lines = [Line(words=tuple(sorted(ws, key=lambda w: w.box.x0))) for ws in groups.values()]
    lines.sort(key=lambda ln: (round(ln.box.cy), ln.box.x0))
    return lines


_ROTATE_RE = re.compile(r"Rotate:\s*(\d+)")
_CONF_RE = re.compile(r"Orientation confidence:\s*([\d.]+)")


def detect_orientation(image: np.ndarray, *, timeout: int = 20) -> tuple[int, float] | None:
    """Tesseract OSD: ``(degrees to rotate clockwise to make the text upright,
    confidence)``, or None when OSD cannot decide (too few characters: tesseract
    then exits with an error, which is normal for sparse images).

    Raises `DependencyMissing` when tesseract or its ``osd`` data is missing;
    other failures (timeouts included) give None and a warning, because
    orientation is an optional improvement, not a reason to fail a page.
    """
    pt = _pytesseract()
    if "osd" not in installed_languages():
        raise DependencyMissing("tesseract has no OSD data (apt-get install tesseract-ocr-osd)")
    pil = _to_pil(image)
    try:
        out = pt.image_to_osd(pil, config="--oem 0", timeout=timeout)
    except pt.TesseractNotFoundError as exc:
        raise _translate(exc, "OSD") from exc
    except pt.TesseractError:
        log.debug("OSD could not decide (too little text)")
        return None
    except Exception as exc:  # noqa: BLE001 - optional step
        log.warning("OSD failed: %s", type(exc).__name__)
        return None
    m, c = _ROTATE_RE.search(out), _CONF_RE.search(out)
    if not m:
        return None
    return int(m.group(1)) % 360, float(c.group(1)) if c else 0.0
