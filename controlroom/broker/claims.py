"""Names a running process holds: a sensor's name, and a gateway's source, claimed on the broker.

A process claims a name by declaring the exclusive, auto-delete queue `<plant>.claim.<name>`
(`Topology.claim_queue`) on its connection. The broker lets one connection hold an exclusive
queue, so a second process's declaration fails with RESOURCE_LOCKED (405): `NameTaken`. The
claim needs no heartbeat of its own and cannot go stale: when the holder's connection ends (it
leaves, crashes or is cut off) the broker deletes the queue and the name is free again. After
an outage the holder claims again on its new connection; if another process took the name
meanwhile, that fails the same way.

The declarations are pipelined: all but the last are sent no-wait, and the last waits for its
answer. The broker handles a channel's methods in order and closes the channel at the first
refusal, so an answer to the last means every claim is held. They go on a raw channel of
their own that aio-pika does not restore after a reconnect: re-claiming is the holder's to do,
so that a refusal then is its to report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aiormq
from aio_pika.abc import AbstractConnection

from controlroom.broker.topology import Topology
from controlroom.errors import NameTaken, NotConnected, describe

CLAIM_TIMEOUT_S = 60.0
_LOCKED_QUEUE = re.compile(r"queue '([^']*)'")


async def claim(connection: AbstractConnection, topology: Topology, names: Sequence[str]) -> None:
    """Hold every name for as long as this connection lives; NameTaken naming one that another
    process holds (the names claimed before it stay held until the connection ends)."""
    transport = connection.transport
    if transport is None:
        raise NotConnected("the broker is away; cannot claim names now")
    queues = [topology.claim_queue(name) for name in names]
    try:
        channel = await transport.connection.channel()
    except (aiormq.exceptions.AMQPError, OSError) as error:
        raise NotConnected(f"could not claim names: {describe(error)}") from None
    try:
        *pipelined, last = queues
        for queue in pipelined:
            await channel.queue_declare(queue, exclusive=True, auto_delete=True, nowait=True)
        await channel.queue_declare(last, exclusive=True, auto_delete=True, timeout=CLAIM_TIMEOUT_S)
    except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as error:
        raise await _refusal(connection, topology, channel, error, names) from None
    finally:
        if not channel.is_closed:
            await channel.close()


async def held_elsewhere(
    connection: AbstractConnection, topology: Topology, names: Sequence[str]
) -> list[str]:
    """The names another process holds now: a passive look, which claims nothing."""
    transport = connection.transport
    if transport is None:
        raise NotConnected("the broker is away; cannot look at names now")
    held = []
    for name in names:
        channel = await transport.connection.channel()  # a refusal closes it
        try:
            await channel.queue_declare(topology.claim_queue(name), passive=True)
        except aiormq.exceptions.ChannelLockedResource:
            held.append(name)
        except aiormq.exceptions.ChannelNotFoundEntity:
            pass
        finally:
            if not channel.is_closed:
                await channel.close()
    return held


async def _refusal(
    connection: AbstractConnection,
    topology: Topology,
    channel: aiormq.abc.AbstractChannel,
    error: Exception,
    names: Sequence[str],
) -> Exception:
    """Why the claims failed, as one line: NameTaken naming a name held elsewhere.

    The broker's reason closes the channel; the call that meets the closed channel may raise
    either that reason or only "the channel is closed", so the reason is read from the channel
    and, failing that, the names are looked at again."""
    closing = channel.closing
    reason = closing.exception() if closing.done() and not closing.cancelled() else None
    cause = reason if isinstance(reason, aiormq.exceptions.AMQPError) else error
    if not isinstance(cause, aiormq.exceptions.AMQPConnectionError):
        found = _LOCKED_QUEUE.search(str(cause))
        queues = {topology.claim_queue(name): name for name in names}
        if isinstance(cause, aiormq.exceptions.ChannelLockedResource) and found:
            taken = [queues.get(found[1], found[1])]
        else:
            try:
                taken = await held_elsewhere(connection, topology, names)
            except (aiormq.exceptions.AMQPError, OSError, NotConnected):
                taken = []
        if taken:
            return NameTaken(
                f"the name {taken[0]!r} is taken: a sensor or gateway of plant "
                f"{topology.plant!r} that holds it is running"
            )
    return NotConnected(f"could not claim names: {describe(cause)}")
