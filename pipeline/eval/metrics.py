"""Pure scoring functions of `claimcheck eval`: normalisation of expected and
extracted values, and the numbers computed from scored fields.

Every scored field of every document is one `FieldRecord` with an outcome:

    tp     expected present, got present, equal after normalisation (right)
    wrong  expected present, got present, different                 (wrong)
    fn     expected present, nothing extracted                       (wrong)
    fp     expected absent, something extracted                      (wrong)
    tn     expected absent, nothing extracted                        (right)
    error  the document could not be processed                       (wrong)

No I/O here, so every number can be tested on hand-made records.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

OUTCOMES = ("tp", "wrong", "fn", "fp", "tn", "error")
RIGHT = frozenset({"tp", "tn"})

# confidence bands (lower bound inclusive, upper exclusive; the last one includes 1.0)
BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.0))
SWEEP_CUTOFFS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.5 ... 0.95
TARGET = 0.99


# --------------------------------------------------------------------------- normalisation

def norm_date(s: object) -> dt.date | None:
    """A calendar date from an ISO string, a date, or a printed day-first date ("30 DEC 17")."""
    if s is None:
        return None
    if isinstance(s, dt.datetime):
        return s.date()
    if isinstance(s, dt.date):
        return s
    text = str(s).strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    m = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})", text)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + 2000 if y < 100 else y
        try:
            return dt.date(y, mo, d)
        except ValueError:
            return None
    try:
        import dateparser
    except ImportError:  # pragma: no cover - dateparser comes with prefect
        return None
    parsed = dateparser.parse(text, settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"})
    return parsed.date() if parsed else None


def norm_amount(s: object) -> Decimal | None:
    """A number from "9447.00", "9.447,00", "RM 15.90", "1,234.50", "15,90 lei"."""
    if s is None:
        return None
    if isinstance(s, (int, float, Decimal)) and not isinstance(s, bool):
        return Decimal(str(s))
    text = re.sub(r"[^\d.,\-]", "", str(s))
    text = text.strip(".,-") if not text.startswith("-") else "-" + text[1:].strip(".,")
    if not re.search(r"\d", text):
        return None
    if "," in text and "." in text:
        dec = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if dec == "," else ",", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".") if re.search(r",\d{1,2}$", text) and text.count(",") == 1 else text.replace(",", "")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def norm_vat(s: object) -> str | None:
    """The digits of a VAT / organisation / GST number ("DK12972997", "NO 987 654 321 MVA" -> digits)."""
    if s is None:
        return None
    digits = re.sub(r"\D", "", str(s))
    return digits or None


def norm_serial(s: object) -> str | None:
    """Upper-case alphanumerics only ("ab-12 34" -> "AB1234")."""
    if s is None:
        return None
    out = re.sub(r"[^A-Z0-9]", "", str(s).upper())
    return out or None


def norm_text(s: object) -> str | None:
    """Accent-free upper case with single spaces (company names, document kinds, currencies)."""
    if s is None:
        return None
    text = unicodedata.normalize("NFKD", str(s))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"[^A-Z0-9&]+", " ", text).strip()
    return text or None


NORMALISERS: dict[str, Callable[[object], object]] = {
    "date": norm_date, "amount": norm_amount, "vat": norm_vat, "serial": norm_serial, "text": norm_text,
}


def same(kind: str, expected: object, got: object) -> bool:
    """Equal after the normalisation of `kind` (date, amount, vat, serial, text)."""
    f = NORMALISERS[kind]
    a, b = f(expected), f(got)
    return a is not None and b is not None and a == b


# --------------------------------------------------------------------------- records

@dataclass(frozen=True)
class FieldRecord:
    doc: str
    field: str
    outcome: str  # one of OUTCOMES
    expected: str | None = None
    got: str | None = None
    confidence: float | None = None
    note: str = ""

    @property
    def right(self) -> bool:
        return self.outcome in RIGHT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def outcome(expected_present: bool, got_present: bool, equal: bool) -> str:
    if expected_present and got_present:
        return "tp" if equal else "wrong"
    if expected_present:
        return "fn"
    return "fp" if got_present else "tn"


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def field_stats(records: Iterable[FieldRecord]) -> dict[str, Any]:
    """Counts, accuracy (right / all), precision (right among extracted) and
    recall (right among expected present) of one field's records."""
    c = {k: 0 for k in OUTCOMES}
    error_expected = 0  # unreadable documents whose truth has the field: they count against recall
    for r in records:
        c[r.outcome] += 1
        error_expected += r.outcome == "error" and r.expected is not None
    n = sum(c.values())
    extracted = c["tp"] + c["wrong"] + c["fp"]
    present = c["tp"] + c["wrong"] + c["fn"] + error_expected
    return {"n": n, **c, "accuracy": _ratio(c["tp"] + c["tn"], n), "precision": _ratio(c["tp"], extracted),
            "recall": _ratio(c["tp"], present), "found_rate": _ratio(extracted, n)}


def per_field(records: Iterable[FieldRecord], fields: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    by: dict[str, list[FieldRecord]] = {}
    for r in records:
        by.setdefault(r.field, []).append(r)
    names = list(fields) if fields is not None else sorted(by)
    return {f: field_stats(by.get(f, [])) for f in names}


def band_of(conf: float, bands: Sequence[tuple[float, float]] = BANDS) -> int | None:
    for i, (lo, hi) in enumerate(bands):
        last = i == len(bands) - 1
        if lo <= conf < hi or (last and lo <= conf <= hi):
            return i
    return None


def calibration(records: Iterable[FieldRecord], bands: Sequence[tuple[float, float]] = BANDS) -> list[dict[str, Any]]:
    """Accuracy of the extracted values (records with a confidence) per confidence band."""
    counts = [[0, 0, 0.0] for _ in bands]  # n, right, sum of confidences
    for r in records:
        if r.confidence is None or r.outcome not in ("tp", "wrong", "fp"):
            continue
        i = band_of(r.confidence, bands)
        if i is None:
            continue
        counts[i][0] += 1
        counts[i][1] += r.outcome == "tp"
        counts[i][2] += r.confidence
    return [{"band": f"{lo:g}-{hi:g}", "lo": lo, "hi": hi, "n": n, "right": k, "accuracy": _ratio(k, n),
             "mean_confidence": round(s / n, 4) if n else None} for (lo, hi), (n, k, s) in zip(bands, counts, strict=True)]


def auto_threshold(records: Iterable[FieldRecord], target: float = TARGET) -> dict[str, Any]:
    """The lowest confidence t such that the extracted values with confidence >= t
    are at least `target` right; coverage is the share of extracted values kept.
    `threshold` is None when no t reaches the target."""
    scored = sorted((r.confidence, r.outcome == "tp") for r in records
                    if r.confidence is not None and r.outcome in ("tp", "wrong", "fp"))
    total = len(scored)
    best: dict[str, Any] = {"threshold": None, "precision": None, "kept": 0, "coverage": 0.0, "extracted": total,
                            "target": target}
    if not total:
        return best
    right_from = [0] * (total + 1)  # right answers among scored[i:]
    for i in range(total - 1, -1, -1):
        right_from[i] = right_from[i + 1] + scored[i][1]
    i = 0
    while i < total:
        t = scored[i][0]
        kept = total - i
        prec = right_from[i] / kept
        if prec >= target:
            return {**best, "threshold": round(t, 4), "precision": round(prec, 4), "kept": kept,
                    "coverage": round(kept / total, 4)}
        while i < total and scored[i][0] == t:
            i += 1
    return best


def at_threshold(records: Iterable[FieldRecord], threshold: float) -> dict[str, Any]:
    """The extracted values the pipeline would act on alone (confidence >= `threshold`,
    the settings' accept_confidence): how many, and how many of them are right."""
    kept = [r.outcome == "tp" for r in records
            if r.confidence is not None and r.outcome in ("tp", "wrong", "fp") and r.confidence >= threshold - 1e-12]
    return {"threshold": threshold, "kept": len(kept), "right": sum(kept), "precision": _ratio(sum(kept), len(kept))}


def confusion(pairs: Iterable[tuple[str, str]], labels: Sequence[str]) -> dict[str, Any]:
    """Expected status (rows) x verdict status (columns); labels not listed go to "other"."""
    labels = list(labels)
    cols = labels + ["other"]
    matrix = {e: {g: 0 for g in cols} for e in labels + ["other"]}
    n = agree = 0
    for expected, got in pairs:
        e = expected if expected in labels else "other"
        g = got if got in labels else "other"
        matrix[e][g] += 1
        n += 1
        agree += expected == got
    matrix = {e: row for e, row in matrix.items() if e != "other" or any(row.values())}
    return {"labels": cols, "matrix": matrix, "n": n, "agreement": _ratio(agree, n)}


def sweep(scores: Iterable[tuple[float | None, bool]], cutoffs: Sequence[float] = SWEEP_CUTOFFS,
          target: float = TARGET) -> dict[str, Any]:
    """For each cut-off: accept the documents with score >= cut-off; precision =
    right among accepted, coverage = accepted / all documents. The recommended
    cut-off is the lowest with precision >= target (None if there is none)."""
    items = list(scores)
    n = len(items)
    rows = []
    for c in cutoffs:
        acc = [ok for s, ok in items if s is not None and s >= c - 1e-12]
        rows.append({"cutoff": c, "accepted": len(acc), "right": sum(acc), "precision": _ratio(sum(acc), len(acc)),
                     "coverage": _ratio(len(acc), n)})
    rec = next((r["cutoff"] for r in rows if r["accepted"] and r["precision"] is not None
                and r["precision"] >= target), None)
    return {"n": n, "rows": rows, "recommended": rec, "target": target}


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated quantile (q in 0..1), None for no values."""
    v = sorted(values)
    if not v:
        return None
    pos = (len(v) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def timing_stats(timings: Iterable[dict[str, float]]) -> dict[str, dict[str, float | int | None]]:
    """Median and p90 seconds per stage over documents (stages in first-seen order)."""
    by: dict[str, list[float]] = {}
    for t in timings:
        for k, v in t.items():
            if isinstance(v, (int, float)):
                by.setdefault(k, []).append(float(v))
    return {k: {"n": len(v), "median": round(statistics.median(v), 4), "p90": round(quantile(v, 0.9) or 0.0, 4),
                "total": round(sum(v), 3)} for k, v in by.items()}


def breakdown(records: Iterable[FieldRecord], groups: dict[str, dict[str, list[str]]],
              fields: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-field accuracy per group value. groups: dimension -> doc -> values
    (a document can be in several groups of one dimension, e.g. degradations)."""
    recs = list(records)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for dim, doc_values in groups.items():
        buckets: dict[str, list[FieldRecord]] = {}
        for r in recs:
            for v in doc_values.get(r.doc, []):
                buckets.setdefault(v, []).append(r)
        out[dim] = {}
        for v in sorted(buckets):
            docs = {r.doc for r in buckets[v]}
            stats = per_field(buckets[v], fields)
            out[dim][v] = {"documents": len(docs),
                           "fields": {f: {"n": s["n"], "accuracy": s["accuracy"]} for f, s in stats.items()}}
    return out
