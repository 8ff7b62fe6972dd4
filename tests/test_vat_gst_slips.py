"""Malaysian GST numbers read with OCR slips, on small synthetic lines: G read for
6 in the number, and digits read in the label's words ("6ST REG N0:", "RE6", "1D")."""

from __future__ import annotations

import pytest

from pipeline.extract.vat import find_vat_numbers


@pytest.mark.parametrize("text, value", [
    ("GST NO: 001229G19200", "001229619200"),        # G for 6 in the number
    ("GST ID : 00075OG7392O", "000750673920"),
    ("6ST REG N0: 00013G577024", "000136577024"),    # and a 0 for O in "NO"
    ("GST RE6 NO: 000203587584", "000203587584"),    # 6 for G in "REG"
    ("(6ST 1D NO :O0O306020352)", "000306020352"),   # 1 for I in "ID"
    ("GST REG NO: 001335787520", "001335787520"),    # clean, unchanged
])
def test_gst_number_read_with_slips(text: str, value: str) -> None:
    hits = find_vat_numbers(text)
    assert [(h.value, h.kind) for h in hits] == [(value, "gst")]


@pytest.mark.parametrize("text", [
    "GST ID: GGGG12345678",     # too few real digits
    "GST 6% 12.34 0.74",
    "TEL N0: 03-12345678",      # a phone number, no GST label
    "RE6 NO: 000203587584",     # a register number without a GST label
])
def test_slip_repairs_need_a_gst_label_and_real_digits(text: str) -> None:
    assert [h for h in find_vat_numbers(text) if h.kind == "gst"] == []
