"""`Parts`: run one batch's work in contiguous parts on a few threads, or inline when small.

The replay kernels release the GIL, so parts of a large batch (its draws, n-step windows and
gathers) really run side by side; a small batch stays in one part, where handing work to a
thread would cost more than it saves.  Results never depend on the number of parts.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

MIN_PART_BYTES = 1 << 20
"""A part moves at least this many bytes, or a thread costs more than it saves: batches of
Tempest vectors split from about 1,300 samples, batches of ALE stacks from about 40."""


class Parts:
    """Splits [0, size) into at most `threads` contiguous parts of at least `MIN_PART_BYTES`.

    Args:
        threads: the most parts (and threads: the caller's plus `threads - 1` pooled ones),
            at least 1 (the buffer checks it with its other arguments).
        bytes_per_item: what one item of the work moves, which sets the smallest part.
    """

    def __init__(self, threads: int, bytes_per_item: int):
        self.threads, self.bytes_per_item = int(threads), max(1, int(bytes_per_item))
        self._pool: ThreadPoolExecutor | None = None

    def edges(self, size: int) -> list[int]:
        """The parts' boundaries: [0, ..., size], one more than the number of parts."""
        count = min(self.threads, max(1, size * self.bytes_per_item // MIN_PART_BYTES))
        return [size * i // count for i in range(count + 1)]

    def run(self, size: int, work: Callable[[int, int], None]) -> None:
        """Call work(lo, hi) for every part, the first on this thread, and wait for all."""
        edges = self.edges(size)
        if len(edges) == 2:
            work(0, size)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads - 1, "replay-sample")
        pending = [self._pool.submit(work, lo, hi)
                   for lo, hi in zip(edges[1:-1], edges[2:], strict=True)]
        work(edges[0], edges[1])
        for job in pending:
            job.result()
