"""Readings seen before (a redelivery, a retried publish) are dropped before analysis.

Storage is idempotent anyway; this keeps alarms, liveness and viewers seeing each sensor's
readings once and in order.
"""

from __future__ import annotations

from controlroom.messages import Frame


class SequenceFilter:
    def __init__(self) -> None:
        self._last: dict[str, tuple[str, int]] = {}

    def fresh(self, frame: Frame) -> Frame:
        """The readings of `frame` this coordinator has not seen, in their order."""
        last = self._last
        run = frame.run
        keep: list[int] | None = None
        for index, (name, seq) in enumerate(zip(frame.names, frame.seqs, strict=True)):
            previous = last.get(name)
            if previous is not None and previous[0] == run and seq <= previous[1]:
                if keep is None:
                    keep = list(range(index))
                continue
            last[name] = (run, seq)
            if keep is not None:
                keep.append(index)
        if keep is None:
            return frame
        return Frame(
            frame.source,
            run,
            [frame.names[i] for i in keep],
            [frame.seqs[i] for i in keep],
            [frame.taken_on[i] for i in keep],
            [frame.values[i] for i in keep],
        )
