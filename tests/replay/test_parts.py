"""`Parts`: how a batch's work is cut, and that every item is done exactly once."""

import threading

import numpy as np

from replay.parts import MIN_PART_BYTES, Parts


def test_small_work_stays_in_one_part_on_the_callers_thread():
    parts, seen = Parts(4, bytes_per_item=100), []
    parts.run(10, lambda lo, hi: seen.append((lo, hi, threading.current_thread().name)))
    assert seen == [(0, 10, threading.current_thread().name)]


def test_parts_are_at_least_the_minimum_size_and_at_most_the_thread_count():
    per_item = MIN_PART_BYTES // 100  # 100 items make one part's worth
    assert Parts(4, per_item).edges(250) == [0, 125, 250]  # 2.5 parts' worth: two parts
    assert Parts(4, per_item).edges(1000) == [0, 250, 500, 750, 1000]  # capped at 4
    assert Parts(1, per_item).edges(1000) == [0, 1000]


def test_every_item_is_done_once_across_threads():
    done = np.zeros(1000, np.int64)
    Parts(3, MIN_PART_BYTES // 10).run(1000, lambda lo, hi: np.add.at(done, np.arange(lo, hi), 1))
    assert (done == 1).all()
