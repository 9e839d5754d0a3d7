"""Bytes to messages and back: one decoder per consumer, one encoder for all.

A `Decoder` owns the layouts it has checked (see `frames.LayoutBook`), so decoding is
stateful per decoder and nowhere else: two consumers in one process never share a cache.
`decode` turns bytes into one of the message types or raises `InvalidMessage` with a one-line
reason; nothing else escapes it.
"""

from __future__ import annotations

from typing import Final, TypeAlias, TypeVar, get_args

import msgspec

from controlroom.errors import InvalidMessage
from controlroom.plant.readings import Frame
from controlroom.wire.envelopes import (
    AckRequest,
    AlarmEvent,
    Announce,
    CommentRequest,
    Discover,
    Goodbye,
    HoldEvent,
    HoldRequest,
    LimitsChange,
    LimitsRequest,
    PersistBatch,
    PersistMessage,
    Presence,
    Snapshot,
    SnapshotRequest,
    SourceState,
    SourceStates,
    StatusChange,
    StatusChanges,
    Stop,
    TwinWarning,
)
from controlroom.wire.frames import FrameMessage, LayoutBook, frame_from_message

CONTENT_TYPE: Final = "application/json"
MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024

# The messages that travel as they are. A frame and a persist batch have a wire form of their
# own (columns with shared values, frames embedded as raw JSON): the one list, two unions.
_Envelope: TypeAlias = (
    Announce
    | Goodbye
    | Discover
    | Stop
    | SnapshotRequest
    | AckRequest
    | CommentRequest
    | HoldRequest
    | LimitsRequest
    | LimitsChange
    | HoldEvent
    | SourceState
    | StatusChange
    | SourceStates
    | StatusChanges
    | AlarmEvent
    | TwinWarning
    | Snapshot
    | Presence
)
Message: TypeAlias = Frame | _Envelope | PersistBatch
_WireMessage: TypeAlias = FrameMessage | _Envelope | PersistMessage

# Every message's `type` tag, as it travels.
MESSAGE_TYPES: Final = tuple(str(struct.__struct_config__.tag) for struct in get_args(_WireMessage))

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


class Decoder:
    """Decodes one consumer's messages; keeps the layouts of the frames it has seen."""

    def __init__(self) -> None:
        self._layouts = LayoutBook()
        self._messages = msgspec.json.Decoder(_WireMessage)
        self._frames = msgspec.json.Decoder(FrameMessage)

    def decode(self, body: bytes) -> Message:
        """Bytes from the broker to a validated message, or InvalidMessage saying why."""
        if len(body) > MAX_MESSAGE_BYTES:
            raise InvalidMessage(
                f"message of {len(body)} bytes exceeds the {MAX_MESSAGE_BYTES} limit"
            )
        wire = _parsed(self._messages, body)
        if isinstance(wire, FrameMessage):
            return frame_from_message(wire, self._layouts, body)
        if isinstance(wire, PersistMessage):
            return self._persist_batch(wire)
        return wire

    def decode_as(self, body: bytes, expected: type[T]) -> T:
        """Decode and insist on one type: a queue carries one kind of message."""
        message = self.decode(body)
        if not isinstance(message, expected):
            raise InvalidMessage(f"expected {expected.__name__}, got {type(message).__name__}")
        return message

    def _persist_batch(self, wire: PersistMessage) -> PersistBatch:
        frames = []
        for raw in wire.frames:
            message = _parsed(self._frames, raw)
            frames.append(frame_from_message(message, self._layouts, None))
        return PersistBatch(
            frames, wire.sensors, wire.runs, wire.alarms, wire.actions, wire.holds, wire.limits
        )


def encode(message: Message) -> bytes:
    """A message's body; a frame decoded from a body and sent on unchanged is that body."""
    if isinstance(message, Frame):
        return message.encoded or _encoder.encode(FrameMessage.of(message))
    if isinstance(message, PersistBatch):
        return _encoder.encode(
            PersistMessage(
                [msgspec.Raw(encode(frame)) for frame in message.frames],
                message.sensors,
                message.runs,
                message.alarms,
                message.actions,
                message.holds,
                message.limits,
            )
        )
    return _encoder.encode(message)


def _parsed(decoder: msgspec.json.Decoder[T], body: bytes | msgspec.Raw) -> T:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:  # a subclass of DecodeError: first
        raise InvalidMessage(_validation_reason(str(error))) from None
    except msgspec.DecodeError as error:
        raise InvalidMessage(f"not JSON: {error}") from None


def _validation_reason(text: str) -> str:
    """msgspec's reason, in this project's words where the bare words would puzzle."""
    reason, _, where = text.partition(" - at ")
    if where == "`$.type`" or reason == "Object missing required field `type`":
        value = reason.removeprefix("Invalid value ")
        if value == reason:
            return "unknown message type"
        # msgspec quotes the value as it came: control characters would break the line.
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value[:40])
        return f"unknown message type {shown}"
    if not where and reason.startswith("Expected `object`"):
        return "message is not a JSON object"
    return f"{reason} at {where.strip('`')}" if where else reason
