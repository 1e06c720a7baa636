"""The per-channel rate limit: request slots reserved in the database, shared by workers."""

from __future__ import annotations

from itertools import pairwise

import pytest

from marketplace.extensions import db
from marketplace.sync import services, worker
from marketplace.sync.worker import Turns, pause_channel, take_turns


@pytest.fixture
def channel(app):
    channel = services.add_channel(code="postmart", name="Postmart", connector="postmart",
                                   base_url="http://127.0.0.1:9", credentials="k",
                                   requests_per_second=100)  # fmt: skip
    db.session.commit()
    return channel


def test_several_slots_are_reserved_at_once_one_interval_apart_after_the_last(channel):
    first = take_turns(channel.id, 100, count=5)
    second = take_turns(channel.id, 100, count=3)

    slots = first + second
    assert len(slots) == 8
    assert all(b - a == pytest.approx(0.01) for a, b in pairwise(slots))


def test_workers_never_share_a_slot_nor_come_closer_than_the_rate(channel):
    workers = [Turns(), Turns()]

    slots = sorted(workers[n % 2].next(channel.id, 100, wanted=10) for n in range(40))

    assert min(b - a for a, b in pairwise(slots)) == pytest.approx(0.01)


def test_a_worker_reserves_more_slots_while_it_keeps_up_and_one_once_it_misses_one(
    monkeypatch,
):
    clock, counts = [1000.0], []

    def fake_take_turns(channel_id: int, per_second: float, count: int = 1) -> list[float]:
        counts.append(count)
        return [clock[0] + n / per_second for n in range(count)]

    monkeypatch.setattr(worker, "take_turns", fake_take_turns)
    monkeypatch.setattr(worker.time, "time", lambda: clock[0])
    turns = Turns()
    for _ in range(1 + 2 + 4 + 4):
        turns.next(7, 100, wanted=20)  # each used at once: never late
    assert counts == [1, 2, 4, 5]  # at most 50 ms of slots (5 at 100/s)
    clock[0] += 1.0  # a long request: the last slot held is missed
    turns.next(7, 100, wanted=20)
    assert counts[-1] == 1
    turns.next(7, 100, wanted=1)  # never more than the messages still to send
    assert counts[-1] == 1


def test_a_pause_holds_every_slot_after_those_already_handed_out(channel):
    held = take_turns(channel.id, 100, count=100)  # a second ahead
    pause_channel(channel.id, 0.5)

    [after] = take_turns(channel.id, 100, count=1)

    assert after >= held[-1] + 0.01 - 1e-9
