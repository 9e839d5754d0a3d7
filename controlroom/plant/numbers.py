"""How a number reads to an operator: the one rule the control room and the browser page share.

Five significant digits, so 0.0015126 MPa and 603.21 C both read well. The shape is that of
printf's `%.5g` (fixed notation for exponents -4 to 4, otherwise `1.2346e+05`; trailing zeros
dropped), rounded from the float's exact value with ties away from zero, because that is what
JavaScript's `toExponential` does: `workers/bridge/web/numbers.js` implements the same rule,
and `tests/bridge/test_numbers.py` holds the two to it in a real browser.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

SIGNIFICANT_DIGITS = 5
MISSING = "—"  # no value (yet), or one that is not a finite number
# Exponents shown in fixed notation; the rest are scientific (as %g decides).
FIXED_FROM = -4

_ROUNDING = Context(prec=SIGNIFICANT_DIGITS, rounding=ROUND_HALF_UP)


def format_number(value: float | None) -> str:
    """`value` to SIGNIFICANT_DIGITS significant digits, or MISSING."""
    if value is None or not math.isfinite(value):
        return MISSING
    if value == 0:
        return "0"  # -0.0 too: a minus sign on nothing only misleads
    # %g rounds an exact tie to even; anywhere else it is this rule, and ten times cheaper
    # than Decimal. A tie shows as a 5 in the sixth digit of the float correctly rounded to six.
    if f"{value:.{SIGNIFICANT_DIGITS}e}".lstrip("-")[SIGNIFICANT_DIGITS + 1] != "5":
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return _from_exact(value)


def _from_exact(value: float) -> str:
    """The rule itself: Decimal(value) is the float's exact value, rounded once."""
    rounded = _ROUNDING.plus(Decimal(value))
    sign = "-" if rounded < 0 else ""
    _, digit_tuple, _ = rounded.as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent = rounded.adjusted()
    if FIXED_FROM <= exponent < SIGNIFICANT_DIGITS:
        if exponent < 0:
            return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
        whole = digits[: exponent + 1].ljust(exponent + 1, "0")
        fraction = digits[exponent + 1 :]
        return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"
    mantissa = f"{digits[0]}.{digits[1:]}" if len(digits) > 1 else digits
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
