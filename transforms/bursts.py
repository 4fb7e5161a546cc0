"""Kleinberg's two-state burst detection over daily counts (papers carrying a topic per day).

The model is the batched ("enumerating") automaton of J. Kleinberg, "Bursty and Hierarchical
Structure in Streams" (KDD 2002, DMKD 2003). The stream is split into n batches (listing days);
batch t holds d_t documents, r_t of them relevant. With R = Σ r_t and D = Σ d_t:

* state q0 emits relevant documents at the base rate p0 = R / D, state q1 at
  p1 = min(s · p0, 1 − 1e-6) (the cap keeps p1 a probability; when p1 is not above p0,
  i.e. R = 0 or p0 ≥ 1 − 1e-6, there is no burst state and every batch is q0);
* being in state i at batch t costs σ(i, r_t, d_t) = −ln[C(d_t, r_t) · p_i^r_t · (1 − p_i)^(d_t − r_t)];
* moving up from q_i to q_j (j > i) costs τ(i, j) = (j − i) · γ · ln n; moving down or
  staying is free;
* the automaton is in q0 before the first batch, and the state sequence minimising
  Σ σ + Σ τ is found by the Viterbi recursion.

Days without documents (d_t = 0) carry no evidence: they are left out of the recursion (and of
n), and each takes the state of the day before it (q0 when no day with documents precedes it).
A weekend therefore neither starts nor ends a burst.

``burst_states`` solves one series, ``burst_states_many`` solves m series over the same days
(vectorised over the series), ``bursting_since`` / ``since_many`` turn states into the date a
still-running burst began, and ``burst_cost`` prices any state sequence (the paper's cost,
binomial term included).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

P1_CAP = 1.0 - 1e-6


def burst_states(
    relevant: Sequence[int] | np.ndarray,
    total: Sequence[int] | np.ndarray,
    *,
    s: float = 2.0,
    gamma: float = 1.0,
) -> list[int]:
    """The optimal state (0 = q0, 1 = q1, a burst) of each batch of one series."""
    r, d = _validated(relevant, total, s, gamma, ndim=1)
    kept = d > 0
    if not kept.any():
        return [0] * len(d)
    sigma0, sigma1 = _state_costs(r[None, kept], d[kept], s)
    up = gamma * math.log(int(kept.sum()))
    states = _viterbi(sigma0[0].tolist(), sigma1[0].tolist(), up)
    return _fill_empty(np.array([states], dtype=np.int8), kept)[0].tolist()


def burst_states_many(
    relevant: np.ndarray,
    total: np.ndarray,
    *,
    s: float = 2.0,
    gamma: float = 1.0,
) -> np.ndarray:
    """``burst_states`` of each row of ``relevant`` (m × n), all over the same ``total`` (n,).

    Each row has its own base rate p0 = R_row / D. Returns an m × n int8 array.
    """
    r, d = _validated(relevant, total, s, gamma, ndim=2)
    kept = d > 0
    if not kept.any():
        return np.zeros(r.shape, dtype=np.int8)
    sigma0, sigma1 = _state_costs(r[:, kept], d[kept], s)
    up = gamma * math.log(int(kept.sum()))
    return _fill_empty(_viterbi_many(sigma0, sigma1, up), kept)


def bursting_since(
    dates: Sequence[dt.date],
    relevant: Sequence[int] | np.ndarray,
    total: Sequence[int] | np.ndarray,
    *,
    s: float = 2.0,
    gamma: float = 1.0,
) -> dt.date | None:
    """The date of the first batch of the final run of q1 states; None if the last batch is q0."""
    states = burst_states(relevant, total, s=s, gamma=gamma)
    return since_many(dates, np.array([states], dtype=np.int8).reshape(1, len(states)))[0]


def since_many(dates: Sequence[dt.date], states: np.ndarray) -> list[dt.date | None]:
    """For each row of ``states`` (m × n, over ``dates``): the start date of its final q1 run,
    None when the row ends in q0."""
    states = np.asarray(states)
    if states.ndim != 2 or states.shape[1] != len(dates):
        raise ValueError(
            f"states must be m × {len(dates)} (one column per date), got {states.shape}"
        )
    m, n = states.shape
    # Column 0 is the q0 the automaton starts in; column k + 1 is batch k.
    in_q0 = np.concatenate([np.ones((m, 1), dtype=bool), states == 0], axis=1)
    start = n - np.argmax(in_q0[:, ::-1], axis=1)  # the batch after the last q0
    return [None if t == n else dates[t] for t in start.tolist()]


def burst_cost(
    states: Sequence[int],
    relevant: Sequence[int] | np.ndarray,
    total: Sequence[int] | np.ndarray,
    *,
    s: float = 2.0,
    gamma: float = 1.0,
) -> float:
    """Σ σ + Σ τ of a state sequence, as the paper defines it (binomial term included).

    Days without documents cost nothing in either state (a move up on one is still paid);
    a q1 state on a day with documents costs ∞ when the series has no burst state.
    """
    r, d = _validated(relevant, total, s, gamma, ndim=1)
    if len(states) != len(d) or any(state not in (0, 1) for state in states):
        raise ValueError(f"states must be {len(d)} values, each 0 or 1")
    n = int((d > 0).sum())
    p0 = int(r.sum()) / int(d.sum()) if n else 0.0
    p1 = min(s * p0, P1_CAP)
    up = gamma * math.log(n) if n else 0.0
    cost, previous = 0.0, 0
    for state, r_t, d_t in zip(states, r.tolist(), d.tolist(), strict=True):
        cost += up * max(state - previous, 0)
        previous = state
        if d_t == 0:
            continue
        if state == 1 and p1 <= p0:
            return math.inf
        p = p1 if state else p0
        log_binomial = math.lgamma(d_t + 1) - math.lgamma(r_t + 1) - math.lgamma(d_t - r_t + 1)
        cost -= log_binomial + _xlog(r_t, p) + _xlog(d_t - r_t, 1 - p)
    return cost


def _xlog(k: int, p: float) -> float:
    """k · ln p, with 0 · ln 0 = 0."""
    return k * math.log(p) if k else 0.0


def _validated(
    relevant: object, total: object, s: float, gamma: float, ndim: int
) -> tuple[np.ndarray, np.ndarray]:
    r = _counts(relevant, "relevant", ndim)
    d = _counts(total, "total", 1)
    if r.shape[-1] != d.shape[0]:
        raise ValueError(f"relevant has {r.shape[-1]} batches but total has {d.shape[0]}")
    over = np.argwhere(r > d)
    if over.size:
        t = int(over[0][-1])
        raise ValueError(
            f"batch {t}: {int(r[tuple(over[0])])} relevant documents out of {int(d[t])} "
            "(relevant must not exceed total)"
        )
    if not s > 1:
        raise ValueError(f"s must be greater than 1, got {s}")
    if not gamma >= 0:
        raise ValueError(f"gamma must not be negative, got {gamma}")
    return r, d


def _counts(values: object, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer counts, got dtype {arr.dtype}")
    if (arr < 0).any():
        raise ValueError(f"{name} must not be negative")
    return arr.astype(np.int64)


def _state_costs(r: np.ndarray, d: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """σ(q0) and σ(q1) of every batch of every row (m × n; every d_t > 0).

    The binomial term ln C(d_t, r_t) is the same in both states, so it shifts every state
    sequence's cost by the same amount and is left out here.
    """
    p0 = r.sum(axis=1) / d.sum()
    p1 = np.minimum(s * p0, P1_CAP)

    def sigma(p: np.ndarray) -> np.ndarray:
        # 0 · ln 0 = 0: p = 0 only when every r_t is 0, p = 1 only when every r_t is d_t.
        log_p = np.log(np.where(p > 0, p, 1.0))[:, None]
        log_not_p = np.log(np.where(p < 1, 1 - p, 1.0))[:, None]
        return -(r * log_p + (d - r) * log_not_p)

    return sigma(p0), np.where((p1 > p0)[:, None], sigma(p1), np.inf)


def _viterbi(sigma0: list[float], sigma1: list[float], up: float) -> list[int]:
    """The cheapest state sequence of one series; ties go to q0."""
    cost0, cost1 = 0.0, math.inf  # cheapest path ending in q0 / q1 (q0 before the first batch)
    came_from_q1 = []  # per batch: (does the best path into q0 come from q1, into q1 ...)
    for s0, s1 in zip(sigma0, sigma1, strict=True):
        came_from_q1.append((int(cost1 < cost0), int(cost1 < cost0 + up)))
        cost0, cost1 = min(cost0, cost1) + s0, min(cost0 + up, cost1) + s1
    state = int(cost1 < cost0)
    states = []
    for predecessor in reversed(came_from_q1):
        states.append(state)
        state = predecessor[state]
    return states[::-1]


def _viterbi_many(sigma0: np.ndarray, sigma1: np.ndarray, up: float) -> np.ndarray:
    """``_viterbi`` of every row at once (the same operations, so the same ties)."""
    m, n = sigma0.shape
    cost0, cost1 = np.zeros(m), np.full(m, np.inf)
    came_from_q1 = np.zeros((2, m, n), dtype=bool)  # [state at t, row, t]
    for t in range(n):
        came_from_q1[0, :, t] = cost1 < cost0
        came_from_q1[1, :, t] = cost1 < cost0 + up
        cost0, cost1 = (
            np.minimum(cost0, cost1) + sigma0[:, t],
            np.minimum(cost0 + up, cost1) + sigma1[:, t],
        )
    states = np.zeros((m, n), dtype=np.int8)
    state = cost1 < cost0
    for t in range(n - 1, -1, -1):
        states[:, t] = state
        state = np.where(state, came_from_q1[1, :, t], came_from_q1[0, :, t])
    return states


def _fill_empty(states: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Spread the states of the days with documents (columns) over all days: a day without
    documents takes the state of the day before it, q0 before the first day with documents."""
    last_kept = np.cumsum(kept)  # 1 + column of the latest day with documents, 0 if none yet
    padded = np.concatenate([np.zeros((states.shape[0], 1), dtype=np.int8), states], axis=1)
    return padded[:, last_kept]
