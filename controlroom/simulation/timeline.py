"""Faults in force on a cohort of walks: what each tick's readings are, and which are taken.

A gateway's cohort whose sensors have no fault never builds one of these (its tick is what it
always was); one with faults pays a few NumPy operations per fault per tick, whatever the
number of sensors. The meaning of each fault is `controlroom.simulation.faults`'.

Seqs: a sensor in a dropout takes no reading, so it uses up no seq; each sensor counts its own
readings here, and a frame then carries per-sensor seqs instead of the cohort's shared one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from controlroom.plant.readings import Layout
from controlroom.simulation.faults import Fault, Kind
from controlroom.simulation.walks import RandomWalks

Floats = npt.NDArray[np.float64]
Indexes = npt.NDArray[np.intp]


@dataclass(slots=True)
class _Placed:
    """A fault and the positions (in the cohort) of the sensors it is for."""

    fault: Fault
    names: list[str]
    where: Indexes = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    # spike: which of its sensors still wait for their offset reading
    pending: npt.NDArray[np.bool_] | None = None
    # stuck: the values frozen at its first tick
    frozen: Floats | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick's outcome: the layout of the readings taken, their seqs and their values."""

    layout: Layout
    seqs: list[int]
    values: list[float]


class FaultTimeline:
    """The faults of one cohort's sensors, applied tick by tick from an origin (seconds)."""

    def __init__(
        self,
        names: Sequence[str],
        faults: Sequence[Fault],
        walks: RandomWalks,
        epoch: float | None = None,
    ) -> None:
        """`epoch`: the Unix time the faults' times count from; None: the first tick."""
        self._walks = walks
        self._epoch = epoch
        self._origin: float | None = None
        # In time order, a stuck after the offsets: an earlier stuck's value is what a later
        # one freezes, and a drift or spike under a stuck changes nothing.
        # One fault given to many sensors (a gateway's `--fault` without a name) is placed
        # once, over all of them: a tick's work grows with the faults, not the sensors.
        sensors_of: dict[Fault, list[str]] = {}
        for fault in faults:
            sensors_of.setdefault(fault.for_sensor(None), []).extend(
                names if fault.sensor is None else [fault.sensor]
            )
        ordered = sorted(sensors_of, key=lambda fault: (fault.kind is Kind.STUCK, fault.at_s))
        self._placed = [_Placed(fault, list(dict.fromkeys(sensors_of[fault]))) for fault in ordered]
        self._names: list[str] = []
        self._taken = np.zeros(0, dtype=np.int64)
        self._layouts: dict[bytes, Layout] = {}
        self._factors: Floats | None = None
        self._place(list(names), np.zeros(len(names), dtype=np.int64))

    def _place(self, names: list[str], taken: npt.NDArray[np.int64]) -> None:
        position = {name: index for index, name in enumerate(names)}
        self._names, self._taken = names, taken
        self._layouts.clear()
        for placed in self._placed:
            kept = [i for i, name in enumerate(placed.names) if name in position]
            placed.names = [placed.names[i] for i in kept]
            placed.where = np.array([position[n] for n in placed.names], dtype=np.intp)
            if placed.fault.kind is Kind.SPIKE:
                placed.pending = (
                    np.ones(len(kept), dtype=np.bool_)
                    if placed.pending is None
                    else placed.pending[kept]
                )
            if placed.frozen is not None:
                placed.frozen = placed.frozen[kept]

    def remove(self, name: str) -> None:
        """A sensor stopped: the faults of the others go on."""
        index = self._names.index(name)
        names = self._names[:index] + self._names[index + 1 :]
        self._place(names, np.delete(self._taken, index))
        self._factors = None
        self._walks.scale_steps(None)

    def elapsed(self, now: float) -> float:
        """Seconds on the faults' clock at the loop's time `now`."""
        if self._origin is None:
            late = 0.0 if self._epoch is None else time.time() - self._epoch
            self._origin = now - late
        return now - self._origin

    def tick(self, layout: Layout, elapsed_s: float) -> Tick | None:
        """The readings of the tick at `elapsed_s` (None if every sensor is in a dropout)."""
        active = [
            p
            for p in self._placed
            if (
                _spike_due(p, elapsed_s)
                if p.fault.kind is Kind.SPIKE
                else p.fault.active(elapsed_s)
            )
        ]
        self._set_noise([p for p in active if p.fault.kind is Kind.NOISE])
        values = self._walks.step()
        offsets = [p for p in active if p.fault.kind in (Kind.SPIKE, Kind.DRIFT, Kind.STUCK)]
        present: npt.NDArray[np.bool_] | None = None
        for placed in active:
            if placed.fault.kind is Kind.DROPOUT:
                if present is None:
                    present = np.ones(len(self._names), dtype=np.bool_)
                present[placed.where] = False
        if offsets:
            values = values.copy()
            for placed in offsets:
                self._apply(placed, values, elapsed_s, present)
        if present is None:
            self._taken += 1
            return Tick(layout, self._taken.tolist(), values.tolist())
        if not present.any():
            return None
        self._taken[present] += 1
        return Tick(
            self._layout_of(layout, present),
            self._taken[present].tolist(),
            values[present].tolist(),
        )

    def _apply(
        self,
        placed: _Placed,
        values: Floats,
        elapsed_s: float,
        present: npt.NDArray[np.bool_] | None,
    ) -> None:
        fault, where = placed.fault, placed.where
        if fault.kind is Kind.DRIFT:
            values[where] += fault.amount * (elapsed_s - fault.at_s)
        elif fault.kind is Kind.SPIKE:
            assert placed.pending is not None
            due = placed.pending if present is None else placed.pending & present[where]
            values[where[due]] += fault.amount
            placed.pending = placed.pending & ~due
        else:  # stuck: frozen at its first tick, the earliest stuck winning
            if placed.frozen is None:
                placed.frozen = values[where].copy()
            values[where] = placed.frozen

    def _set_noise(self, noisy: list[_Placed]) -> None:
        if not noisy and self._factors is None:
            return
        factors = np.ones(len(self._names))
        for placed in noisy:
            factors[placed.where] *= placed.fault.amount
        if self._factors is not None and np.array_equal(factors, self._factors):
            return
        self._factors = factors if noisy else None
        self._walks.scale_steps(self._factors)

    def _layout_of(self, full: Layout, present: npt.NDArray[np.bool_]) -> Layout:
        """One layout per set of sensors present, made once: downstream hops recognise it."""
        key = present.tobytes()
        layout = self._layouts.get(key)
        if layout is None:
            if len(self._layouts) > 64:
                self._layouts.clear()
            layout = self._layouts[key] = Layout(
                [name for name, here in zip(full.names, present, strict=True) if here]
            )
        return layout


def _spike_due(placed: _Placed, elapsed_s: float) -> bool:
    """A spike waits from its time until each of its sensors has taken its reading."""
    pending = placed.pending
    return (
        placed.fault.kind is Kind.SPIKE
        and elapsed_s >= placed.fault.at_s
        and pending is not None
        and bool(pending.any())
    )
