"""Property tests: the parsers return a value or None and never raise, on any string."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.amounts import find_amounts, parse_amount
from pipeline.extract.dates import find_dates, parse_date
from pipeline.extract.receipt_number import parse_receipt_number
from pipeline.extract.serial import parse_serial
from pipeline.extract.text import fold_confusions, fold_text
from pipeline.extract.vat import find_vat_numbers, parse_vat, vat_key
from pipeline.match import similarity

# receipt-like alphabet: digits, separators, letters incl. Nordic/Romanian ones, and anything else
_pieces = st.sampled_from(list("0123456789 .,-/:#RMkrDKNOSEFIRCVAMVTGæøåÆØÅäöÄÖăîșțâ")
                          + ["MVA", "CVR ", "S/N ", "Total ", "Dato ", "okt. ", "RO", "NO "])
receiptish = st.lists(_pieces, max_size=40).map("".join) | st.text(max_size=80)

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(receiptish)
def test_date_parser_total(s: str) -> None:
    v = parse_date(s)
    assert v is None or (isinstance(v, dt.date) and 2000 <= v.year <= 2035)
    for h in find_dates(s):
        assert 0 <= h.start < h.end <= len(s)


@FAST
@given(receiptish)
def test_amount_parser_total(s: str) -> None:
    v = parse_amount(s)
    assert v is None or isinstance(v, Decimal)
    for h in find_amounts(s):
        assert s[h.start:h.end].strip() == h.raw


@FAST
@given(receiptish, st.sampled_from([None, "DK", "SE", "NO", "FI", "RO"]))
def test_vat_parser_total(s: str, country: str | None) -> None:
    v = parse_vat(s, country)
    assert v is None or isinstance(v, str)
    for h in find_vat_numbers(s, country):
        assert h.checksum in ("valid", "invalid", "unchecked")
        assert h.country in ("DK", "SE", "NO", "FI", "RO", "MY")
    assert isinstance(vat_key(s), str)


@FAST
@given(receiptish, st.sampled_from([None, "[A-Z0-9]{6,12}", "[0-9]{7,8}", "((("]))
def test_serial_parser_total(s: str, pattern: str | None) -> None:
    v = parse_serial(s, pattern)
    assert v is None or (isinstance(v, str) and sum(ch.isdigit() for ch in v) >= 2)


@FAST
@given(receiptish)
def test_receipt_number_parser_total(s: str) -> None:
    v = parse_receipt_number(s)
    assert v is None or isinstance(v, str)


@FAST
@given(st.text(max_size=60))
def test_fold_text_preserves_length(s: str) -> None:
    assert len(fold_text(s)) == len(s)


@FAST
@given(st.text(max_size=40), st.text(max_size=40))
def test_similarity_bounds_and_symmetry(a: str, b: str) -> None:
    s = similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert abs(s - similarity(b, a)) < 1e-9


@FAST
@given(st.from_regex(r"[A-Z0-9]{6,12}", fullmatch=True))
def test_confusion_fold_makes_lookalikes_equal(s: str) -> None:
    garbled = s.replace("0", "O").replace("1", "I").replace("5", "S").replace("8", "B")
    assert fold_confusions(garbled) == fold_confusions(s)
    assert similarity(garbled, s) == 1.0


@FAST
@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31)),
       st.sampled_from(["%d.%m.%Y", "%d-%m-%y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y"]))
def test_date_roundtrip(d: dt.date, fmt: str) -> None:
    assert parse_date(f"Dato: {d.strftime(fmt)}") == d


@FAST
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2))
def test_amount_roundtrip_nordic_and_english(v: Decimal) -> None:
    en = f"{v:,.2f}"                                   # 1,234.50
    da = en.replace(",", " ").replace(".", ",")       # 1 234,50
    dk = en.replace(",", "X").replace(".", ",").replace("X", ".")  # 1.234,50
    for s in (en, da, dk):
        assert parse_amount(f"Total {s}") == v, s
