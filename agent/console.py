"""What a run says to a terminal without the dashboard, and hears from it: the progress line,
and SIGINT/SIGTERM as a request to stop (the final checkpoint is still written)."""

from __future__ import annotations

import contextlib
import signal


def progress_line(row: dict) -> str:
    """One line for a terminal without the dashboard: frames, FPS, returns, loss, epsilon."""
    def fmt(key: str, spec: str) -> str:
        value = row.get(key)
        return "-" if value is None else format(value, spec)

    return (f"frame {row['frame']:>11,}  fps {fmt('fps', '7.0f')}  episodes {row['episodes']:>6}"
            f"  return {fmt('return_mean', '8.2f')}  dqn1m {fmt('dqn_return_1m', '8.2f')}"
            f"  loss {fmt('loss', '8.4f')}  eps {fmt('epsilon', '5.3f')}"
            f"  q [{fmt('q_min', '.2f')}, {fmt('q_max', '.2f')}]")


class StopFlag:
    """SIGINT and SIGTERM end the loop cleanly (the final checkpoint is still written)."""

    def __init__(self) -> None:
        self.set = False

    def _handle(self, signum, frame) -> None:
        self.set = True

    def installed(self):
        """A context in which SIGINT and SIGTERM set the flag (the handlers before are put
        back at its end)."""

        @contextlib.contextmanager
        def scope():
            previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield self
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
        return scope()
