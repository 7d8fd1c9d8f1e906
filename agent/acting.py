"""The network the actor acts with: a copy of the learner's, on the device acting suits,
refreshed without making either side wait for the other.

The actor must not read the network while the optimiser writes it (the system this replaces let
inference read half-updated weights), so it acts on its own copy.  Where the copy lives is
`actor.device` (`acting_device`), and each place has its own way to refresh it:

* a CPU learner, acting on the CPU: the weights are copied under a lock, between two of the
  actor's forward passes (a memcpy of a few MB);
* a GPU learner, acting on the CPU: the weights come down by an asynchronous copy into a second,
  pinned copy, which becomes the acting one once the copy has landed (checked before each
  forward pass, never waited for); a refresh asked for while one is still landing is skipped,
  the next one brings the newer weights;
* a GPU learner, acting on the GPU: the forward passes run on their own CUDA stream, so they
  are not queued behind learner steps; events order the weight copy after the last forward
  pass and the next forward pass after the copy.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

import numpy as np
import torch

from aimodel import inference_threads


def acting_device(setting: str, learner_device: torch.device,
                  obs_shape: Sequence[int]) -> torch.device:
    """`actor.device` resolved: "cpu", "learner" (the learner's device), or "auto": the
    learner's GPU for frame stacks, whose conv forward pass costs a CPU more than an env step,
    and the CPU for feature vectors, whose MLP forward pass a CPU core does in a fraction of a
    millisecond while the GPU stays with the learner."""
    if learner_device.type == "cpu" or setting == "cpu":
        return torch.device("cpu")
    if setting == "learner" or len(obs_shape) == 3:
        return learner_device
    return torch.device("cpu")


def _copy_weights(into: torch.nn.Module, source: torch.nn.Module,
                  non_blocking: bool = False) -> None:
    for mine, theirs in zip(into.state_dict().values(), source.state_dict().values(),
                            strict=True):
        mine.copy_(theirs, non_blocking=non_blocking)


def _pinned(net: torch.nn.Module) -> torch.nn.Module:
    """`net` with its parameters and buffers in page-locked memory (asynchronous copies in)."""
    for tensor in [*net.parameters(), *net.buffers()]:
        tensor.data = tensor.data.pin_memory()
    return net


class ActingCopy:
    """The actor's copy of the online network (see the module's docstring)."""

    def __init__(self, online: torch.nn.Module, device: torch.device):
        self.device = device
        self.net = copy.deepcopy(online).to(device).eval()
        self._lock = threading.Lock()
        from_gpu = next(online.parameters()).device.type == "cuda"
        self.stream = torch.cuda.Stream(device) if device.type == "cuda" else None
        self._acted: torch.cuda.Event | None = None
        """Recorded on the acting stream after each forward pass (GPU acting)."""
        self._spare: torch.nn.Module | None = None
        """The copy the next asynchronous refresh lands in (GPU learner, CPU acting)."""
        if from_gpu and device.type == "cpu":
            _pinned(self.net)
            self._spare = _pinned(copy.deepcopy(self.net))
        self._landing: torch.cuda.Event | None = None

    @torch.no_grad()
    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """(B,) argmax_a Q(obs, a) on the copy."""
        tensor = torch.from_numpy(np.ascontiguousarray(obs))
        with self._lock:
            self._adopt_landed_copy()
            if self.stream is None:
                with inference_threads(len(tensor)):
                    return self.net(tensor.to(self.device)).argmax(dim=1).numpy()
            with torch.cuda.stream(self.stream):
                actions = self.net(tensor.to(self.device)).argmax(dim=1).cpu()  # this stream only
                self._acted = torch.cuda.Event()
                self._acted.record(self.stream)
            return actions.numpy()

    @torch.no_grad()
    def sync(self, online: torch.nn.Module) -> None:
        """Brings the online weights to the copy (after a learner step, on its thread)."""
        with self._lock:
            if self.stream is not None:
                if self._acted is not None:  # not while a forward pass still reads them
                    torch.cuda.current_stream().wait_event(self._acted)
                _copy_weights(self.net, online)
                copied = torch.cuda.Event()
                copied.record()
                self.stream.wait_event(copied)
            elif self._spare is not None:
                if self._landing is None:
                    _copy_weights(self._spare, online, non_blocking=True)
                    self._landing = torch.cuda.Event()
                    self._landing.record()
            else:
                _copy_weights(self.net, online)

    def _adopt_landed_copy(self) -> None:
        if self._landing is not None and self._landing.query():
            self.net, self._spare = self._spare, self.net
            self._landing = None
