"""numba kernels of the replay engine: ring writes, n-step windows, gathers, uniform draws.

Storage layout (shared by every kernel here): N environment streams, each a ring of C rows; the
row of stream e at ring position p is slot `e * C + p` of every column.  A stream's rows are in
the order its environment produced them, so transitions of different environments never mix and a
row's next observation is simply the next row of its stream.  After an episode ends, one extra
FINAL row holds the episode's last observation (the bootstrap state after a truncation).

A transition is named by a *ticket*: `e + N * n`, where n counts every row ever written to stream
e.  A slot is reused when its ring wraps; a ticket never is, so a priority update for a transition
that has since been overwritten is recognised and dropped.

Every kernel takes arrays and scalars and returns arrays; none owns a random generator.  They are
also valid plain Python, so the tests run them with NUMBA_DISABLE_JIT=1 as well.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from replay.types import FLAG_FINAL, FLAG_FIRST, FLAG_TERMINATED, FLAG_TRUNCATED

_KERNEL = {"cache": True, "nogil": True}


@njit(**_KERNEL)
def ring_age(write_count: int, capacity: int, pos: int) -> int:
    """Rows written after ring position `pos` (0 for the newest row of the stream)."""
    return (write_count - 1 - pos) % capacity


@njit(**_KERNEL)
def slots_to_tickets(slots_B, write_count_N, capacity):
    """The ticket (stream, absolute row number) of the row now held in each slot."""
    num_envs = write_count_N.shape[0]
    tickets_B = np.empty(slots_B.shape[0], np.int64)
    for b in range(slots_B.shape[0]):
        env, pos = slots_B[b] // capacity, slots_B[b] % capacity
        written = write_count_N[env]
        row_number = written - 1 - ring_age(written, capacity, pos)
        tickets_B[b] = env + num_envs * row_number
    return tickets_B


@njit(**_KERNEL)
def tickets_to_slots(tickets_B, write_count_N, capacity):
    """Slot of each ticket, or -1 where that row has been overwritten since it was sampled."""
    num_envs = write_count_N.shape[0]
    slots_B = np.empty(tickets_B.shape[0], np.int64)
    for b in range(tickets_B.shape[0]):
        env, row_number = tickets_B[b] % num_envs, tickets_B[b] // num_envs
        alive = 0 <= row_number < write_count_N[env] and row_number >= write_count_N[env] - capacity
        slots_B[b] = env * capacity + row_number % capacity if alive else -1
    return slots_B


@njit(inline="always", **_KERNEL)
def _put_row(obs_SF, action_S, reward_S, flags_S, source_S, expert_S, sampleable_S,
             base, pos, wrapped, capacity, stack, rows_MF, i, action, reward, flags, source,
             expert, changed_K, valid_K, k):
    """Write one row at ring position `pos` of the stream starting at slot `base`.

    Overwriting the oldest row can cut the frame-stack history of the k-1 rows after it, so those
    rows stop being sampleable (unless an episode starts in between).  Sampleability changes are
    recorded from index k on; returns the new k.
    """
    slot = base + pos
    for f in range(rows_MF.shape[1]):  # element loop: a slice assignment takes 1.85x longer
        obs_SF[slot, f] = rows_MF[i, f]
    action_S[slot], reward_S[slot], flags_S[slot] = action, reward, flags
    source_S[slot], expert_S[slot] = source, expert
    sampleable_S[slot] = 0
    changed_K[k], valid_K[k] = slot, 0
    k += 1
    later = pos
    for _ in range(1, stack if wrapped else 1):
        later = later + 1 if later + 1 < capacity else 0
        if flags_S[base + later] & FLAG_FIRST:
            break
        if sampleable_S[base + later]:
            sampleable_S[base + later] = 0
            changed_K[k], valid_K[k] = base + later, 0
            k += 1
    return k


@njit(**_KERNEL)
def write_step(obs_SF, action_S, reward_S, flags_S, source_S, expert_S, sampleable_S,
               write_count_N, episode_start_N, capacity, stack,
               env_ids_M, obs_MF, action_M, reward_M, terminated_M, truncated_M, next_obs_MF,
               source_M, expert_M, continues_M):
    """Append one transition to each stream in `env_ids_M`; FINAL rows after episode ends.

    A row becomes sampleable once its next observation is stored: the previous row of the stream
    when a new one arrives, or the row itself when its episode ends (the FINAL row follows it).
    `continues_M` marks a terminal transition after which the stream goes on without a reset (a
    lost life in an episodic-life game): no FINAL row, and frame stacks run on across it, as the
    emulator's own stacks do; the terminal flag still stops n-step windows.
    One integer division per stream and step: ring positions otherwise advance by comparison.

    Returns:
        (slots_K, valid_K): every slot whose sampleability changed, in order, with its new state.
    """
    changed_K = np.empty(env_ids_M.shape[0] * (2 * stack + 2), np.int64)
    valid_K = np.empty(changed_K.shape[0], np.uint8)
    k = 0
    for i in range(env_ids_M.shape[0]):
        env = env_ids_M[i]
        written, base = write_count_N[env], env_ids_M[i] * capacity
        pos = written % capacity
        prev = base + (pos - 1 if pos > 0 else capacity - 1)
        if written > 0 and not flags_S[prev] & FLAG_FINAL and not sampleable_S[prev]:
            sampleable_S[prev] = 1
            changed_K[k], valid_K[k] = prev, 1
            k += 1
        ended = (terminated_M[i] or truncated_M[i]) and not continues_M[i]
        flags = FLAG_TERMINATED * terminated_M[i] + FLAG_TRUNCATED * truncated_M[i]
        flags += FLAG_FIRST * episode_start_N[env]
        k = _put_row(obs_SF, action_S, reward_S, flags_S, source_S, expert_S, sampleable_S,
                     base, pos, written >= capacity, capacity, stack, obs_MF, i, action_M[i],
                     reward_M[i], flags, source_M[i], expert_M[i], changed_K, valid_K, k)
        if ended:
            final = pos + 1 if pos + 1 < capacity else 0
            k = _put_row(obs_SF, action_S, reward_S, flags_S, source_S, expert_S, sampleable_S,
                         base, final, written + 1 >= capacity, capacity, stack, next_obs_MF, i,
                         -1, 0.0, FLAG_FINAL, 255, -1, changed_K, valid_K, k)
            sampleable_S[base + pos] = 1
            changed_K[k], valid_K[k] = base + pos, 1
            k += 1
        write_count_N[env] = written + (2 if ended else 1)
        episode_start_N[env] = 1 if ended else 0
    return changed_K[:k], valid_K[:k]


@njit(**_KERNEL)
def end_streams(action_S, flags_S, source_S, write_count_N, episode_start_N, capacity,
                env_ids):
    """End the open episodes of the streams `env_ids` at their newest rows, as truncations
    (in place).

    The newest row (a transition still waiting for its next observation) becomes the episode's
    final observation, and the row before it, unless already a final row, is marked truncated,
    so n-step windows stop there and bootstrap from that observation.
    """
    for env in env_ids:
        written = write_count_N[env]
        if written == 0 or episode_start_N[env]:
            continue  # empty, or its last episode already ended
        newest = env * capacity + (written - 1) % capacity
        flags_S[newest] = FLAG_FINAL
        source_S[newest], action_S[newest] = 255, -1
        if written > 1:
            before = env * capacity + (written - 2) % capacity
            if not flags_S[before] & FLAG_FINAL:
                flags_S[before] |= FLAG_TRUNCATED
        episode_start_N[env] = 1


@njit(**_KERNEL)
def nstep_windows(slots_B, reward_S, flags_S, source_S, write_count_N, capacity,
                  n_step, gamma, cut_on_source_change,
                  return_B, discount_B, next_slot_B, horizon_B, terminated_B):
    """n-step returns computed at sample time, one window per sampled slot, into the outputs.

    The window sums gamma**i * r over at most n rewards and stops early at a terminal state (no
    bootstrap), a truncation (bootstrap from the FINAL row), the newest stored row (bootstrap
    from it), or, when asked, where the behaviour source changes (so a return never mixes
    expert and network actions).

    Returns:
        (return_B, discount_B, next_slot_B, horizon_B, terminated_B) where discount is
        gamma**horizon, or 0 after a terminal state.
    """
    size = slots_B.shape[0]
    for b in range(size):
        env = slots_B[b] // capacity
        base, row = env * capacity, slots_B[b]
        newest = base + (write_count_N[env] - 1) % capacity
        total, scale = 0.0, 1.0
        terminated_B[b] = False
        for j in range(n_step):
            nxt = row + 1 if row + 1 < base + capacity else base
            total += scale * reward_S[row]
            scale *= gamma
            stop = j == n_step - 1 or nxt == newest or (flags_S[row] & FLAG_TRUNCATED) != 0
            if flags_S[row] & FLAG_TERMINATED:
                terminated_B[b] = True
                stop = True
            elif cut_on_source_change:
                stop = stop or source_S[nxt] != source_S[slots_B[b]]
            if stop:
                return_B[b] = total
                discount_B[b] = 0.0 if terminated_B[b] else scale
                next_slot_B[b] = nxt
                horizon_B[b] = j + 1
                break
            row = nxt
    return return_B, discount_B, next_slot_B, horizon_B, terminated_B


@njit(**_KERNEL)
def gather_rows(rows_SF, slots_B, out_BF):
    """out[b] = rows[slots[b]]: the vector-observation gather, into a caller-owned array.

    The element loop compiles to a vectorised copy, faster than `out[b] = rows[s]` (a slice
    assignment numba does not reduce to a memcpy) and than numpy's fancy indexing (B=16,384
    sorted rows of 195 float32 from 1M: 0.74 ms against 3.2 ms and 1.34 ms).
    """
    width = rows_SF.shape[1]
    for b in range(slots_B.shape[0]):
        slot = slots_B[b]
        for f in range(width):
            out_BF[b, f] = rows_SF[slot, f]
    return out_BF


@njit(**_KERNEL)
def gather_stacks(frames_SF, flags_S, write_count_N, capacity, slots_B, out_BKF):
    """Rebuild the stack of k frames ending at each slot; zeros before an episode's first frame.

    Zero padding matches `ale_py.vector_env.AtariVectorEnv`, whose stacks start as zeros at reset.
    A stack never reaches behind a FIRST row nor behind the oldest row still stored.
    """
    stack = out_BKF.shape[1]
    for b in range(slots_B.shape[0]):
        env = slots_B[b] // capacity
        base, pos = env * capacity, slots_B[b] - env * capacity
        written = write_count_N[env]
        reach = min(stack - 1, min(written, capacity) - 1 - ring_age(written, capacity, pos))
        depth, row = 0, pos
        while depth < reach and not flags_S[base + row] & FLAG_FIRST:
            depth += 1
            row = row - 1 if row > 0 else capacity - 1
        for m in range(stack - 1 - depth):
            out_BKF[b, m] = 0
        for m in range(stack - 1 - depth, stack):  # oldest frame first, `row` walks forward
            for f in range(frames_SF.shape[1]):
                out_BKF[b, m, f] = frames_SF[base + row, f]
            row = row + 1 if row + 1 < capacity else 0
    return out_BKF


@njit(**_KERNEL)
def uniform_slots(u_B, write_count_N, capacity):
    """Map uniform draws in [0, 1) onto the stored rows of all streams, each row equally likely.

    Stream e holds ring positions [0, min(written_e, C)): rows are written from position 0 on.
    """
    num_envs = write_count_N.shape[0]
    first_N = np.empty(num_envs + 1, np.int64)
    first_N[0] = 0
    for e in range(num_envs):
        first_N[e + 1] = first_N[e] + min(write_count_N[e], capacity)
    slots_B = np.empty(u_B.shape[0], np.int64)
    for b in range(u_B.shape[0]):
        x = min(np.int64(u_B[b] * first_N[num_envs]), first_N[num_envs] - 1)
        env = np.searchsorted(first_N, x, side="right") - 1
        slots_B[b] = env * capacity + x - first_N[env]
    return slots_B
