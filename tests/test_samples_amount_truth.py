"""The generator's truth for an edited amount: the layout's decimal mark decides, not the language."""

from __future__ import annotations

import pytest

from pipeline.samples.generator import _amount_parser


@pytest.mark.parametrize(("lang", "text", "value"), [
    ("ro", "15749.94", "15749.94"),      # bon fiscal: dot decimal, no grouping
    ("ro", "15.749,94", "15749.94"),     # invoice: dot groups, comma decimal
    ("da", "9.097,00", "9097.00"),
    ("da", "1 819,40", "1819.40"),
    ("en", "1,574.98", "1574.98"),
    ("nb", "12 990", "12990.00"),        # no decimals printed
    ("da", "1.299", "1299.00"),          # a grouped whole amount
])
def test_edited_amount_truth(lang: str, text: str, value: str) -> None:
    assert _amount_parser(lang)(text) == value


def test_unparseable_amount_is_refused() -> None:
    assert _amount_parser("da")("12a,00") is None
