// How a number reads to an operator: the same rule as the control room's
// (controlroom/plant/numbers.py), so the page and the TUI show the same digits.
// Five significant digits in the shape of printf's %.5g (fixed notation for exponents -4 to 4,
// otherwise 1.2346e+05; trailing zeros dropped), rounded from the float's exact value with ties
// away from zero, which is what toExponential does. tests/bridge/test_numbers.py holds the two
// to it in a real browser.
"use strict";

(() => {
  const SIGNIFICANT_DIGITS = 5;
  const MISSING = "—"; // no value (yet), or one that is not a finite number
  const FIXED_FROM = -4; // exponents from here to SIGNIFICANT_DIGITS - 1 are shown fixed

  function formatNumber(value) {
    if (typeof value !== "number" || !Number.isFinite(value)) return MISSING;
    if (value === 0) return "0"; // -0 too: a minus sign on nothing only misleads
    const sign = value < 0 ? "-" : "";
    // "d.dddde±x": the exact value rounded once, to SIGNIFICANT_DIGITS digits.
    const [mantissa, power] = Math.abs(value).toExponential(SIGNIFICANT_DIGITS - 1).split("e");
    const exponent = Number(power);
    const digits = mantissa.replace(".", "").replace(/0+$/, "");
    if (exponent >= FIXED_FROM && exponent < SIGNIFICANT_DIGITS) {
      if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
      const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
      const fraction = digits.slice(exponent + 1);
      return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
    }
    const shown = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${shown}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }

  window.controlroomNumbers = Object.freeze({ formatNumber, MISSING, SIGNIFICANT_DIGITS });
})();
