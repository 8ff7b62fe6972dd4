"""OCR engines and the read_document / read_label entry points."""

from __future__ import annotations

import hashlib
import os
import stat
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode import code128
from reportlab.pdfgen import canvas

from models.documents import Box, DocumentRole, FileInfo, Line, Word
from pipeline import ocr
from pipeline.errors import DependencyMissing, OcrError
from pipeline.ocr import base, tesseract
from pipeline.ocr.replay import FailingEngine, ReplayEngine
from pipeline.ocr.tesseract import TesseractEngine

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
LINES = ["CAMERA WORLD OSLO", "Receipt 88123", "Nikon Z6 II 12990.00", "TOTAL 12990.00"]
KEY = {"CAMERA", "WORLD", "OSLO", "Receipt", "88123", "TOTAL", "12990.00"}
# orientation needs ordinary prose: capitals and digits like O, S, Z, 0, 8 look the same upside down
PROSE = ["Thank you for shopping with us today", "Please keep this receipt for your warranty",
         "Digital camera body with standard zoom lens", "Returns accepted within thirty days",
         "Paid by debit card, approved online", "Cashback claims require the serial number"]
PROSE_KEY = {"Thank", "shopping", "receipt", "warranty", "camera", "Returns", "approved", "Cashback", "serial"}


def text_image(lines: list[str] = LINES, size: int = 32) -> np.ndarray:
    font = ImageFont.truetype(FONT, size)
    step = int(size * 1.8)
    img = Image.new("L", (760, 60 + step * len(lines)), 255)
    d = ImageDraw.Draw(img)
    for i, t in enumerate(lines):
        d.text((30, 30 + i * step), t, font=font, fill=0)
    return np.array(img)


def words(lines: list[Line]) -> set[str]:
    return {w.text for ln in lines for w in ln.words}


def fileinfo(path: Path, kind: str, role: DocumentRole = DocumentRole.RECEIPT) -> FileInfo:
    data = path.read_bytes()
    return FileInfo(role=role, name=path.name, path=str(path), size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), detected_type=kind)


def save_png(tmp_path: Path, img: np.ndarray, name: str = "p.png") -> Path:
    p = tmp_path / name
    assert cv2.imwrite(str(p), img)
    return p


@pytest.fixture
def tesseract_cmd():
    """Restore pytesseract's binary path (and the language cache) after a test."""
    import pytesseract

    old = pytesseract.pytesseract.tesseract_cmd
    yield pytesseract.pytesseract
    pytesseract.pytesseract.tesseract_cmd = old
    tesseract._installed_languages.cache_clear()


@pytest.fixture
def registered():
    names: list[str] = []

    def reg(name: str, engine) -> None:
        names.append(name)
        ocr.register_engine(name, engine)

    yield reg
    for n in names:
        ocr.register_engine(n, None)


# --------------------------------------------------------------- tesseract

def test_tesseract_reads_words_with_boxes_and_confidences() -> None:
    img = text_image()
    lines = TesseractEngine().recognize(img, ("eng",))
    assert KEY <= words(lines)
    assert [ln.words[0].text for ln in lines] == ["CAMERA", "Receipt", "Nikon", "TOTAL"]
    h, w = img.shape
    for ln in lines:
        assert [x.box.x0 for x in ln.words] == sorted(x.box.x0 for x in ln.words)
        for wd in ln.words:
            assert 0 <= wd.conf <= 1 and wd.engine == "tesseract" and wd.text.strip() == wd.text != ""
            assert 0 <= wd.box.x0 < wd.box.x1 <= w and 0 <= wd.box.y0 < wd.box.y1 <= h
    assert min(x.conf for ln in lines for x in ln.words) > 0.5


def test_tesseract_blank_image_gives_no_lines() -> None:
    assert TesseractEngine().recognize(np.full((100, 300), 255, np.uint8), ("eng",)) == []


def test_tesseract_lines_follow_block_par_line() -> None:
    data = {"text": ["", "TOTAL", "12.00", "Date", " "], "conf": [-1, 91.0, 80.0, 50.0, 10.0],
            "left": [0, 10, 100, 10, 50], "top": [0, 50, 52, 10, 10], "width": [0, 50, 40, 30, 5],
            "height": [0, 20, 20, 20, 5], "page_num": [1] * 5, "block_num": [1, 1, 1, 2, 2],
            "par_num": [1] * 5, "line_num": [0, 1, 1, 1, 1]}
    lines = tesseract._lines_from_data(data, "tesseract")
    assert [ln.text for ln in lines] == ["Date", "TOTAL 12.00"]  # sorted top to bottom, empty words dropped
    assert lines[1].words[0].conf == pytest.approx(0.91)


@pytest.mark.parametrize("psm,name", [(6, "tesseract"), (4, "tesseract-psm4"), (11, "tesseract-psm11")])
def test_engine_names_encode_the_mode(psm: int, name: str) -> None:
    assert TesseractEngine(psm=psm).name == name


@pytest.mark.parametrize("requested,expected", [
    (("eng",), ("eng",)), (("dan", "eng"), ("dan", "eng")), (("xxx", "eng"), ("eng",)), (("klingon",), ("eng",)),
    (("osd",), ("eng",)),
])
def test_only_installed_languages_are_used(requested: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert tesseract.usable_languages(requested) == expected


def test_missing_tesseract_binary_is_dependency_missing(tesseract_cmd) -> None:
    tesseract_cmd.tesseract_cmd = "/nonexistent/bin/tesseract"
    with pytest.raises(DependencyMissing):
        TesseractEngine().recognize(text_image(), ("eng",))
    with pytest.raises(DependencyMissing):
        tesseract.detect_orientation(text_image())


def test_crashing_tesseract_is_ocr_error(tesseract_cmd, tmp_path: Path) -> None:
    fake = tmp_path / "tesseract"
    fake.write_text('#!/bin/sh\nif [ "$1" = "--list-langs" ]; then printf "List of\\neng\\nosd\\n"; exit 0; fi\n'
                    'echo "Segmentation fault" >&2\nexit 139\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    tesseract_cmd.tesseract_cmd = str(fake)
    with pytest.raises(OcrError) as err:
        TesseractEngine().recognize(text_image(), ("eng",))
    assert not isinstance(err.value, DependencyMissing)


def test_tesseract_timeout_is_ocr_error() -> None:
    with pytest.raises(OcrError, match="timed out"):
        TesseractEngine(timeout=0.001).recognize(text_image(), ("eng",))  # type: ignore[arg-type]


def test_tesseract_runs_single_threaded() -> None:
    assert os.environ.get("OMP_THREAD_LIMIT") == "1"


# ----------------------------------------------------------- orientation

@pytest.mark.parametrize("k,rotate", [(-1, 270), (1, 90), (2, 180)])
def test_detect_orientation_says_how_to_turn_upright(k: int, rotate: int) -> None:
    img = np.ascontiguousarray(np.rot90(text_image(PROSE, size=24), k))  # k=-1: turned 90 degrees clockwise
    found = tesseract.detect_orientation(img)
    assert found is not None and found[0] == rotate and found[1] > 2


def test_detect_orientation_on_sparse_image_is_none() -> None:
    img = np.full((200, 200), 255, np.uint8)
    cv2.putText(img, "A", (80, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    assert tesseract.detect_orientation(img) is None


@pytest.mark.parametrize("k,rotation", [(-1, 270), (2, 180), (1, 90)])
def test_read_document_turns_a_rotated_photo_upright(tmp_path: Path, k: int, rotation: int) -> None:
    img = np.ascontiguousarray(np.rot90(text_image(PROSE, size=24), k))
    doc = ocr.read_document(fileinfo(save_png(tmp_path, img), "png"))
    (page,) = doc.pages
    assert page.rotation == rotation
    assert PROSE_KEY <= {w.text.strip(".,") for ln in page.lines for w in ln.words}


# ------------------------------------------------------------ read_document

def test_read_document_png_with_kept_image(tmp_path: Path) -> None:
    skewed = np.array(Image.fromarray(text_image()).rotate(3, expand=True, fillcolor=255, resample=Image.BICUBIC))
    f = fileinfo(save_png(tmp_path, skewed), "png")
    doc = ocr.read_document(f, keep_images_dir=tmp_path / "kept")
    (page,) = doc.pages
    assert doc.file == f and page.source == "ocr" and page.engine == "tesseract" and page.page_no == 1
    assert KEY <= {w.text for ln in page.lines for w in ln.words}
    assert page.rotation == 0 and abs(page.skew - 3) <= 0.5
    assert page.image_path is not None and Path(page.image_path).parent == tmp_path / "kept"
    assert cv2.imread(page.image_path, cv2.IMREAD_GRAYSCALE) is not None
    # boxes refer to the image as uploaded (mapped back from the deskewed, rescaled one):
    # the page has its size, and the word TOTAL is dark ink inside its box there
    assert (page.height, page.width) == skewed.shape
    total = next(w for ln in page.lines for w in ln.words if w.text == "TOTAL")
    b = total.box
    crop = skewed[int(b.y0):int(b.y1) + 1, int(b.x0):int(b.x1) + 1]
    assert crop.size and crop.min() < 80
    assert b.width < skewed.shape[1] / 2 and b.height < 80  # a word's box, not the page


def test_blank_page_gives_a_warning_not_an_error(tmp_path: Path) -> None:
    doc = ocr.read_document(fileinfo(save_png(tmp_path, np.full((300, 300), 255, np.uint8)), "png"))
    assert doc.pages[0].lines == () and any("no text" in w for w in doc.warnings)


@pytest.mark.parametrize("error,expected", [
    (OcrError("boom"), OcrError), (RuntimeError("engine bug"), OcrError),
    (DependencyMissing("no model"), DependencyMissing), (MemoryError(), OcrError),
])
def test_failing_engine_surfaces_as_typed_error(tmp_path: Path, registered, error: Exception,
                                                expected: type[Exception]) -> None:
    eng = FailingEngine(error)
    registered("failing", eng)
    with pytest.raises(expected):
        ocr.read_document(fileinfo(save_png(tmp_path, text_image()), "png"), engine="failing")
    assert eng.calls == 1


def test_get_engine_is_created_once() -> None:
    assert ocr.get_engine("tesseract") is ocr.get_engine("tesseract")
    eng = ocr.get_engine("tesseract-psm11")
    # with CLAIMCHECK_OCR_CACHE_DIR set (the data team's cache) the engine comes wrapped in a ReplayEngine
    assert getattr(eng, "inner", eng).psm == 11  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        ocr.get_engine("no-such-engine")


# ------------------------------------------------------------------ replay

class CountingEngine:
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        self.calls += 1
        w = Word(text=f"mean={image.mean():.1f}", conf=0.9, box=Box(x0=1, y0=2, x1=30, y1=12), engine=self.name)
        return [Line(words=(w,))]


def test_replay_engine_records_then_replays(tmp_path: Path) -> None:
    inner = CountingEngine()
    rec = ReplayEngine(inner, tmp_path / "cache")
    img = text_image()
    first = rec.recognize(img, ("eng",))
    again = rec.recognize(img.copy(), ("eng",))
    assert inner.calls == 1 and first == again and rec.hits == 1
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    replay_only = ReplayEngine(None, tmp_path / "cache", record=False, name="counting")
    assert replay_only.recognize(img, ("eng",)) == first
    with pytest.raises(OcrError):  # another language is another key
        replay_only.recognize(img, ("dan",))
    with pytest.raises(OcrError):  # another image too
        replay_only.recognize(255 - img, ("eng",))


def test_replay_of_real_tesseract_runs_without_the_binary(tmp_path: Path, registered, tesseract_cmd) -> None:
    f = fileinfo(save_png(tmp_path, text_image()), "png")
    registered("tesseract-recorded", ReplayEngine(TesseractEngine(), tmp_path / "cache", name="tesseract-recorded"))
    recorded = ocr.read_document(f, engine="tesseract-recorded")
    tesseract_cmd.tesseract_cmd = "/nonexistent/tesseract"
    registered("tesseract-replay", ReplayEngine(None, tmp_path / "cache", record=False, name="tesseract-recorded"))
    replayed = ocr.read_document(f, engine="tesseract-replay")
    assert replayed.pages[0].lines == recorded.pages[0].lines
    assert KEY <= {w.text for ln in replayed.pages[0].lines for w in ln.words}


def test_corrupt_replay_entry_is_ocr_error(tmp_path: Path) -> None:
    rec = ReplayEngine(CountingEngine(), tmp_path)
    img = text_image()
    rec.recognize(img, ("eng",))
    (entry,) = tmp_path.glob("*.json")
    entry.write_text("{not json")
    with pytest.raises(OcrError):
        rec.recognize(img, ("eng",))


# ------------------------------------------------------------ line helpers

def _w(text: str, x0: float, y0: float, x1: float, y1: float) -> Word:
    return Word(text=text, conf=0.9, box=Box(x0=x0, y0=y0, x1=x1, y1=y1), engine="t")


def test_group_words_into_lines_by_vertical_overlap() -> None:
    ws = [_w("12.00", 300, 52, 350, 70), _w("TOTAL", 10, 50, 80, 70), _w("Date", 10, 10, 60, 28),
          _w("2024", 70, 12, 120, 30), _w("VAT", 10, 80, 50, 98)]
    lines = base.group_words_into_lines(ws)
    assert [ln.text for ln in lines] == ["Date 2024", "TOTAL 12.00", "VAT"]


def test_split_line_into_words_is_proportional() -> None:
    ws = base.split_line_into_words("S/N 54218873", Box(x0=0, y0=0, x1=120, y1=20), 0.8, "rapidocr")
    assert [w.text for w in ws] == ["S/N", "54218873"]
    assert ws[0].box.x0 == 0 and ws[0].box.x1 == pytest.approx(30)
    assert ws[1].box.x0 == pytest.approx(40) and ws[1].box.x1 == pytest.approx(120)
    assert base.split_line_into_words("   ", Box(x0=0, y0=0, x1=1, y1=1), 1.0, "x") == []


# ---------------------------------------------------------------- RapidOCR

@pytest.mark.slow  # loads the PP-OCR models (2-4 s)
def test_rapidocr_reads_words() -> None:
    eng = ocr.get_engine("rapidocr")
    lines = eng.recognize(text_image(), ("eng",))
    assert KEY <= words(lines)
    assert all(w.engine == "rapidocr" and 0 <= w.conf <= 1 for ln in lines for w in ln.words)
    assert [ln.words[0].text for ln in lines] == ["CAMERA", "Receipt", "Nikon", "TOTAL"]


# ------------------------------------------------------------------- labels

def label_photo(serial: str, model: str) -> np.ndarray:
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=(260, 70))
    code128.Code128(serial, barHeight=50, barWidth=1.1, humanReadable=False).drawOn(c, 10, 10)
    c.save()
    bc = pdfium.PdfDocument(buf.getvalue())[0].render(scale=2).to_pil().convert("L")
    W, H = 700, 420
    label = Image.new("L", (W, H), 250)
    d = ImageDraw.Draw(label)
    d.text((30, 25), model, font=ImageFont.truetype(FONT_BOLD, 44), fill=20)
    d.text((30, 145), f"S/N {serial}", font=ImageFont.truetype(FONT, 38), fill=20)
    label.paste(bc, (30, 210))
    BW, BH = 1200, 950
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    dst = np.float32([[230, 190], [980, 250], [950, 700], [200, 640]])  # rotated ~4 degrees and keystoned
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(np.array(label), m, (BW, BH))
    mask = cv2.warpPerspective(np.full((H, W), 255, np.uint8), m, (BW, BH))
    photo = np.where(mask > 0, warped, 115).astype(np.float64)
    yy, xx = np.mgrid[0:BH, 0:BW]
    photo = photo * (1 - 0.3 * xx / BW) + 110 * np.exp(-(((xx - 700) / 150) ** 2 + ((yy - 300) / 80) ** 2))
    photo = cv2.GaussianBlur(np.clip(photo, 0, 255).astype(np.uint8), (3, 3), 0.8)
    return cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("engine", [pytest.param("auto", marks=pytest.mark.slow), "tesseract-psm11"])
def test_read_label_finds_barcode_and_serial(tmp_path: Path, engine: str) -> None:
    serial = "54218873"
    f = fileinfo(save_png(tmp_path, label_photo(serial, "EOS R6 Mark II")), "png", DocumentRole.SERIAL_PHOTO)
    doc = ocr.read_label(f, engine=engine, keep_images_dir=tmp_path / "kept")
    (page,) = doc.pages
    assert [b.text for b in page.barcodes] == [serial]
    assert page.barcodes[0].engine == "barcode:code128"
    assert serial in page.text.replace(" ", "")
    # the barcode box is in the preprocessed image's coordinates
    b = page.barcodes[0].box
    assert 0 <= b.x0 < b.x1 <= page.width + 2 and 0 <= b.y0 < b.y1 <= page.height + 2
    assert b.width > 0.1 * page.width and b.height > 0.05 * page.height  # the bars, not a point


def test_read_label_auto_falls_back_when_rapidocr_is_missing(tmp_path: Path, registered) -> None:
    missing = FailingEngine(DependencyMissing("rapidocr models missing"), name="rapidocr")
    registered(ocr.DEFAULT_LABEL_ENGINE, missing)
    serial = "31415926"
    f = fileinfo(save_png(tmp_path, label_photo(serial, "Z 6II")), "png", DocumentRole.SERIAL_PHOTO)
    doc = ocr.read_label(f)
    assert missing.calls == 1
    assert doc.pages[0].engine == ocr.FALLBACK_LABEL_ENGINE
    assert any("unavailable" in w for w in doc.warnings)
    assert [b.text for b in doc.pages[0].barcodes] == [serial]
    with pytest.raises(DependencyMissing):  # an explicitly chosen engine does not fall back
        ocr.read_label(f, engine=ocr.DEFAULT_LABEL_ENGINE)


@pytest.mark.parametrize("k,rotation", [(-1, 270), (1, 90)])
def test_read_label_photographed_sideways(tmp_path: Path, k: int, rotation: int) -> None:
    serial = "27182818"
    photo = np.ascontiguousarray(np.rot90(label_photo(serial, "X-T5 Body"), k))
    f = fileinfo(save_png(tmp_path, photo), "png", DocumentRole.SERIAL_PHOTO)
    doc = ocr.read_label(f, engine="tesseract-psm11")
    (page,) = doc.pages
    assert page.rotation == rotation
    assert serial in page.text.replace(" ", "")
    assert [b.text for b in page.barcodes] == [serial]


@pytest.mark.slow
@pytest.mark.parametrize("k", [-1, 1, 2])
def test_read_label_auto_reads_a_turned_label(tmp_path: Path, k: int) -> None:
    # RapidOCR classifies and turns each text line itself, so no page rotation is needed
    serial = "16180339"
    photo = np.ascontiguousarray(np.rot90(label_photo(serial, "LUMIX S5 II"), k))
    doc = ocr.read_label(fileinfo(save_png(tmp_path, photo), "png", DocumentRole.SERIAL_PHOTO))
    assert serial in doc.text.replace(" ", "")
    assert [b.text for b in doc.pages[0].barcodes] == [serial]


def test_rapidocr_line_reread_does_not_switch_off_detection():
    """RapidOCR keeps the flags of its last call on its shared instance; a
    recognition-only re-read must not leave whole-page readings without detection."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from pipeline.extract.serial import _recognise_line
    from pipeline.ocr.rapid import RapidOcrEngine

    im = Image.new("L", (700, 200), 255)
    font = ImageFont.truetype("DejaVuSans.ttf", 36)
    ImageDraw.Draw(im).text((20, 20), "Fakturadato 07.11.2022", fill=0, font=font)
    ImageDraw.Draw(im).text((20, 110), "Serienr. 85258362", fill=0, font=font)
    page = np.array(im)
    line = _recognise_line(page[100:170, :])
    assert line is not None and "85258362" in line[0]
    lines = RapidOcrEngine().recognize(page, ("eng",))
    assert len(lines) >= 2 and any("07.11.2022" in ln.text for ln in lines)
