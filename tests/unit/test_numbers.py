"""The number format operators read (TUI and page): its shape, its rounding, and that it keeps
the precision a safe range needs. The page's JavaScript is held to it in tests/bridge."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.plant.numbers import MISSING, SIGNIFICANT_DIGITS, _from_exact, format_number

# Values an operator meets, and the edges of the rule; the browser test uses the same list.
CASES: list[tuple[float, str]] = [
    (0.0015126, "0.0015126"),  # condensor_pressure_out in MPa: the page showed "0.001"
    (8e-4, "0.0008"),
    (0.002, "0.002"),
    (603.2149, "603.21"),
    (15.08, "15.08"),
    (0.0, "0"),
    (-0.0, "0"),
    (-3.5, "-3.5"),
    (-0.00012345, "-0.00012345"),
    (1e6, "1e+06"),
    (-1e6, "-1e+06"),
    (123456.789, "1.2346e+05"),
    (99999.4, "99999"),
    (99999.5, "1e+05"),  # rounding carries into the next exponent, which picks the notation
    (1e-4, "0.0001"),
    (9.99996e-5, "0.0001"),
    (9.9999e-5, "9.9999e-05"),
    (1e-9, "1e-09"),
    (1.5e300, "1.5e+300"),
    (5e-324, "4.9407e-324"),
    (1.7976931348623157e308, "1.7977e+308"),
    # Exact ties go away from zero (as JavaScript's toExponential does), not to even.
    (12344.5, "12345"),
    (12345.5, "12346"),
    (1234.25, "1234.3"),
    (1.03125, "1.0313"),
    (-1.03125, "-1.0313"),
]


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_numbers_read_well(value: float, shown: str) -> None:
    assert format_number(value) == shown


def test_no_number_is_missing() -> None:
    assert format_number(None) == MISSING
    assert format_number(math.nan) == MISSING
    assert format_number(math.inf) == MISSING
    assert format_number(-math.inf) == MISSING


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(finite)
def test_the_shown_number_is_the_value_to_five_digits(value: float) -> None:
    shown = format_number(value)
    exact = Decimal(value)  # not float(shown): near the largest float, that overflows
    assert abs(Decimal(shown) - exact) <= abs(exact).scaleb(1 - SIGNIFICANT_DIGITS) / 2
    digits = shown.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    assert len(digits) <= SIGNIFICANT_DIGITS
    assert not shown.split("e")[0].endswith(".")


@given(finite)
def test_it_is_printfs_g_except_that_ties_go_away_from_zero(value: float) -> None:
    """%.5g rounds an exact tie to even; that is the only place the two may differ."""
    shown, printf = format_number(value), f"{value:.{SIGNIFICANT_DIGITS}g}"
    if printf in ("0", "-0"):
        assert shown == "0"
    elif shown != printf:
        exact = Decimal(value)
        tie = abs(exact.scaleb(SIGNIFICANT_DIGITS - 1 - exact.adjusted())) % 1
        assert tie == Decimal("0.5")


@given(finite.filter(lambda value: value != 0))
def test_the_fast_path_is_the_rule(value: float) -> None:
    """format_number takes %g where no tie is possible; the exact rule must say the same."""
    assert format_number(value) == _from_exact(value)
