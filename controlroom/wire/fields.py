"""What a valid field of any message is: the types the schema is written in, and the checks
the schema library cannot express (a name's characters, a time no later than now).

msgspec checks the declared constraints in C while it decodes; the checks here run from a
struct's `__post_init__`, once per field, never once per reading of a frame (a frame's names
are checked once per layout, see `controlroom.wire.frames`).
"""

from __future__ import annotations

import sys
import unicodedata
from typing import Annotated

import msgspec

from controlroom.clock import now_us
from controlroom.errors import InvalidMessage

MAX_NAME_LENGTH = 64
# Queue names and routing keys are at most 255 bytes; a name must leave room for the prefixes.
MAX_NAME_BYTES = 180
MAX_TEXT_LENGTH = 256
# Readings older than this or further ahead than the allowed clock skew are refused: they come
# from a broken clock, and would poison history queries and down-sampling.
EARLIEST_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z
MAX_CLOCK_SKEW_US = 5 * 60 * 1_000_000

Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_LENGTH)]
# A run or alarm id: 1-64 characters (printability is checked by `check_id`).
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# JSON has no NaN or infinity, but 1e999 parses as infinity: the bounds refuse it.
Finite = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]
Positive = Annotated[float, msgspec.Meta(gt=0, le=sys.float_info.max)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Seq = Annotated[int, msgspec.Meta(ge=1)]
Micros = Annotated[int, msgspec.Meta(ge=EARLIEST_US)]


def check_sensor_name(name: object) -> str:
    """A sensor name is any printable text of 1-64 characters; it is data, never markup.

    Raises InvalidMessage (a ValueError, which msgspec reports as a validation error)."""
    if not isinstance(name, str):
        raise InvalidMessage(f"sensor name must be text, not {type(name).__name__}")
    if not name or not name.strip():
        raise InvalidMessage("sensor name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidMessage(f"sensor name is longer than {MAX_NAME_LENGTH} characters")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidMessage(f"sensor name is longer than {MAX_NAME_BYTES} bytes of UTF-8")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in name):
        raise InvalidMessage(f"sensor name {name!r} contains control characters")
    return name


def check_id(value: str, what: str = "id") -> str:
    if not value.isprintable():
        raise InvalidMessage(f"{what} must be printable characters")
    return value


def latest_allowed_us() -> int:
    """The latest time a message may carry: now, plus the clock skew we tolerate."""
    return now_us() + MAX_CLOCK_SKEW_US


def check_time(value: int | None, what: str) -> None:
    """A time no later than now (plus skew); the earliest bound is `Micros`'s."""
    if value is not None and value > latest_allowed_us():
        raise InvalidMessage(f"{what} must be microseconds between 2000 and now")
