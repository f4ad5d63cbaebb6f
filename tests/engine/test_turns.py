"""The test engine's main-loop order (``_turns.py``): step generation one event at a time, in
arrival order, the next beginning as soon as the last one's steps are generated."""

from __future__ import annotations

import threading

from pulumi_metal_reset.testing._turns import Turns


def test_turns_follow_arrival_and_the_next_starts_when_generation_is_done() -> None:
    turns = Turns()
    events: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()

    def first() -> None:
        with turns.turn():
            events.append("first generates")
            first_in.set()
            release_first.wait(10)
            turns.done()  # steps generated: executing them overlaps the next turn
            second_done.wait(10)
            events.append("first executed")

    def second() -> None:
        with turns.turn():
            events.append("second generates")
        second_done.set()

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.2)
    assert two.is_alive()  # waiting for its turn while the first still generates
    release_first.set()
    one.join(10)
    two.join(10)
    assert events == ["first generates", "second generates", "first executed"]


def test_leaving_a_turn_ends_it_even_on_an_error_and_done_twice_is_harmless() -> None:
    turns = Turns()
    try:
        with turns.turn():
            turns.done()
            turns.done()
            raise RuntimeError("step failed")
    except RuntimeError:
        pass
    turns.done()  # outside a turn: nothing to end
    entered = threading.Event()

    def later() -> None:
        with turns.turn():
            entered.set()

    thread = threading.Thread(target=later)
    thread.start()
    thread.join(10)
    assert entered.is_set()
