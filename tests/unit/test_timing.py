"""Timings: one entry per step, in the order steps first ran; a step timed twice adds up."""

from __future__ import annotations

import time

import pytest

from recommenders_kit.timing import Timings


def test_steps_in_order_and_repeats_add_up():
    timings = Timings()
    with timings("fit"):
        time.sleep(0.02)
    with timings("score"):
        pass
    with timings("fit"):
        time.sleep(0.02)
    assert list(timings) == ["fit", "score"]
    assert timings["fit"] >= 0.04
    assert timings["score"] < timings["fit"]


def test_a_failed_step_is_not_recorded():
    timings = Timings()
    with pytest.raises(ZeroDivisionError), timings("broken"):
        _ = 1 / 0
    assert timings == {}
