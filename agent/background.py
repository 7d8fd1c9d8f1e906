"""Acting and learning at the same time: the learner thread.

The actor acts on its own copy of the network (`agent.acting`), refreshed after every learner
step, so the optimiser never writes what it reads.  The learner thread takes the learner steps
the pacer says are owed; the actor waits when the learner falls more than `max_pending` steps
behind, so the configured replay ratio holds exactly, only spread over two threads.  torch
and the numba replay kernels release the GIL, so the two threads really overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from agent.machine import usable_cpus
from config import ActorConfig


def uses_learner_thread(cfg: ActorConfig) -> bool:
    """`actor.learner_thread`, where the machine has the CPUs for it (the field's doc)."""
    return cfg.learner_thread and usable_cpus() >= cfg.learner_thread_min_cpus


def learner_mode(cfg: ActorConfig) -> str:
    """Where the learner steps run, and why, in a sentence for the events log."""
    cpus = usable_cpus()
    if uses_learner_thread(cfg):
        return f"learner: its own thread beside the actor ({cpus} CPUs)"
    if not cfg.learner_thread:
        return "learner: inline (actor.learner_thread false)"
    return (f"learner: inline, {cpus} CPUs < actor.learner_thread_min_cpus "
            f"{cfg.learner_thread_min_cpus} (set it to 0 for the thread)")


class BackgroundLearner:
    """Runs `learn_one()` on its own thread, once per step of credit given by the actor."""

    def __init__(self, learn_one: Callable[[], None], max_pending: int = 2,
                 torch_threads: int | None = None):
        self.learn_one, self.max_pending = learn_one, max_pending
        self.torch_threads = torch.get_num_threads() if torch_threads is None else torch_threads
        """The learner thread's intra-op threads, pinned when it starts (see `_loop`)."""
        self._cond = threading.Condition()
        self._pending = 0
        self._stopping = False
        self.error: BaseException | None = None
        self.step_lock = threading.Lock()
        """Held during every learner step: hold it to see the learner between steps (saves)."""
        self._thread = threading.Thread(target=self._loop, name="learner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def give(self, steps: int) -> None:
        """Owe `steps` more learner steps; wait while the learner is too far behind."""
        with self._cond:
            self._pending += steps
            self._cond.notify_all()
            while self._pending > self.max_pending and self.error is None:
                self._cond.wait()
        self._raise_if_failed()

    def drain(self) -> None:
        """Wait until every owed step has been taken."""
        with self._cond:
            while self._pending > 0 and self.error is None:
                self._cond.wait()
        self._raise_if_failed()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()
        self._raise_if_failed()

    def _loop(self) -> None:
        """Takes owed steps until stopped.

        The thread count is set first: torch gives a new thread the process's count *at the
        moment of its first op*, for good, and the actor's small forward passes lower that count
        to 1 for a fraction of a millisecond (`aimodel.inference_threads`).  Left to chance,
        a learner thread that started inside one of those moments ran every learner step on
        one core for the whole run (seen in bench loop: the learner thread at 0.98 of a core,
        no OpenMP worker beside it; a test pins the fix).
        """
        torch.get_num_threads()  # the thread's one-time lazy init happens here, not after the set
        torch.set_num_threads(self.torch_threads)
        while True:
            with self._cond:
                while self._pending == 0 and not self._stopping:
                    self._cond.wait()
                if self._pending == 0:
                    return
            try:
                with self.step_lock:
                    self.learn_one()
            except BaseException as err:  # handed to the actor thread, which raises it
                with self._cond:
                    self.error = err
                    self._cond.notify_all()
                return
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise RuntimeError("the learner thread failed") from self.error
