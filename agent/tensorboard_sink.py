"""The optional TensorBoard sink: every numeric key of each metrics row as a scalar.

`metrics.jsonl` stays the contract (DESIGN.md §5); this mirrors it for users who already watch
runs in TensorBoard (`tensorboard --logdir runs/<name>/tensorboard`).  It lives in `agent/`
because it writes through torch's `SummaryWriter`, and `metrics/` must not import torch.
"""

from __future__ import annotations

import math
from pathlib import Path

INSTALL_HINT = "pip install -e '.[tensorboard]' (or pip install tensorboard)"


class TensorBoardUnavailable(Exception):
    """metrics.tensorboard is on but the tensorboard package is not installed."""


class TensorBoardSink:
    """Writes rows as scalars under `metrics/<key>`, stepped by the row's `frame`."""

    def __init__(self, log_dir: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TensorBoardUnavailable(
                f"metrics.tensorboard is on but the tensorboard package is missing: "
                f"{INSTALL_HINT}, or set --metrics.tensorboard false") from None
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, row: dict) -> None:
        step = int(row["frame"])
        for key, value in row.items():
            if key == "frame" or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value):
                self.writer.add_scalar(f"metrics/{key}", value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
