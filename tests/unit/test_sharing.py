"""Sharing sources between coordinators: every source to one member, within one, the same
answer wherever it is computed, and few moves when a member comes or goes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workers.coordinator.sharing import PEER_TIMEOUT_S, Peers, assign

names = st.text(alphabet="abcdefgh0123456789-", min_size=1, max_size=12)


@given(st.sets(names, max_size=60), st.sets(names, min_size=1, max_size=8))
def test_every_source_to_exactly_one_member_within_one(
    sources: set[str], members: set[str]
) -> None:
    shares = assign(sources, members)
    assert set(shares) == members
    taken = [source for share in shares.values() for source in share]
    assert sorted(taken) == sorted(sources)
    sizes = [len(share) for share in shares.values()]
    assert max(sizes) - min(sizes) <= 1


@given(st.lists(names, max_size=40), st.lists(names, min_size=1, max_size=6))
def test_the_same_answer_in_any_order(sources: list[str], members: list[str]) -> None:
    shuffled_sources, shuffled_members = sources[::-1], members[::-1]
    assert assign(sources, members) == assign(shuffled_sources, shuffled_members)


def test_twelve_sources_three_coordinators_four_each_and_few_moves() -> None:
    sources = [f"gateway-{n}" for n in range(12)]
    three = assign(sources, ["a", "b", "c"])
    assert sorted(len(share) for share in three.values()) == [4, 4, 4]
    two = assign(sources, ["a", "b"])
    assert sorted(len(share) for share in two.values()) == [6, 6]
    # c's four go; a and b each keep most of what they had.
    for member in ("a", "b"):
        assert len(three[member] & two[member]) >= 3
    assert assign(sources, ["a", "b", "c"]) == three  # c back: its share back


def test_a_single_coordinator_takes_everything() -> None:
    assert assign(["x", "y"], ["only"]) == {"only": frozenset({"x", "y"})}
    assert assign([], []) == {}


def test_peers_come_go_and_time_out() -> None:
    peers = Peers("me")
    assert peers.members(0.0) == {"me"}
    assert peers.heard("other", 0.0)
    assert not peers.heard("other", 1.0)  # known already
    assert not peers.heard("me", 1.0)
    assert peers.members(1.0 + PEER_TIMEOUT_S - 0.1) == {"me", "other"}
    assert peers.members(1.0 + PEER_TIMEOUT_S + 0.1) == {"me"}
    assert peers.heard("third", 5.0)
    assert peers.heard("third", 5.5, leaving=True)
    assert peers.members(5.5) == {"me"}
