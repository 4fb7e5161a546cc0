"""Kleinberg two-state burst detection (transforms.bursts)."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.bursts import (
    burst_cost,
    burst_states,
    burst_states_many,
    bursting_since,
    since_many,
)

DAY0 = dt.date(2025, 3, 3)


def days(n: int) -> list[dt.date]:
    return [DAY0 + dt.timedelta(days=i) for i in range(n)]


def brute_force_minimum(relevant: list[int], total: list[int], **kw: float) -> float:
    return min(
        burst_cost(states, relevant, total, **kw)
        for states in itertools.product((0, 1), repeat=len(total))
    )


# Hand-worked case: six days of 10 papers, r = [1, 1, 6, 7, 1, 1], s = 2, γ = 1.
#
#   R = 17, D = 60, p0 = 17/60 = 0.283, p1 = 2·p0 = 0.567, n = 6.
#   ln p0 = −1.2611   ln(1 − p0) = ln 0.717 = −0.3331
#   ln p1 = −0.5680   ln(1 − p1) = ln 0.433 = −0.8362
#   ln C(10, 1) = ln 10 = 2.303   ln C(10, 6) = ln 210 = 5.347   ln C(10, 7) = ln 120 = 4.787
#   τ(0, 1) = γ · ln 6 = 1.792
#
#   σ(i, r, 10) = −ln C(10, r) − r · ln p_i − (10 − r) · ln(1 − p_i):
#   σ(0, 1) = −2.303 + 1 × 1.2611 + 9 × 0.3331 = −2.303 + 1.261 + 2.998 = 1.957
#   σ(1, 1) = −2.303 + 1 × 0.5680 + 9 × 0.8362 = −2.303 + 0.568 + 7.526 = 5.792
#   σ(0, 6) = −5.347 + 6 × 1.2611 + 4 × 0.3331 = −5.347 + 7.567 + 1.333 = 3.552
#   σ(1, 6) = −5.347 + 6 × 0.5680 + 4 × 0.8362 = −5.347 + 3.408 + 3.345 = 1.406
#   σ(0, 7) = −4.787 + 7 × 1.2611 + 3 × 0.3331 = −4.787 + 8.828 + 0.999 = 5.040
#   σ(1, 7) = −4.787 + 7 × 0.5680 + 3 × 0.8362 = −4.787 + 3.976 + 2.509 = 1.697
#   (last digits may be off by 0.001 from rounding the terms.)
#
#   [0,0,1,1,0,0]: 4 × 1.957 + 1.406 + 1.697 + 1.792          = 12.722  (optimal)
#   [0,0,0,1,0,0]: 4 × 1.957 + 3.552 + 1.697 + 1.792          = 14.868  (next best, +2.146)
#   [0,0,1,0,0,0]: 4 × 1.957 + 1.406 + 5.040 + 1.792          = 16.065
#   [0,0,0,0,0,0]: 4 × 1.957 + 3.552 + 5.040                  = 16.419
#   [0,0,1,1,1,0]: 3 × 1.957 + 1.406 + 1.697 + 5.792 + 1.792  = 16.557
#   Any other sequence is dearer still: q1 on an r = 1 day costs 5.792 − 1.957 = 3.835 more
#   than q0, and each further move up another 1.792.
HAND_R = [1, 1, 6, 7, 1, 1]
HAND_D = [10] * 6


def test_hand_worked_case_optimal_sequence_and_costs():
    assert burst_states(HAND_R, HAND_D) == [0, 0, 1, 1, 0, 0]
    assert burst_cost([0, 0, 1, 1, 0, 0], HAND_R, HAND_D) == pytest.approx(12.722, abs=2e-3)
    assert burst_cost([0, 0, 0, 1, 0, 0], HAND_R, HAND_D) == pytest.approx(14.868, abs=2e-3)
    assert burst_cost([0, 0, 0, 0, 0, 0], HAND_R, HAND_D) == pytest.approx(16.419, abs=2e-3)
    assert burst_cost([0, 0, 1, 1, 1, 0], HAND_R, HAND_D) == pytest.approx(16.557, abs=2e-3)
    costs = sorted(
        (burst_cost(states, HAND_R, HAND_D), states)
        for states in itertools.product((0, 1), repeat=6)
    )
    (best, best_states), (second, second_states) = costs[0], costs[1]
    assert (best_states, second_states) == ((0, 0, 1, 1, 0, 0), (0, 0, 0, 1, 0, 0))
    assert second - best == pytest.approx(3.552 - 1.406, abs=2e-3)


def test_hand_worked_case_single_state_costs():
    # One day: n = 1, so moving up is free (ln 1 = 0) and the cost is σ alone.
    # p0 = 6/10 is the day's own rate, p1 = 1.2 is capped at 1 − 1e-6:
    # σ(0) = −ln 210 − 6 ln 0.6 − 4 ln 0.4 = −5.347 + 3.065 + 3.665 = 1.383
    assert burst_cost([0], [6], [10]) == pytest.approx(1.383, abs=1e-3)
    # σ(1) = −ln 210 − 6 ln(1 − 1e-6) − 4 ln(1e-6) = −5.347 + 0.000 + 55.262 = 49.915
    assert burst_cost([1], [6], [10]) == pytest.approx(49.915, abs=1e-3)
    assert burst_states([6], [10]) == [0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=0, max_size=9),
    st.sampled_from([1.5, 2.0, 3.0]),
    st.sampled_from([0.0, 0.5, 1.0, 2.0]),
)
def test_viterbi_reaches_the_brute_force_minimum(days_counts, s, gamma):
    total = [a + b for a, b in days_counts]
    relevant = [a for a, _ in days_counts]
    states = burst_states(relevant, total, s=s, gamma=gamma)
    found = burst_cost(states, relevant, total, s=s, gamma=gamma)
    assert found == pytest.approx(brute_force_minimum(relevant, total, s=s, gamma=gamma), abs=1e-9)
    many = burst_states_many(
        np.array(relevant, dtype=np.int64).reshape(1, -1), np.array(total), s=s, gamma=gamma
    )
    assert many.dtype == np.int8 and many[0].tolist() == states


def test_many_equals_one_by_one_on_random_series():
    rng = np.random.default_rng(20250303)
    n, m = 60, 400
    total = rng.integers(0, 80, size=n)
    total[[5, 6, 12, 13, 59]] = 0  # weekends, and an empty last day
    base = rng.uniform(0.0, 0.2, size=(m, 1))
    boost = np.zeros((m, n))
    for row in range(m):
        start = rng.integers(0, n)
        boost[row, start : start + rng.integers(1, 15)] = rng.uniform(0, 0.5)
    relevant = rng.binomial(total, np.clip(base + boost, 0, 1))
    relevant[:10] = 0  # some rows never relevant
    for s, gamma in [(2.0, 1.0), (3.0, 0.5), (1.5, 2.0)]:
        many = burst_states_many(relevant, total, s=s, gamma=gamma)
        assert many.shape == (m, n) and many.dtype == np.int8
        rows = [burst_states(relevant[i], total, s=s, gamma=gamma) for i in range(m)]
        assert many.tolist() == rows
    # The comparison is not vacuous: some rows burst, some do not.
    bursting_rows = int(burst_states_many(relevant, total).any(axis=1).sum())
    assert 0 < bursting_rows < m


def test_an_even_share_never_bursts():
    assert burst_states([5] * 30, [50] * 30) == [0] * 30
    total = [20, 40, 60, 30, 10, 50, 80, 70] * 4
    assert burst_states([d // 10 for d in total], total) == [0] * 32
    assert bursting_since(days(32), [d // 10 for d in total], total) is None


def test_a_rise_in_the_last_week_is_bursting_since_its_first_day():
    relevant = [2] * 23 + [10] * 7
    assert burst_states(relevant, [50] * 30) == [0] * 23 + [1] * 7
    assert bursting_since(days(30), relevant, [50] * 30) == DAY0 + dt.timedelta(days=23)


def test_a_burst_that_ended_is_not_bursting_now():
    relevant = [2] * 10 + [10] * 5 + [2] * 15
    assert burst_states(relevant, [50] * 30) == [0] * 10 + [1] * 5 + [0] * 15
    assert bursting_since(days(30), relevant, [50] * 30) is None


def test_days_without_papers_are_skipped_and_keep_the_state_before_them():
    relevant = [2] * 23 + [10] * 7
    states = burst_states(relevant, [50] * 30)
    # The same series with an empty weekend after day 5 and after the last day.
    with_gaps_r = [*relevant[:5], 0, 0, *relevant[5:], 0, 0]
    with_gaps_d = [50] * 5 + [0, 0] + [50] * 25 + [0, 0]
    gap_states = burst_states(with_gaps_r, with_gaps_d)
    assert gap_states == [*states[:5], 0, 0, *states[5:], 1, 1]
    assert bursting_since(days(34), with_gaps_r, with_gaps_d) == DAY0 + dt.timedelta(days=25)
    # A weekend inside a burst does not split it.
    inside_r = [2] * 23 + [10] * 3 + [0, 0] + [10] * 4
    inside_d = [50] * 26 + [0, 0] + [50] * 4
    assert burst_states(inside_r, inside_d) == [0] * 23 + [1] * 9
    # Only empty days, and no days at all.
    assert burst_states([0, 0, 0], [0, 0, 0]) == [0, 0, 0]
    assert burst_states([], []) == []
    assert bursting_since([], [], []) is None
    assert burst_states_many(np.zeros((2, 3), dtype=int), np.zeros(3, dtype=int)).tolist() == [
        [0, 0, 0],
        [0, 0, 0],
    ]


def test_a_series_without_relevant_documents_never_bursts():
    assert burst_states([0] * 10, [30] * 10) == [0] * 10
    assert bursting_since(days(10), [0] * 10, [30] * 10) is None
    # Every document relevant: p0 = 1, so there is no higher rate to burst to.
    assert burst_states([30] * 10, [30] * 10) == [0] * 10
    assert burst_cost([0, 1], [3, 3], [3, 3]) == math.inf
    # p0 = 1 − 1/3e6 is above the cap, so p1 = 1 − 1e-6 < p0: q1 would be a rate *below* p0
    # (and with γ = 0 it would be cheaper on the last day); there is no burst state instead.
    big_r, big_d = [1_000_000, 1_000_000, 999_999], [1_000_000] * 3
    assert burst_states(big_r, big_d, gamma=0.0) == [0, 0, 0]
    assert burst_states_many(np.array([big_r]), np.array(big_d), gamma=0.0).tolist() == [[0, 0, 0]]


def test_higher_gamma_suppresses_a_short_weak_burst():
    weak = [2] * 14 + [6, 6] + [2] * 14
    assert burst_states(weak, [50] * 30, gamma=1.0) == [0] * 14 + [1, 1] + [0] * 14
    assert burst_states(weak, [50] * 30, gamma=2.0) == [0] * 30
    strong = [2] * 10 + [10] * 5 + [2] * 15
    assert burst_states(strong, [50] * 30, gamma=2.0) == [0] * 10 + [1] * 5 + [0] * 15
    # γ = 0 makes moving up free: q1 wherever its σ is lower (the r = 6 day, but not r = 2).
    assert burst_states([2, 6, 2], [50] * 3, gamma=0.0) == [0, 1, 0]


def test_since_many_gives_the_start_of_each_final_run():
    states = np.array(
        [
            [0, 0, 1, 1, 1],
            [1, 1, 1, 1, 1],
            [0, 1, 1, 0, 0],
            [1, 0, 1, 0, 1],
            [0, 0, 0, 0, 0],
        ],
        dtype=np.int8,
    )
    d = days(5)
    assert since_many(d, states) == [d[2], d[0], None, d[4], None]
    assert since_many([], np.zeros((2, 0), dtype=np.int8)) == [None, None]
    with pytest.raises(ValueError, match="one column per date"):
        since_many(d[:4], states)


@pytest.mark.parametrize(
    ("relevant", "total", "kw", "message"),
    [
        ([1, 11, 2], [10, 10, 10], {}, r"batch 1: 11 relevant documents out of 10"),
        ([1, 2], [10, 10, 10], {}, "relevant has 2 batches but total has 3"),
        ([1, -1], [10, 10], {}, "relevant must not be negative"),
        ([1, 1], [10, -10], {}, "total must not be negative"),
        ([1.5, 1], [10, 10], {}, "integer counts"),
        ([[1, 1]], [10, 10], {}, "relevant must be 1-dimensional"),
        ([1, 1], [10, 10], {"s": 1.0}, "s must be greater than 1"),
        ([1, 1], [10, 10], {"gamma": -1.0}, "gamma must not be negative"),
    ],
)
def test_invalid_input_raises(relevant, total, kw, message):
    with pytest.raises(ValueError, match=message):
        burst_states(relevant, total, **kw)


def test_invalid_input_raises_for_many_and_cost():
    with pytest.raises(ValueError, match=r"batch 2: 4 relevant documents out of 3"):
        burst_states_many(np.array([[0, 0, 0], [1, 1, 4]]), np.array([3, 3, 3]))
    with pytest.raises(ValueError, match="relevant must be 2-dimensional"):
        burst_states_many(np.array([1, 1]), np.array([3, 3]))
    with pytest.raises(ValueError, match="each 0 or 1"):
        burst_cost([0, 2], [1, 1], [3, 3])
    with pytest.raises(ValueError, match="each 0 or 1"):
        burst_cost([0], [1, 1], [3, 3])
