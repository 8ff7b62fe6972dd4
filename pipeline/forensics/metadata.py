"""File-level forensic signals (family METADATA).

What the file itself says about its history, independent of the pixels:

- ``metadata.editor_software``: EXIF Software / XMP CreatorTool / XMP history of an
  image editor, or a PDF Producer/Creator naming a PDF editor. Shop systems,
  browsers, print drivers and scanners are known and stay silent; a file with no
  metadata at all (scanners, screenshots, most web uploads) is normal.
- ``metadata.modified_later``: a modification date well after the creation date
  (PDF Info / XMP / EXIF DateTime vs DateTimeOriginal).
- ``metadata.pdf_revisions``: incremental updates appended to a PDF. The earlier
  revision survives in the file; it is opened and its text compared with the final
  text, so the handler sees which words changed and where.
- ``metadata.text_over_image``: visible text drawn over a scanned image on a page
  whose other text is invisible (an OCR layer) or absent: typed text on a scan.
- ``metadata.rare_font``: a font (or a second subset of a font) used for only a few
  characters on a page, stronger when those characters are in the date, total or
  model field.

Regions are in the coordinates of the receipt's OCR boxes: PDF points with a
top-left origin for a text-layer page (as pdfplumber and `pipeline.render` use),
pixels at the render resolution for a rasterised page.

Every detector returns no signal for a file it cannot parse.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import logging
import re
from dataclasses import dataclass

from models.documents import Box
from models.forensics import Region, Signal, SignalFamily
from pipeline.forensics import ForensicInput, register

log = logging.getLogger(__name__)

FAMILY = SignalFamily.METADATA

# ------------------------------------------------------------------ software names

#: (pattern, label, score): software that edits pixels or the text of a PDF
EDITORS: tuple[tuple[str, str, float], ...] = (
    (r"photoshop\s*express", "Adobe Photoshop Express", 0.85),
    (r"photoshop", "Adobe Photoshop", 0.9),
    (r"\bgimp\b", "GIMP", 0.9),
    (r"pixelmator", "Pixelmator", 0.9),
    (r"snapseed", "Snapseed", 0.85),
    (r"\bcanva\b", "Canva", 0.9),
    (r"paint\.net", "Paint.NET", 0.9),
    (r"affinity\s*(photo|designer|publisher)", "Affinity", 0.9),
    (r"photopea", "Photopea", 0.9),
    (r"picsart", "PicsArt", 0.9),
    (r"\bpixlr\b", "Pixlr", 0.9),
    (r"\bfotor\b", "Fotor", 0.85),
    (r"\bkrita\b", "Krita", 0.85),
    (r"inkscape", "Inkscape", 0.8),
    (r"corel\s*(draw|photo-?paint|paintshop)|paintshop\s*pro", "Corel", 0.9),
    (r"lightroom", "Adobe Lightroom", 0.6),
    (r"illustrator", "Adobe Illustrator", 0.85),
    (r"indesign", "Adobe InDesign", 0.6),
    # PDF editors
    (r"acrobat.*(paper\s*capture|image\s*conversion|scan)", "Adobe Acrobat (scan/OCR)", 0.3),
    (r"acrobat\s*distiller|pdfmaker", "Acrobat Distiller", 0.0),
    (r"adobe\s*acrobat(?!\s*distiller)", "Adobe Acrobat", 0.8),
    (r"ilovepdf", "iLovePDF", 0.85),
    (r"pdfescape", "PDFescape", 0.9),
    (r"\bsejda\b", "Sejda", 0.85),
    (r"smallpdf", "Smallpdf", 0.85),
    (r"phantompdf|foxit\s*pdf\s*editor", "Foxit PDF editor", 0.85),
    (r"nitro\s*pro|nitro\s*pdf", "Nitro PDF", 0.8),
    (r"pdfelement|wondershare", "Wondershare PDFelement", 0.85),
    (r"pdf-?xchange\s*editor", "PDF-XChange Editor", 0.85),
    (r"master\s*pdf\s*editor", "Master PDF Editor", 0.85),
    (r"pdf\s*candy", "PDF Candy", 0.85),
    (r"pdffiller", "pdfFiller", 0.9),
    (r"dochub", "DocHub", 0.85),
    (r"soda\s*pdf", "Soda PDF", 0.8),
    (r"pdf\s*expert", "PDF Expert", 0.8),
    (r"libreoffice\s*draw", "LibreOffice Draw", 0.7),
    (r"pdf\s*editor", "a PDF editor", 0.8),
)
_EDITOR_RX = [(re.compile(p, re.I), label, score) for p, label, score in EDITORS]

# Shop systems, browsers, print drivers, scanner and phone software (reportlab, wkhtmltopdf,
# Skia/Chrome, "Microsoft: Print To PDF", Acrobat Distiller/PDFMaker, PIL, camera firmware)
# are not listed: anything that is not a known editor gives no signal.


def classify_software(name: str) -> tuple[str, float] | None:
    """(label, score) when `name` is editing software; None for shop/scanner/unknown software."""
    if not name or not name.strip():
        return None
    for rx, label, score in _EDITOR_RX:
        if rx.search(name):
            return (label, score) if score > 0 else None
    return None


# ------------------------------------------------------------------ metadata readers

_XMP_FIELDS = {
    "CreatorTool": re.compile(rb"CreatorTool(?:>|=\")\s*([^<\"]{1,200})"),
    "softwareAgent": re.compile(rb"softwareAgent(?:>|=\")\s*([^<\"]{1,200})"),
    "Producer": re.compile(rb"pdf:Producer(?:>|=\")\s*([^<\"]{1,200})"),
    "ModifyDate": re.compile(rb"xmp:ModifyDate(?:>|=\")\s*([^<\"]{1,60})"),
    "CreateDate": re.compile(rb"xmp:CreateDate(?:>|=\")\s*([^<\"]{1,60})"),
}


def _xmp_values(blob: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if b"<x:xmpmeta" not in blob and b"xmp" not in blob.lower()[:200000]:
        return out
    for name, rx in _XMP_FIELDS.items():
        for m in rx.finditer(blob):
            v = m.group(1).decode("utf-8", "replace").strip()
            if v:
                out.setdefault(name, []).append(v)
    return out


@dataclass
class FileMeta:
    software: list[tuple[str, str]]  # (where, value)
    created: list[tuple[str, dt.datetime]]
    modified: list[tuple[str, dt.datetime]]


_EXIF_SOFTWARE, _EXIF_DATETIME, _EXIF_IFD, _EXIF_ORIGINAL, _EXIF_DIGITIZED = 0x0131, 0x0132, 0x8769, 0x9003, 0x9004


def _exif_date(v: object) -> dt.datetime | None:
    if not isinstance(v, str):
        return None
    try:
        return dt.datetime.strptime(v.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _iso_date(v: str) -> dt.datetime | None:
    try:
        d = dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return d.replace(tzinfo=None) if d.tzinfo is None else d.astimezone(dt.UTC).replace(tzinfo=None)


_PDF_DATE = re.compile(r"D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz+\-])?\s*(\d{2})?'?(\d{2})?")


def pdf_date(v: object) -> dt.datetime | None:
    """A PDF date string (D:YYYYMMDDHHmmSSOHH'mm') as naive UTC."""
    if isinstance(v, bytes):
        v = v.decode("latin-1", "replace")
    if not isinstance(v, str):
        return None
    m = _PDF_DATE.match(v.strip())
    if not m:
        return None
    try:
        parts = [int(g) if g else d for g, d in zip(m.groups()[:6], (0, 1, 1, 0, 0, 0), strict=True)]
        d = dt.datetime(*parts)  # type: ignore[arg-type]
    except ValueError:
        return None
    sign, hh, mm = m.group(7), m.group(8), m.group(9)
    if sign in ("+", "-") and hh:
        off = dt.timedelta(hours=int(hh), minutes=int(mm or 0))
        d = d - off if sign == "+" else d + off
    return d


def image_meta(data: bytes) -> FileMeta:
    from PIL import Image

    meta = FileMeta([], [], [])
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            sw = exif.get(_EXIF_SOFTWARE)
            if isinstance(sw, bytes):
                sw = sw.decode("latin-1", "replace")
            if isinstance(sw, str) and sw.strip():
                meta.software.append(("EXIF Software", sw.strip().strip("\x00")))
            d = _exif_date(exif.get(_EXIF_DATETIME))
            if d:
                meta.modified.append(("EXIF DateTime", d))
            try:
                sub = exif.get_ifd(_EXIF_IFD)
            except Exception:  # noqa: BLE001
                sub = {}
            for tag in (_EXIF_ORIGINAL, _EXIF_DIGITIZED):
                d = _exif_date(sub.get(tag))
                if d:
                    meta.created.append(("EXIF DateTimeOriginal", d))
                    break
            xmp_blobs: list[bytes] = []
            for k, v in im.info.items():
                if "xmp" in str(k).lower():
                    xmp_blobs.append(v.encode("utf-8", "replace") if isinstance(v, str) else bytes(v) if isinstance(v, bytes | bytearray) else b"")
    except Exception:  # noqa: BLE001 - an unreadable image has no metadata signal
        xmp_blobs = []
    if not xmp_blobs and b"<x:xmpmeta" in data[:2_000_000]:
        xmp_blobs = [data[:2_000_000]]
    for blob in xmp_blobs:
        _add_xmp(meta, blob)
    return meta


def _add_xmp(meta: FileMeta, blob: bytes) -> None:
    x = _xmp_values(blob)
    for v in x.get("CreatorTool", []):
        meta.software.append(("XMP CreatorTool", v))
    for v in x.get("softwareAgent", []):
        meta.software.append(("XMP history", v))
    for v in x.get("Producer", []):
        meta.software.append(("XMP Producer", v))
    for v in x.get("ModifyDate", []):
        d = _iso_date(v)
        if d:
            meta.modified.append(("XMP ModifyDate", d))
    for v in x.get("CreateDate", []):
        d = _iso_date(v)
        if d:
            meta.created.append(("XMP CreateDate", d))


def _pdf_info(data: bytes) -> dict[str, str]:
    """The document Info dictionary of the final revision (pdfminer), values as text."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    out: dict[str, str] = {}
    doc = PDFDocument(PDFParser(io.BytesIO(data)))
    for info in doc.info[-1:] if doc.info else []:
        for k, v in info.items():
            v = resolve1(v)
            if isinstance(v, bytes):
                if v.startswith(b"\xfe\xff"):
                    s = v[2:].decode("utf-16-be", "replace")
                else:
                    s = v.decode("latin-1", "replace")
            elif isinstance(v, str):
                s = v
            else:
                continue
            out[str(k)] = s
    return out


def pdf_meta(data: bytes) -> FileMeta:
    meta = FileMeta([], [], [])
    try:
        info = _pdf_info(data)
    except Exception:  # noqa: BLE001
        info = {}
    for k in ("Producer", "Creator"):
        if info.get(k, "").strip():
            meta.software.append((f"PDF {k}", info[k].strip()))
    d = pdf_date(info.get("CreationDate"))
    if d:
        meta.created.append(("PDF CreationDate", d))
    d = pdf_date(info.get("ModDate"))
    if d:
        meta.modified.append(("PDF ModDate", d))
    if b"<x:xmpmeta" in data or b"xmpmeta" in data:
        _add_xmp(meta, data)
    return meta


def file_meta(inp: ForensicInput) -> FileMeta:
    cache = inp.extra.get("_metadata_filemeta")
    if isinstance(cache, FileMeta):
        return cache
    t = inp.file.detected_type
    data = inp.data
    meta = pdf_meta(data) if t == "pdf" else image_meta(data) if t in ("jpeg", "png") else FileMeta([], [], [])
    try:
        inp.extra["_metadata_filemeta"] = meta
    except TypeError:  # pragma: no cover - a read-only mapping
        pass
    return meta


# ------------------------------------------------------------------ detectors


@register("editor_software", FAMILY)
def editor_software(inp: ForensicInput) -> list[Signal]:
    meta = file_meta(inp)
    if not meta.software:
        return []
    hits = []
    for where, value in meta.software:
        c = classify_software(value)
        if c:
            hits.append((c[1], c[0], where, value))
    if not hits:
        return []
    hits.sort(reverse=True)
    score, label, where, value = hits[0]
    places = sorted({h[2] for h in hits})
    if len(places) > 1:
        score = min(1.0, score + 0.05)
    kind = "PDF" if inp.file.detected_type == "pdf" else "image"
    return [Signal(
        detector="metadata.editor_software", family=FAMILY, score=round(score, 3), threshold=0.5,
        message=(f"The receipt {kind} file was last saved by editing software ({label}, in {', '.join(places)}); "
                 "check the receipt against the original from the shop."),
        detail={"software": value[:120], "label": label, "where": ", ".join(places),
                "all_software": "; ".join(f"{w}: {v[:60]}" for w, v in meta.software)[:300]},
    )]


@register("modified_later", FAMILY)
def modified_later(inp: ForensicInput) -> list[Signal]:
    meta = file_meta(inp)
    if not meta.created or not meta.modified:
        return []
    # compare like with like when possible (PDF dates with PDF dates, XMP with XMP)
    best: tuple[float, str, str, dt.datetime, dt.datetime] | None = None
    for cw, c in meta.created:
        for mw, m in meta.modified:
            if cw.split()[0] != mw.split()[0] and not (cw.startswith("EXIF") and mw.startswith("EXIF")):
                continue
            gap = (m - c).total_seconds()
            if best is None or gap > best[0]:
                best = (gap, cw, mw, c, m)
    if best is None or best[0] <= 3600:
        return []
    gap, cw, mw, c, m = best
    days = gap / 86400
    # an hour..a day: a file re-saved on the same day (often a print/sign step); days: edited later
    score = 0.25 if days < 1 else 0.55 if days < 2 else 0.65 if days < 30 else 0.7
    return [Signal(
        detector="metadata.modified_later", family=FAMILY, score=score, threshold=0.55,
        message=(f"The receipt file was modified {days:.1f} days after it was created ({mw} vs {cw}); "
                 "a receipt is usually not changed after it is issued."),
        detail={"created": c.isoformat(), "modified": m.isoformat(), "gap_days": round(days, 2),
                "created_field": cw, "modified_field": mw},
    )]


# ------------------------------------------------------------------ PDF revisions

_EOF = re.compile(rb"%%EOF[ \t]*(?:\r\n|\r|\n)?")


def pdf_revision_ends(data: bytes) -> list[int]:
    """Byte offsets where each revision of the PDF ends (after its %%EOF), the first
    revision first. A linearized file's first-page section is not a revision."""
    ends = [m.end() for m in _EOF.finditer(data)]
    if not ends:
        return []
    # trailing garbage after the last %%EOF does not make a revision
    ends = [e for i, e in enumerate(ends) if i == len(ends) - 1 or data[e:ends[i + 1]].strip(b"\r\n\t \x00")]
    if len(ends) >= 2 and b"/Linearized" in data[:2048]:
        ends = ends[1:]  # the first %%EOF closes the first-page section of a linearized file
    return ends


_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")


def _updated_objects(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """Objects (number -> body head) defined in data[start:end]."""
    out = {}
    for m in _OBJ.finditer(data, start, end):
        j = data.find(b"endobj", m.end(), end)
        out[int(m.group(1))] = data[m.end(): j if j >= 0 else min(end, m.end() + 400)][:400]
    return out


@dataclass
class _PWord:
    text: str
    box: Box
    page: int


def _pdf_words(data: bytes) -> list[list[_PWord]]:
    import pdfplumber

    pages: list[list[_PWord]] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for i, page in enumerate(pdf.pages[:10]):
            ws = page.extract_words(keep_blank_chars=False, use_text_flow=False)
            pages.append([_PWord(str(w["text"]), Box(x0=float(w["x0"]), y0=float(w["top"]), x1=float(w["x1"]),
                                                     y1=float(w["bottom"])), i + 1) for w in ws if str(w["text"]).strip()])
    return pages


def _page_scales(inp: ForensicInput, data: bytes | None = None) -> dict[int, float]:
    """Per page: factor from PDF points to the coordinates of the OCR boxes (1 for a
    text-layer page, render dpi / 72 for a rasterised page)."""
    out: dict[int, float] = {}
    if inp.doc is None:
        return out
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data if data is not None else inp.data)
        try:
            for p in inp.doc.pages:
                if p.unit == "pt" or p.page_no > len(pdf):
                    out[p.page_no] = 1.0
                    continue
                w_pt, _ = pdf[p.page_no - 1].get_size()
                out[p.page_no] = (p.width / w_pt) if w_pt else 1.0
        finally:
            pdf.close()
    except Exception:  # noqa: BLE001
        pass
    return out


def _scaled(b: Box, s: float) -> Box:
    if s == 1.0:
        return b
    return Box(x0=b.x0 * s, y0=b.y0 * s, x1=b.x1 * s, y1=b.y1 * s)


def _field_boxes(inp: ForensicInput) -> dict[str, list[tuple[int, Box]]]:
    """Evidence boxes of the decisive fields: purchase_date, total, product model lines."""
    out: dict[str, list[tuple[int, Box]]] = {}
    ex = inp.extraction
    if ex is None:
        return out
    for name in ("purchase_date", "total"):
        fv = getattr(ex, name, None)
        if fv is not None and fv.evidence is not None and fv.evidence.box is not None:
            out.setdefault(name, []).append((fv.evidence.page, fv.evidence.box))
    for fv in ex.product_lines:
        if fv.evidence is not None and fv.evidence.box is not None:
            out.setdefault("product_model", []).append((fv.evidence.page, fv.evidence.box))
    return out


def _overlaps(a: Box, b: Box, pad: float = 1.0) -> bool:
    return a.x0 < b.x1 + pad and a.x1 > b.x0 - pad and a.y0 < b.y1 + pad and a.y1 > b.y0 - pad


def _field_of(inp: ForensicInput, page: int, box: Box, scale: float = 1.0) -> str | None:
    b = _scaled(box, scale)
    for name, boxes in _field_boxes(inp).items():
        if any(p == page and _overlaps(b, fb) for p, fb in boxes):
            return name
    return None


def _diff_words(old: list[list[_PWord]], new: list[list[_PWord]]) -> list[tuple[int, str, str, Box | None]]:
    """(page, old text, new text, box in the new revision) for every changed run of words."""
    out: list[tuple[int, str, str, Box | None]] = []
    for pi in range(max(len(old), len(new))):
        a = old[pi] if pi < len(old) else []
        b = new[pi] if pi < len(new) else []
        sm = difflib.SequenceMatcher(a=[w.text for w in a], b=[w.text for w in b], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            ow = a[i1:i2]
            nw = b[j1:j2]
            box = Box.enclosing([w.box for w in nw]) or Box.enclosing([w.box for w in ow])
            out.append((pi + 1, " ".join(w.text for w in ow), " ".join(w.text for w in nw), box))
    return out


@register("pdf_revisions", FAMILY)
def pdf_revisions(inp: ForensicInput) -> list[Signal]:
    if inp.file.detected_type != "pdf":
        return []
    data = inp.data
    ends = pdf_revision_ends(data)
    if len(ends) < 2:
        return []
    n_updates = len(ends) - 1
    first = ends[0]
    updated = _updated_objects(data, first, len(data))
    signed = b"/ByteRange" in data[:first] or b"/Type /Sig" in data[:first] or b"/Type/Sig" in data[:first]
    annots = sum(1 for body in updated.values() if re.search(rb"/Subtype\s*/(FreeText|Stamp|Ink|Square|Redact)", body))
    streams = sum(1 for body in updated.values() if b"stream" in body or b"/Length" in body)
    try:
        old_words = _pdf_words(data[:first])
        new_words = _pdf_words(data)
        changes = _diff_words(old_words, new_words)
    except Exception:  # noqa: BLE001 - the earlier revision may not open on its own
        changes = []
        old_words = []
    scales = _page_scales(inp)
    regions = []
    fields = []
    for page, _old, _new, box in changes[:12]:
        if box is None:
            continue
        s = scales.get(page, 1.0)
        f = _field_of(inp, page, box, s)
        if f:
            fields.append(f)
        regions.append(Region(page=page, box=_scaled(box, s), note=f"text changed in a later revision{f' ({f})' if f else ''}"))
    if changes:
        score = 0.9 if fields else 0.85
        msg = (f"The PDF was changed after it was first saved: {n_updates} incremental update(s) rewrote text on the page"
               f"{' in the ' + ', '.join(sorted(set(fields))) + ' field' if fields else ''}; the original revision is still "
               "in the file.")
    elif annots:
        score = 0.7
        msg = (f"The PDF has {n_updates} incremental update(s) that add annotations (text boxes, stamps or drawings) "
               "on top of the original page.")
    elif signed and streams == 0:
        score = 0.2
        msg = (f"The PDF has {n_updates} incremental update(s) after a digital signature, without changing the page "
               "text; this is what signing tools write.")
    elif streams:
        score = 0.5
        msg = (f"The PDF has {n_updates} incremental update(s) that rewrite page content, but the visible text is the "
               "same in both revisions; check the receipt.")
    else:
        score = 0.3
        msg = (f"The PDF has {n_updates} incremental update(s) (metadata or structure only; the page text did not "
               "change). Often harmless, e.g. a signing or form tool.")
    detail: dict[str, str | float | int | bool] = {
        "revisions": len(ends), "original_bytes": first, "updated_objects": len(updated),
        "updated_streams": streams, "added_annotations": annots, "signed_before_update": signed,
        "text_changes": len(changes),
    }
    if changes:
        detail["old_text"] = " | ".join(c[1] for c in changes)[:160]
        detail["new_text"] = " | ".join(c[2] for c in changes)[:160]
        if fields:
            detail["fields"] = ", ".join(sorted(set(fields)))
    return [Signal(detector="metadata.pdf_revisions", family=FAMILY, score=score, threshold=0.5, message=msg,
                   field=(fields[0] if fields else None), regions=tuple(regions), detail=detail)]


# ------------------------------------------------------------------ text over an image

_INVISIBLE = (3, 7)  # text render modes: invisible, clip only


@dataclass
class _TextRun:
    text: str
    box: Box  # points, top-left origin
    visible: bool
    font: str


def _pdfium_page_objects(data: bytes, max_pages: int = 10) -> list[tuple[float, float, list[_TextRun], list[Box]]]:
    """Per page: (width, height, text runs, image boxes), boxes in points with a top-left origin."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pc

    out = []
    pdf = pdfium.PdfDocument(data)
    try:
        for i in range(min(len(pdf), max_pages)):
            page = pdf[i]
            w, h = page.get_size()
            tp = page.get_textpage()
            runs: list[_TextRun] = []
            images: list[Box] = []
            for obj in page.get_objects(filter=[pc.FPDF_PAGEOBJ_TEXT, pc.FPDF_PAGEOBJ_IMAGE], textpage=tp):
                try:
                    left, bottom, right, top = obj.get_bounds()
                except Exception:  # noqa: BLE001
                    continue
                box = Box(x0=left, y0=h - top, x1=right, y1=h - bottom)
                if obj.type == pc.FPDF_PAGEOBJ_IMAGE:
                    images.append(box)
                    continue
                try:
                    text = obj.extract()
                except Exception:  # noqa: BLE001
                    text = ""
                mode = pc.FPDFTextObj_GetTextRenderMode(obj.raw)
                try:
                    fnt = obj.get_font().get_base_name() if hasattr(obj, "get_font") else ""
                except Exception:  # noqa: BLE001
                    fnt = ""
                runs.append(_TextRun(text=text or "", box=box, visible=mode not in _INVISIBLE, font=str(fnt or "")))
            pages_item = (w, h, runs, images)
            out.append(pages_item)
            tp.close()
            page.close()
    finally:
        pdf.close()
    return out


def _inside(a: Box, b: Box, frac: float = 0.6) -> bool:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    area = max(1e-6, a.width * a.height)
    return ix * iy / area >= frac


def _nchars(s: str) -> int:
    return sum(1 for ch in s if ch.isalnum())


@register("text_over_image", FAMILY)
def text_over_image(inp: ForensicInput) -> list[Signal]:
    if inp.file.detected_type != "pdf":
        return []
    try:
        pages = _pdfium_page_objects(inp.data)
    except Exception:  # noqa: BLE001 - damaged or encrypted: intake reports it, no signal here
        return []
    scales = _page_scales(inp)
    out: list[Signal] = []
    for pi, (w, h, runs, images) in enumerate(pages, start=1):
        big = [b for b in images if b.width * b.height >= 0.25 * w * h]
        if not big:
            continue
        over = [r for r in runs if r.visible and _nchars(r.text) and any(_inside(r.box, b) for b in big)]
        if not over:
            continue
        n_over = sum(_nchars(r.text) for r in over)
        n_invisible = sum(_nchars(r.text) for r in runs if not r.visible)
        n_visible = sum(_nchars(r.text) for r in runs if r.visible)
        # a page designed as text on a background picture: most of its text is visible over the image
        if n_over > 40 and n_over >= 0.25 * max(1, n_visible + n_invisible):
            continue
        share = n_over / max(1, n_visible + n_invisible)
        score = 0.85 if n_invisible > 0 or n_visible == n_over else 0.7
        if share > 0.15:
            score -= 0.2
        s = scales.get(pi, 1.0)
        regions = []
        fields = []
        for r in over[:10]:
            f = _field_of(inp, pi, r.box, s)
            if f:
                fields.append(f)
            regions.append(Region(page=pi, box=_scaled(r.box, s), note="visible text drawn over the scanned image"))
        if fields:
            score = min(1.0, score + 0.1)
        out.append(Signal(
            detector="metadata.text_over_image", family=FAMILY, score=round(score, 3), threshold=0.6,
            message=(f"On page {pi}, {n_over} character(s) of visible text are drawn on top of the scanned image"
                     f"{' in the ' + ', '.join(sorted(set(fields))) + ' field' if fields else ''}, while the rest of the "
                     "page is the scan itself: text may have been typed over the original."),
            field=fields[0] if fields else None, regions=tuple(regions),
            detail={"page": pi, "chars_over_image": n_over, "invisible_chars": n_invisible, "visible_chars": n_visible,
                    "fonts": ", ".join(sorted({r.font for r in over if r.font}))[:120]},
        ))
    return out


# ------------------------------------------------------------------ rare fonts

_SUBSET = re.compile(r"^[A-Z]{6}\+")


def _base_font(name: str) -> str:
    return _SUBSET.sub("", name or "")


@register("rare_font", FAMILY)
def rare_font(inp: ForensicInput) -> list[Signal]:
    if inp.file.detected_type != "pdf":
        return []
    try:
        return _rare_font(inp)
    except Exception:  # noqa: BLE001 - damaged or encrypted: intake reports it, no signal here
        return []


def _rare_font(inp: ForensicInput) -> list[Signal]:
    import pdfplumber

    scales = _page_scales(inp)
    out: list[Signal] = []
    with pdfplumber.open(io.BytesIO(inp.data)) as pdf:
        for pi, page in enumerate(pdf.pages[:10], start=1):
            chars = [c for c in page.chars if str(c.get("text", "")).isalnum()]
            if len(chars) < 40:
                continue
            by_font: dict[str, list[dict]] = {}
            for c in chars:
                by_font.setdefault(str(c.get("fontname", "")), []).append(c)
            if len(by_font) < 2:
                continue
            total = len(chars)
            bases: dict[str, int] = {}
            for f in by_font:
                bases[_base_font(f)] = bases.get(_base_font(f), 0) + 1
            for fname, cs in by_font.items():
                n = len(cs)
                if n > 12 or n > 0.05 * total:
                    continue
                # group the rare font's characters into words/boxes
                boxes = _char_runs(cs)
                second_subset = bases.get(_base_font(fname), 0) > 1 and _SUBSET.match(fname) is not None
                digits = sum(1 for c in cs if str(c["text"]).isdigit())
                s = scales.get(pi, 1.0)
                fields = [f for b in boxes if (f := _field_of(inp, pi, b, s))]
                score = 0.4
                if digits:
                    score += 0.1
                if second_subset:
                    score += 0.15
                if fields:
                    score += 0.25
                score = min(0.95, score)
                regions = tuple(Region(page=pi, box=_scaled(b, s), note="characters in a font used nowhere else")
                                for b in boxes[:8])
                out.append(Signal(
                    detector="metadata.rare_font", family=FAMILY, score=round(score, 3), threshold=0.6,
                    message=(f"On page {pi}, {n} character(s) are set in a font used nowhere else on the page"
                             f"{' (a second copy of a font already on the page)' if second_subset else ''}"
                             f"{', in the ' + ', '.join(sorted(set(fields))) + ' field' if fields else ''}: "
                             "typical of text typed into an existing PDF."),
                    field=fields[0] if fields else None, regions=regions,
                    detail={"page": pi, "font": _base_font(fname)[:60], "chars": n, "page_chars": total,
                            "digits": digits, "second_subset": second_subset},
                ))
    out.sort(key=lambda s: -s.score)
    return out[:3]


def _char_runs(chars: list[dict]) -> list[Box]:
    """Boxes of horizontally adjacent characters on the same line."""
    cs = sorted(chars, key=lambda c: (round(float(c["top"])), float(c["x0"])))
    boxes: list[Box] = []
    for c in cs:
        b = Box(x0=float(c["x0"]), y0=float(c["top"]), x1=float(c["x1"]), y1=float(c["bottom"]))
        if boxes:
            last = boxes[-1]
            if abs(last.cy - b.cy) < 0.5 * max(1.0, b.height) and b.x0 - last.x1 < max(2.0, b.height):
                boxes[-1] = last.union(b)
                continue
        boxes.append(b)
    return boxes


__all__ = ["classify_software", "editor_software", "modified_later", "pdf_date", "pdf_revision_ends", "pdf_revisions",
           "rare_font", "text_over_image"]
