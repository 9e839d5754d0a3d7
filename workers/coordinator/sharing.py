"""Coordinators that share the sources: who is there, and which sources each consumes.

Every coordinator says it is there once a second on the `coordinators` fanout exchange (and
says so when it leaves); one not heard for PEER_TIMEOUT_S is gone. Every coordinator hears every
source's announcement, so each knows the same sources and the same members, and `assign`, a
pure function of the two, gives each member its share without any further agreement: every
member computes the same answer. While views differ (a second at most), a source may be claimed
by two coordinators: its queue's single active consumer keeps it handled by one, in order.

Why this and not the consistent-hash exchange with a single active consumer per shard: a
single active consumer is whoever subscribed first, so shards would still split by race (the
2/4 split measured with queues per source) and never move back to a coordinator that returns;
some agreement on who consumes what is needed either way. Presence over the broker needs
nothing the coordinator does not already use (leases in PostgreSQL would tie the readings'
path to the database, which must be able to go away without stopping it), and it keeps one
queue per source, so a source's order and the fast paths are unchanged.

`assign` is balanced rendezvous hashing: each member gets floor(S/M) or ceil(S/M) sources
(within one), and each source goes to the member that ranks it highest among those with room,
so a member joining or leaving moves few sources besides its own share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

PRESENCE_S = 1.0  # how often a coordinator says it is there
PEER_TIMEOUT_S = 3.0  # silent this long: gone (its queues' consumers went with its connection)


def assign(sources: Iterable[str], members: Iterable[str]) -> dict[str, frozenset[str]]:
    """member -> the sources it consumes: every source to exactly one member, within one."""
    ordered_members = sorted(set(members))
    ordered_sources = sorted(set(sources))
    if not ordered_members:
        return {}
    base, extra = divmod(len(ordered_sources), len(ordered_members))
    # Which members take one more: those ranked highest by a hash of the member set, so it is
    # not always the same names that carry the extra ones.
    group = "\0".join(ordered_members)
    by_rank = sorted(ordered_members, key=lambda member: _rank(group, member), reverse=True)
    room = {member: base + (index < extra) for index, member in enumerate(by_rank)}
    shares: dict[str, set[str]] = {member: set() for member in ordered_members}
    for source in ordered_sources:
        for member in sorted(ordered_members, key=lambda m: _rank(source, m), reverse=True):
            if room[member]:
                room[member] -= 1
                shares[member].add(source)
                break
    return {member: frozenset(share) for member, share in shares.items()}


def _rank(key: str, member: str) -> int:
    digest = hashlib.blake2b(f"{key}\0{member}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Peers:
    """The other coordinators, by when each was last heard."""

    def __init__(self, me: str) -> None:
        self.me = me
        self._heard: dict[str, float] = {}

    def heard(self, instance: str, at: float, *, leaving: bool = False) -> bool:
        """Note a presence; True if the members changed."""
        if instance == self.me:
            return False
        if leaving:
            return self._heard.pop(instance, None) is not None
        new = instance not in self._heard
        self._heard[instance] = at
        return new

    def members(self, now: float) -> frozenset[str]:
        """This coordinator and every other heard within PEER_TIMEOUT_S (the rest forgotten)."""
        for instance, at in list(self._heard.items()):
            if now - at > PEER_TIMEOUT_S:
                del self._heard[instance]
        return frozenset({self.me, *self._heard})
