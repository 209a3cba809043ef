"""The broker endpoint ring shared by the box transport and the hub's ingest worker."""

from __future__ import annotations

import pytest

from posdomain.failover import EndpointRing

pytestmark = pytest.mark.req("NFR-003")


def test_the_ring_moves_through_every_endpoint_in_order_and_comes_back() -> None:
    ring = EndpointRing([("a", 1), ("b", 2), ("c", 3)])
    assert ring.current == ("a", 1)
    assert [ring.advance() for _ in range(4)] == [("b", 2), ("c", 3), ("a", 1), ("b", 2)]
    assert ring.current == ("b", 2)


def test_a_single_endpoint_never_moves_and_none_is_refused() -> None:
    ring = EndpointRing([("a", 1)])
    assert ring.advance() is None
    assert ring.current == ("a", 1)
    with pytest.raises(ValueError, match="at least one"):
        EndpointRing([])


def test_two_endpoints_take_turns() -> None:
    ring = EndpointRing([("a", 1), ("b", 2)])
    assert [ring.advance() for _ in range(3)] == [("b", 2), ("a", 1), ("b", 2)]


def test_no_endpoint_is_refused_with_its_message() -> None:
    with pytest.raises(ValueError, match=r"^at least one broker endpoint$"):
        EndpointRing(())
