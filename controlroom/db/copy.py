"""Readings in PostgreSQL's binary COPY format, built a column at a time.

asyncpg's `copy_records_to_table` encodes row by row, about 0.6 us of CPU per reading, which
was most of the datamanager's work. Every row here has the same width, so the rows are one
NumPy array of fixed-width records and a frame's columns go in with C loops: tens of
nanoseconds a reading. A column whose readings share one value (a tick's seq and time) is one
broadcast.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controlroom.plant.readings import Frame, shared_value

COLUMNS = ("sensor_id", "taken_on", "value", "run_id", "seq")
# Signature, flags (none) and the length of the header extension (none); the trailer is a
# row of -1 fields.
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_TRAILER = b"\xff\xff"
# PostgreSQL's binary timestamptz is microseconds since 2000-01-01; readings carry them since 1970.
_EPOCH_2000_US = 946_684_800_000_000

# One row: the number of fields, then each field's size in bytes and its value, big-endian.
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("sensor_id_size", ">i4"),
        ("sensor_id", ">i4"),
        ("taken_on_size", ">i4"),
        ("taken_on", ">i8"),
        ("value_size", ">i4"),
        ("value", ">f8"),
        ("run_id_size", ">i4"),
        ("run_id", ">i4"),
        ("seq_size", ">i4"),
        ("seq", ">i8"),
    ]
)
_SIZES = {
    "fields": len(COLUMNS),
    "sensor_id_size": 4,
    "taken_on_size": 8,
    "value_size": 8,
    "run_id_size": 4,
    "seq_size": 8,
}


class ReadingRows:
    """The rows of one COPY into sensor_reading (or a table with its columns)."""

    def __init__(self, capacity: int) -> None:
        self._rows = np.empty(capacity, _ROW)
        for field, size in _SIZES.items():
            self._rows[field] = size
        self.count = 0

    def add(self, frame: Frame, sensor_ids: npt.NDArray[np.int32], run_id: int) -> None:
        """The frame's readings; `sensor_ids` are its sensors' ids, in the frame's order."""
        rows = self._rows[self.count : self.count + len(frame)]
        rows["sensor_id"] = sensor_ids
        rows["taken_on"] = _shared_or_array(frame.taken_on) - _EPOCH_2000_US
        rows["value"] = frame.values
        rows["run_id"] = run_id
        rows["seq"] = _shared_or_array(frame.seqs)
        self.count += len(frame)

    def taken_on(self) -> npt.NDArray[np.int64]:
        """The rows' times, microseconds since 2000-01-01 (as PostgreSQL counts them)."""
        return self._rows["taken_on"][: self.count].astype(np.int64)

    def payload(self) -> bytes:
        return _HEADER + self._rows[: self.count].tobytes() + _TRAILER


def _shared_or_array(column: list[int]) -> int | npt.NDArray[np.int64]:
    """The one value every reading shares (a broadcast), or the column as an array."""
    shared = shared_value(column)
    return np.array(column, dtype=np.int64) if shared is None else shared
