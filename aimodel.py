"""The AI model: Q-networks, TD targets and losses, and the `Learner` that trains them.

Every stability remedy of the post-mortems in `seeds/` is a `LearnerConfig` switch handled here:
Huber loss, TD-target clamping, gradient clipping (reported as ClipΔ), soft (tau) and hard target
updates, gradient accumulation, learning-rate warm-up/decay/scaling, running reward scaling, and a
non-finite guard that skips a step rather than let one bad batch corrupt the weights (seed 004).
Beside the TD loss, an optional imitation term (`large_margin_loss`) pulls the greedy action
towards the expert's labels, with a weight the trainer sets for every step.

The learner consumes `replay.types.Batch` (numpy) and hands back `LearnerStats`; the statistics
come from the training forward pass itself, so measuring costs no extra forward pass.

One module, longer than the others, because the user's layout names this file (`aimodel.py`,
DESIGN.md §2: the model in one place a user opens); its sections: the networks; the targets,
losses and learning rate; the learner (its statistics, the device and the `Learner` itself: its
step, the deferred step a GPU takes, its state).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from config import LearnerConfig
from replay.types import Batch

SMALL_BATCH = 8
"""Inference batches up to this size run on one thread: waking a second OpenMP thread for each
op costs more than it saves (the actor's batch-1 Nature-CNN forward: 0.29 ms on one thread,
0.65 ms on two, with OpenMP waiting passively as it does under `bench`)."""

STATE_FORMAT = 1
"""Version of the `Learner.state()` layout; bumped when the tensor names or required meta keys
change (an optional key, read with a default, such as "device", needs no bump)."""
MIN_RETURN_STD = 1e-6
"""Floor of the running return std, only there to avoid dividing by zero (all-zero returns)."""

# ------------------------------------------------------------------------------------- networks


CONV_STACKS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "nature": ((32, 8, 4), (64, 4, 2), (64, 3, 1)),
    "nips": ((16, 8, 4), (32, 4, 2)),
}
"""(channels, kernel, stride) of each convolution: "nature" is Mnih et al. 2015's stack, "nips"
Mnih et al. 2013's (its paper's fully connected layer is 256 wide, `learner.hidden_sizes`).  On
84x84 frames the "nips" stack takes a third of the multiply-adds (3.0M against 9.3M with their
first hidden layers); the pong preset's learner step at batch 32 took 0.48x the Nature CNN's
on a 2-core AMD CPU (18.8 against 38.9 ms, compiled, float32; README)."""


class ConvTorso(nn.Module):
    """A DQN conv stack (`CONV_STACKS`). Frames arrive as uint8 and are scaled here, so replay,
    transfer and the batch stay 4x smaller than float frames would be.

    The convs run channels-last: oneDNN's native layout on CPUs, the same arithmetic, and a
    batch-32 learner step 14.5 ms instead of 16.4-18.1 ms on this machine's CPU.
    """

    def __init__(self, channels: int, height: int, width: int, stack: str = "nature") -> None:
        super().__init__()
        if stack not in CONV_STACKS:
            raise ValueError(f"unknown conv stack {stack!r}; valid: {', '.join(CONV_STACKS)}")
        layers: list[nn.Module] = []
        width_in = channels
        for out, kernel, stride in CONV_STACKS[stack]:
            layers += [nn.Conv2d(width_in, out, kernel, stride=stride), nn.ReLU()]
            width_in = out
        self.conv = nn.Sequential(*layers, nn.Flatten())
        self.conv.to(memory_format=torch.channels_last)
        try:
            with torch.no_grad():
                self.out_features = self.conv(torch.zeros(1, channels, height, width)).shape[1]
        except RuntimeError as error:
            raise ValueError(f"frames of {height}x{width} are too small for the {stack} conv "
                             "stack (84x84 is the usual size)") from error

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        # the layout changes on uint8 (4x less to move), then 0..255 -> 0..1
        return self.conv(obs.contiguous(memory_format=torch.channels_last).float() / 255.0)


class VectorTorso(nn.Module):
    """Feature vectors pass through as float32 (the replay may store them as float16)."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.float()


class QNetwork(nn.Module):
    """torso -> fully connected layers -> Q head (plain, or dueling: V + A - mean A).

    The dueling mean-subtraction makes V and A identifiable (Wang et al. 2016).  With `bf16`
    the torso and hidden layers of learner batches compute in bfloat16 (autocast: weights,
    gradients and Adam stay float32) and the head in float32.  Batches of at most SMALL_BATCH
    rows (the actor's) stay float32: casting the weights would cost more than it saves.
    """

    def __init__(self, torso: nn.Module, features: int, num_actions: int,
                 hidden_sizes: Sequence[int], layer_norm: bool, dueling: bool,
                 bf16: bool = False) -> None:
        super().__init__()
        self.torso, self.bf16 = torso, bf16
        layers: list[nn.Module] = []
        for width in hidden_sizes:
            layers.append(nn.Linear(features, width))
            if layer_norm:
                layers.append(nn.LayerNorm(width))
            layers.append(nn.ReLU())
            features = width
        self.body = nn.Sequential(*layers)
        self.dueling = dueling
        if dueling:
            self.value = nn.Linear(features, 1)
            self.advantage = nn.Linear(features, num_actions)
        else:
            self.head = nn.Linear(features, num_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, num_actions) float32 Q-values, whatever autocast context the caller is in: the
        network alone decides its precision, so greedy actions, targets, TD errors and
        priorities never read bfloat16 values (which tie or flip the argmax of close actions)."""
        bf16 = self.bf16 and len(obs) > SMALL_BATCH
        with torch.autocast(obs.device.type, dtype=torch.bfloat16, enabled=bf16):
            hidden = self.body(self.torso(obs))
        with torch.autocast(obs.device.type, enabled=False):
            return self._head(hidden.float())

    def _head(self, hidden: torch.Tensor) -> torch.Tensor:
        if not self.dueling:
            return self.head(hidden)
        advantage = self.advantage(hidden)
        return self.value(hidden) + advantage - advantage.mean(dim=1, keepdim=True)


def build_q_network(obs_shape: Sequence[int], num_actions: int, cfg: LearnerConfig,
                    bf16_cnn: bool = False) -> nn.Module:
    """An MLP for (D,) feature vectors, a conv stack (`cfg.conv_stack`) for (k, H, W) uint8
    frame stacks.

    For frames, `cfg.hidden_sizes` are the layers after the conv stack: (512,) is Nature's net;
    `bf16_cnn` computes its convs and hidden layers in bfloat16 (see `cnn_bf16`).
    """
    shape = tuple(int(n) for n in obs_shape)
    if num_actions < 1:
        raise ValueError(f"num_actions must be >= 1, got {num_actions}")
    if len(shape) == 1:
        torso, features, bf16 = VectorTorso(), shape[0], False
    elif len(shape) == 3:
        torso, bf16 = ConvTorso(*shape, stack=cfg.conv_stack), bf16_cnn
        features = torso.out_features
    else:
        raise ValueError(f"obs_shape must be (D,) vectors or (k, H, W) frames, got {shape}")
    return QNetwork(torso, features, num_actions, cfg.hidden_sizes, cfg.layer_norm, cfg.dueling,
                    bf16)


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware: CUDA with bf16, or a CPU with AVX512-BF16
    or AMX.  Elsewhere bfloat16 is emulated and slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "").split()
    except OSError:  # not Linux: no cheap way to know, stay in float32
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cnn_bf16(setting: str, device: torch.device) -> bool:
    """`learner.cnn_precision` resolved on `device`: "auto" takes bfloat16 where it is native."""
    if setting == "auto":
        return native_bf16(device)
    return setting == "bfloat16"


@contextlib.contextmanager
def inference_threads(batch: int) -> Iterator[None]:
    """Torch's intra-op threads for one forward pass on `batch` rows (see SMALL_BATCH).

    The thread count is process-wide, so a learner thread's ops in the same moment run on one
    thread too; an actor's forward is a fraction of a millisecond, a learner step ~20 ms."""
    before = torch.get_num_threads()
    if batch > SMALL_BATCH or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------------- targets, loss, lr


def td_loss(pred: torch.Tensor, target: torch.Tensor, kind: str, delta: float) -> torch.Tensor:
    """Per-sample TD loss: Huber (0.5 x^2 inside delta, linear outside) or squared error x^2."""
    if kind == "huber":
        return F.huber_loss(pred, target, reduction="none", delta=delta)
    if kind == "mse":
        return (pred - target).square()
    raise ValueError(f"learner.loss must be 'huber' or 'mse', got {kind!r}")


def large_margin_loss(q: torch.Tensor, expert_action: torch.Tensor,
                      margin: torch.Tensor | float,
                      same_class: torch.Tensor | None = None) -> torch.Tensor:
    """Per-state J_E = max_a [Q(s, a) + l(a_E, a)] - Q(s, a_E), l = margin for a != a_E and 0
    for a_E (DQfD's supervised loss); 0 for states without a label (expert_action < 0).

    Why this and not a cross-entropy with the Q-values as logits (the system this replaces):
    it is zero once the expert's action is valued `margin` above every other, so it asks for an
    ordering in the Q-values' own units and stops there; a softmax's temperature depends on the
    value scale, and it keeps pulling the Q-values apart without end.  Its gradient raises
    Q(s, a_E) and lowers only the action that violates the margin most.  Always >= 0.

    `same_class`, an (A, A) 0/1 matrix of actions that do the same thing (Tempest: the same
    spinner direction and buttons at another speed), compares classes instead of actions:
    J_E = max_a [Q(s, a) + margin (a not in C_E)] - max_{a in C_E} Q(s, a), C_E the expert's
    class, so any action of its class may be the greedy one.  The identity is DQfD's loss.
    """
    labelled = expert_action >= 0
    label = expert_action.clamp(min=0)
    if same_class is None:
        label = label.unsqueeze(1)
        others = torch.ones_like(q).scatter_(1, label, 0.0)
        taught = q.gather(1, label).squeeze(1)
    else:
        in_class = same_class[label]
        others = 1.0 - in_class
        taught = q.masked_fill(in_class == 0, float("-inf")).max(dim=1).values
    loss = (q + margin * others).max(dim=1).values - taught
    return torch.where(labelled, loss, torch.zeros_like(loss))


def same_class_matrix(action_classes: np.ndarray | None) -> np.ndarray | None:
    """(A, A) float32, 1 where two actions share a class id (`large_margin_loss`); None for
    None (every action its own class)."""
    if action_classes is None:
        return None
    classes = np.asarray(action_classes)
    if classes.ndim != 1:
        raise ValueError(f"action_classes must be one class id per action, got shape "
                         f"{classes.shape}")
    return (classes[:, None] == classes[None, :]).astype(np.float32)


def scheduled_lr(cfg: LearnerConfig, step: int, decay_steps: int | None = None) -> float:
    """Learning rate of optimiser step `step` (0-based), before `Learner.lr_scale`.

    Warm-up is linear and reaches lr at step lr_warmup_steps - 1 (step 0 gets lr/warmup, not 0,
    so no step is wasted). Decay then runs over `decay_steps` learner steps to lr_end and stays.
    """
    warmup = cfg.lr_warmup_steps
    if warmup > 0 and step < warmup:
        return cfg.lr * (step + 1) / warmup
    if cfg.lr_decay == "none" or not decay_steps:
        return cfg.lr
    frac = min(1.0, (step - warmup) / decay_steps)
    if cfg.lr_decay == "linear":
        return cfg.lr + (cfg.lr_end - cfg.lr) * frac
    return cfg.lr_end + (cfg.lr - cfg.lr_end) * 0.5 * (1.0 + math.cos(math.pi * frac))


@dataclass(frozen=True)
class ReturnScaler:
    """Running std of the n-step returns the learner sees (Welford/Chan merge, float64).

    Why this and not a z-score (seed 002): per-batch standardisation pins the loss at 1 and
    learns nothing; raw returns of 1e5 explode the loss; so the scale must be *running*. And only
    a scale, never a shift: subtracting a mean would give terminal states (discount 0) a non-zero
    target and change which action is best. Dividing every return by one positive number s makes
    the Bellman fixed point Q*/s, same greedy policy. The n-step returns in the batch are what
    the learner can observe; their std is a stable proxy of the return scale. Q-values, TD
    errors, the loss and td_target_clamp are all in these scaled units.
    """

    count: float = 0.0
    mean: float = 0.0
    m2: float = 0.0

    def updated(self, returns: np.ndarray) -> ReturnScaler:
        """A new scaler that has also seen `returns` (pure: a skipped step commits nothing)."""
        x = np.asarray(returns, dtype=np.float64)
        if x.size == 0:
            return self
        n, mean = float(x.size), float(x.mean())
        m2 = float(np.square(x - mean).sum())
        total = self.count + n
        delta = mean - self.mean
        return ReturnScaler(total, self.mean + delta * n / total,
                            self.m2 + m2 + delta * delta * self.count * n / total)

    @property
    def std(self) -> float:
        """Population std of everything seen; 1.0 until two returns have been seen."""
        return math.sqrt(self.m2 / self.count) if self.count >= 2 else 1.0

    @property
    def scale(self) -> float:
        """The factor applied to returns: 1 / std."""
        return 1.0 / max(self.std, MIN_RETURN_STD)


# ------------------------------------------------------------------------------------ learner


@dataclass
class LearnerStats:
    """What one `Learner.step` measured (DESIGN.md §5 aggregates these per interval)."""

    loss: float
    grad_norm: float
    """Total L2 gradient norm before clipping."""
    clip_delta: float
    """Post-clip / pre-clip norm; 1.0 when not clipped."""
    clipped: bool
    q_min: float
    q_max: float
    q_mean: float
    agreement: tuple[int, int]
    """(hits, count) over batch states with an expert label (expert_action >= 0)."""
    imitation: tuple[float, int] | None
    """(sum of the large-margin loss J_E, labelled states it was summed over), unweighted by
    lambda or importance; None when the term was off (weight 0, or no labelled state)."""
    greedy_hist: np.ndarray
    """(num_actions,) counts of argmax Q(s) over the batch; sums to B."""
    td_error: np.ndarray
    """(B,) float32 |y - Q(s, a)| for replay.update_priorities; non-finite entries set to 0."""
    lr: float
    learner_steps: int
    target_age: int
    nonfinite_steps: int
    skipped: bool
    """True when the loss or a gradient was not finite and no optimiser step was taken."""
    reward_scale: float


@dataclass
class _Pass:
    """The accumulated forward/backward pass over all micro-batches: device tensors, so that
    nothing waits for the device before the optimiser step is queued."""

    loss: torch.Tensor
    """0-d: the TD loss mean(w * l) over the batch (the imitation term apart)."""
    q: torch.Tensor
    td_error: torch.Tensor
    expert: torch.Tensor
    """(B,) the expert's labels, -1 where none."""
    imitation: torch.Tensor | None = None
    """0-d: sum of J_E over the labelled states, when the term was on."""
    total: torch.Tensor | None = None
    """0-d: what was differentiated: the TD loss plus lambda times the imitation term."""


_PACKED_HEAD = ("loss", "grad_norm", "clip_delta", "clipped", "finite", "q_min", "q_max",
                "q_mean", "agreement_hits", "imitation_sum")
"""The scalars at the front of a step's packed statistics (then the greedy histogram, then the
TD errors): one vector, so the host receives a step's numbers in one copy."""


@dataclass
class PendingStep:
    """A queued learner step whose numbers are still on their way to the host.

    On a GPU the step's kernels, and the copy of its statistics into pinned memory, run after
    `Learner.step_async` has returned; `Learner.resolve` waits for that copy, which the caller
    does a step later, when it is long done (so priorities and rows never stall the device).
    """

    packed: torch.Tensor
    """Host float32: _PACKED_HEAD, the greedy histogram, the TD errors."""
    ready: object | None
    """The CUDA event recorded after the copy, or None when `packed` is host memory already."""
    labelled: int
    imitation_on: bool
    lr: float
    rewards: np.ndarray
    """The batch's rewards, for the running reward scale once the step is known taken."""
    learner_steps: int
    target_age: int


@dataclass(frozen=True)
class Imitation:
    """The imitation term of one step, as `accumulate_gradients` takes it."""

    weight: float
    """lambda: the term's weight beside the TD loss."""
    margin: float
    """In the units of the Q-values the loss sees (rewards already scaled)."""


def cuda_missing_message(what: str = "learner.device is 'cuda'",
                         fix: str = "train on the CPU with --learner.device cpu") -> str | None:
    """Why CUDA cannot be used here (a CPU build of torch, or no device visible), or None."""
    if torch.cuda.is_available():
        return None
    build = torch.__version__
    reason = ("this torch is a CPU-only build" if torch.version.cuda is None
              else f"torch {build} sees no CUDA device")
    return f"{what} but {reason} ({build}); {fix}"


def configure_gpu_math() -> None:
    """The GPU's math settings, chosen for Q-learning (process-wide, so set once, by the learner
    that goes on a GPU): cuDNN may time its algorithms once for our fixed shapes and keep the
    fastest (`benchmark`), and may use TF32 inside convolutions (the torso: its features
    feed a float32 head, and are rounded to bfloat16 anyway where bf16 is on); matrix products
    stay full float32 ("highest"), since the MLP and the Q head rank actions whose values can
    differ in the fourth digit, which TF32's 10-bit mantissa would tie or flip (the reason the
    head is float32 at all)."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("highest")


def host_batch(template: Batch, device: torch.device) -> Batch:
    """Arrays shaped like `template`'s to sample into: page-locked (pinned) host memory when the
    learner is on a GPU, since only from there do copies run while the host goes on (from
    pageable memory they wait); the template itself elsewhere."""
    if device.type != "cuda":
        return template
    return Batch(*(torch.empty(a.shape, dtype=torch.from_numpy(a[:0]).dtype,
                               pin_memory=True).numpy() for a in template))


def select_device(setting: str, override: str | torch.device | None = None) -> torch.device:
    """An explicit `device` argument wins; "auto" takes CUDA when available."""
    if override is not None:
        return torch.device(override)
    if setting == "cuda" and not torch.cuda.is_available():
        raise ValueError(cuda_missing_message())
    if setting == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


class Learner:
    """Online and target Q-networks, Adam, and one optimiser step per `step(batch)`.

    `decay_steps` (learner steps over which lr decays after warm-up) is an argument because
    LearnerConfig has no field for it; the agent knows the run length.  So is
    `imitation_margin`: it depends on the env's reward settings (`config.imitation_margin`), and
    `action_classes` (one class id per action, for the imitation term's margin over classes;
    None: every action its own class): they come from the env.
    """

    def __init__(self, obs_shape: Sequence[int], num_actions: int, cfg: LearnerConfig,
                 seed: int = 0, device: str | torch.device | None = None,
                 decay_steps: int | None = None, imitation_margin: float = 0.0,
                 deferred: bool | None = None,
                 action_classes: np.ndarray | None = None) -> None:
        if cfg.lr_decay != "none" and not decay_steps:
            raise ValueError(f"learner.lr_decay={cfg.lr_decay!r} needs decay_steps (learner steps "
                             "over which lr falls to lr_end)")
        self.cfg, self.num_actions, self.decay_steps = cfg, int(num_actions), decay_steps
        self.obs_shape = tuple(int(n) for n in obs_shape)
        self.device = select_device(cfg.device, device)
        if self.device.type == "cuda":
            configure_gpu_math()
        with torch.random.fork_rng(devices=[]):  # seeded init without disturbing global RNG
            torch.manual_seed(seed)
            self.online = build_q_network(self.obs_shape, self.num_actions, cfg,
                                          cnn_bf16(cfg.cnn_precision, self.device))
            self.online.to(self.device)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        # fused: one kernel for the whole update; on this 2-core CPU 0.4 ms instead of 2.0-2.3 ms
        # for the Nature CNN (bench loop's profile), with the same arithmetic and state.
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=cfg.lr, eps=cfg.adam_eps,
                                          fused=True)
        self.lr_scale = 1.0
        """Multiplies the scheduled lr (the control channel's LR x2 and /2)."""
        self.imitation_weight = 0.0
        """lambda of the imitation term for the next step (the trainer's schedule sets it);
        0 leaves the term out of the step altogether."""
        self.imitation_margin = float(imitation_margin)
        """The large-margin loss's margin in the units of unscaled rewards
        (`config.imitation_margin`); `step` scales it as it scales the rewards."""
        self.learner_steps = self.target_age = self.nonfinite_steps = 0
        self.scaler = ReturnScaler()
        self.deferred = self.device.type != "cpu" if deferred is None else bool(deferred)
        """Decide a step's skip and clipping on the device and read its numbers a step later
        (`step_async`): what a GPU needs; on a CPU the host decides (exactly, for free)."""
        self._zero, self._one = (torch.tensor(v, device=self.device) for v in (0.0, 1.0))
        self._false = torch.tensor(False, device=self.device)
        self._imitation_args = (torch.zeros((), device=self.device),
                                torch.zeros((), device=self.device))
        """lambda / labelled states, and the margin: device scalars the step fills in place."""
        same = same_class_matrix(action_classes)
        if same is not None and len(same) != self.num_actions:
            raise ValueError(f"action_classes has {len(same)} entries for {self.num_actions} "
                             "actions")
        self._same_class = None if same is None else torch.from_numpy(same).to(self.device)
        """(A, A) 1 where two actions share a class: the imitation margin compares classes."""
        self._host_buffers: list[torch.Tensor] | None = None
        self._flip = 0
        self._compiled = torch.compile(self.chunk_loss, dynamic=False) if cfg.compile else None
        """`chunk_loss` compiled (learner.compile); compiles at its first call."""
        self.compile_error: str | None = None
        """Why `learner.compile` fell back to eager, if it did."""

    # ---------------------------------------------------------------------------- inference

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device, non_blocking=True)

    def _check_obs(self, obs: np.ndarray, what: str) -> None:
        if obs.ndim != len(self.obs_shape) + 1 or tuple(obs.shape[1:]) != self.obs_shape:
            raise ValueError(f"{what} must have shape (B, {', '.join(map(str, self.obs_shape))})"
                             f", got {tuple(obs.shape)}")

    @staticmethod
    def _forward(net: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        """Q-values in float32: the network keeps its own precision (`QNetwork.forward`); no
        autocast around it, which would also put the head, and with it every value, in bf16."""
        return net(obs)

    @torch.no_grad()
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """(B, num_actions) float32 Q-values of the online network."""
        self._check_obs(obs, "obs")
        with inference_threads(len(obs)):
            return self._forward(self.online, self._tensor(obs)).cpu().numpy()

    def greedy_actions(self, obs: np.ndarray) -> np.ndarray:
        """(B,) int64 argmax_a Q(obs, a), one batched forward pass."""
        return self.q_values(obs).argmax(axis=1)

    def current_lr(self) -> float:
        """The learning rate the next optimiser step will use."""
        return scheduled_lr(self.cfg, self.learner_steps, self.decay_steps) * self.lr_scale

    # ----------------------------------------------------------------------------- training

    @torch.no_grad()
    def compute_targets(self, reward: torch.Tensor, discount: torch.Tensor,
                        next_obs: torch.Tensor, terminated: torch.Tensor | None = None
                        ) -> torch.Tensor:
        """y = reward + discount * Q_target(s', a*), a* = argmax Q_online(s') (Double DQN) or
        argmax Q_target(s') (plain max). Rows with discount 0 or terminated take no bootstrap at
        all, so a non-finite Q(s') cannot leak into a terminal target through 0 * inf."""
        q_next = self._forward(self.target, next_obs)
        if self.cfg.double_dqn:
            best = self._forward(self.online, next_obs).argmax(dim=1, keepdim=True)
            bootstrap = q_next.gather(1, best).squeeze(1)
        else:
            bootstrap = q_next.max(dim=1).values
        stop = discount == 0 if terminated is None else (discount == 0) | terminated
        y = torch.where(stop, reward, reward + discount * bootstrap)
        clamp = self.cfg.td_target_clamp
        return y.clamp(-clamp, clamp) if clamp > 0 else y

    def accumulate_gradients(self, batch: Batch, reward_scale: float = 1.0,
                             imitation: Imitation | None = None) -> _Pass:
        """Forward/backward over `micro_batches` chunks into fresh `.grad`s, no optimiser step.

        Each chunk's loss is sum(w * l) / B (B = the whole batch), so the accumulated gradient is
        exactly the gradient of mean(w * l) over the whole batch, whatever the chunk sizes.  The
        imitation term likewise: each chunk adds lambda * sum(w * J_E) / L, L = the labelled
        states of the whole batch, so the sum is lambda * mean(w * J_E) over them.
        """
        self._check_obs(batch.obs, "batch.obs")
        self._check_obs(batch.next_obs, "batch.next_obs")
        self.optimizer.zero_grad(set_to_none=True)
        size = len(batch.action)
        # the arrays as sampled (pinned for a GPU: asynchronous copies), converted there
        obs, action, reward, discount, weights, next_obs, terminated, expert = (
            self._tensor(c) for c in (batch.obs, batch.action, batch.reward, batch.discount,
                                      batch.weights, batch.next_obs, batch.terminated,
                                      batch.expert_action))
        tensors = [obs, action.long(), reward.float() * reward_scale, discount.float(),
                   weights.float(), next_obs, terminated.bool(), expert.long()]
        chunks = max(1, min(self.cfg.micro_batches, size))
        parts = list(zip(*(torch.tensor_split(t, chunks) for t in tensors), strict=True))
        labelled = int((np.asarray(batch.expert_action) >= 0).sum())
        term = None
        if imitation is not None and imitation.weight > 0 and labelled > 0:
            # device scalars filled in place: no host-to-device copy to wait for, and a
            # compiled step does not recompile as lambda moves
            term = self._imitation_args
            term[0].fill_(imitation.weight / labelled)
            term[1].fill_(imitation.margin)
        if self._compiled is not None:
            try:
                return self._backward_chunks(parts, size, term, self._compiled, tensors[-1])
            except Exception as error:  # noqa: BLE001 - any compiler failure: stay eager
                self._give_up_compiling(error)
        return self._backward_chunks(parts, size, term, self.chunk_loss, tensors[-1])

    @staticmethod
    def _backward_chunks(parts, size: int, term, chunk_loss, expert: torch.Tensor) -> _Pass:
        """Forward and backward of every micro-batch, gradients summed in `.grad`, the sums
        kept on the device."""
        td_total = total = imitation_sum = 0.0
        qs, tds = [], []
        for obs, action, reward, discount, weights, next_obs, terminated, labels in parts:
            loss, td_part, q, td, imitated = chunk_loss(
                obs, action, reward, discount, weights, next_obs, terminated, labels, term,
                size)
            loss.backward()
            total, td_total = total + loss.detach(), td_total + td_part
            if imitated is not None:
                imitation_sum = imitation_sum + imitated
            qs.append(q)
            tds.append(td)
        imitation = None if term is None else imitation_sum
        return _Pass(td_total, torch.cat(qs), torch.cat(tds), expert, imitation, total)

    def chunk_loss(self, obs, action, reward, discount, weights, next_obs, terminated, expert,
                   imitation: tuple[torch.Tensor, torch.Tensor] | None, size: int):
        """One micro-batch: (loss to differentiate, its TD part sum(w * l) / size, Q(s, .)
        detached, |TD error|, sum of J_E over its labelled states or None).

        `imitation` is (lambda / labelled states of the whole batch, margin) or None (term
        off).  The part of a step that `learner.compile` compiles: targets, forward pass, loss.
        """
        y = self.compute_targets(reward, discount, next_obs, terminated)
        q = self._forward(self.online, obs)
        q_sa = q.gather(1, action.unsqueeze(1)).squeeze(1)
        loss = (weights * td_loss(q_sa, y, self.cfg.loss, self.cfg.huber_delta)).sum() / size
        td_error = (y - q_sa.detach()).abs()
        if imitation is None:
            return loss, loss.detach(), q.detach(), td_error, None
        scale, margin = imitation
        margins = large_margin_loss(q, expert, margin, self._same_class)
        total = loss + scale * (weights * margins).sum()
        return total, loss.detach(), q.detach(), td_error, margins.detach().sum()

    def _give_up_compiling(self, error: Exception) -> None:
        """A compiler that fails (no C++ compiler, an unsupported op) leaves the learner eager;
        `compile_error` says why (the trainer logs it).  Gradients of the failed try are
        dropped: the step is taken again eagerly, from scratch."""
        self._compiled = None
        first_line = (str(error).strip().splitlines() or ["(no message)"])[0]
        self.compile_error = f"{type(error).__name__}: {first_line}"
        self.optimizer.zero_grad(set_to_none=True)

    def _grad_norm(self) -> torch.Tensor:
        """0-d total L2 norm of the gradients (one fused multi-tensor kernel per group)."""
        grads = [p.grad for p in self.online.parameters() if p.grad is not None]
        if not grads:
            return torch.zeros((), device=self.device)
        return torch.nn.utils.get_total_norm(grads)

    @torch.no_grad()
    def _clip(self, norm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scales the gradients to max_grad_norm, decided on the device; returns (post/pre
        norm, clipped), 0-d tensors: (1, False) below the limit, with clipping off, or with a
        non-finite norm (that step is skipped anyway)."""
        limit = self.cfg.max_grad_norm
        if limit <= 0:
            return self._one, self._false
        clipped = torch.isfinite(norm) & (norm > limit)
        if not self.deferred and not bool(clipped):  # on the host the flag is free
            return self._one, clipped
        coef = torch.where(clipped, limit / norm, self._one)
        torch._foreach_mul_([p.grad for p in self.online.parameters() if p.grad is not None],
                            coef)
        return coef, clipped

    def step(self, batch: Batch) -> LearnerStats:
        """One optimiser step on `batch` (accumulated over micro-batches), then target updates,
        and its statistics (`step_async`, then `resolve` at once).

        A non-finite loss or gradient skips the step: gradients zeroed, weights, Adam state,
        target and reward scaler untouched, `nonfinite_steps` counted (seed 004: one bad batch
        must never corrupt the model).
        """
        return self.resolve(self.step_async(batch))

    def step_async(self, batch: Batch) -> PendingStep:
        """Queues one learner step and the copy of its statistics; `resolve` reads them.

        `deferred` (a GPU): nothing here waits for the device.  The skip of a non-finite step
        is decided on the device (fused Adam's `found_inf` leaves weights, moments and step
        count as they were; the target's update is masked), and the host's counters learn of
        it at `resolve`: until then `learner_steps` counts the step, so the lr schedule and
        the hard-copy count may run one step ahead, on a step that was an anomaly anyway.
        Otherwise (a CPU, where every tensor is host memory) the step decides on the host,
        exactly as one would by hand.
        """
        lr = self.current_lr()
        normalize = self.cfg.normalize_rewards
        scale = self.scaler.updated(batch.reward).scale if normalize else 1.0
        imitation = Imitation(self.imitation_weight, self.imitation_margin * scale)
        result = self.accumulate_gradients(batch, scale, imitation)
        norm = self._grad_norm()
        finite = torch.isfinite(result.total) & torch.isfinite(norm)
        clip = self._clip(norm)
        self._apply(finite, lr)
        packed = self._pack(result, norm, clip, finite)
        packed, ready = self._to_host(packed)
        labelled = int((np.asarray(batch.expert_action) >= 0).sum())
        rewards = np.array(batch.reward, np.float64) if normalize else np.zeros(0)
        return PendingStep(packed, ready, labelled, result.imitation is not None, lr, rewards,
                           self.learner_steps, self.target_age)

    def _apply(self, finite: torch.Tensor, lr: float) -> None:
        """The optimiser step and target update, or none of it where `finite` is false."""
        if self.deferred:
            self.optimizer.found_inf = (~finite).float()  # fused Adam skips where 1
            taken: bool | torch.Tensor = finite
        elif not bool(finite):  # host memory: reading it waits for nothing
            self.optimizer.zero_grad(set_to_none=True)
            self.nonfinite_steps += 1
            return
        else:
            taken = True
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.learner_steps += 1
        self._update_target(taken)

    @torch.no_grad()
    def _update_target(self, taken: bool | torch.Tensor) -> None:
        """Soft update tau*online + (1-tau)*target (tau < 1), then a hard copy every N steps;
        with `taken` a device flag, both are masked by it (0: the target stays as it was)."""
        self.target_age += 1
        tau = self.cfg.tau
        targets, onlines = list(self.target.parameters()), list(self.online.parameters())
        if tau < 1.0 and isinstance(taken, bool):  # target + tau (online - target), one kernel
            torch._foreach_lerp_(targets, onlines, tau)
        elif tau < 1.0:  # lerp takes no tensor weight: the same arithmetic in three kernels
            moves = torch._foreach_sub(onlines, targets)
            torch._foreach_mul_(moves, taken * tau)
            torch._foreach_add_(targets, moves)
        every = self.cfg.hard_update_every
        if every > 0 and self.learner_steps % every == 0:
            self.hard_update(taken)

    @torch.no_grad()
    def hard_update(self, taken: bool | torch.Tensor = True) -> None:
        """Copies the online network into the target and restarts target_age (with `taken` a
        device flag, copies only where it is true)."""
        if isinstance(taken, bool):
            self.target.load_state_dict(self.online.state_dict())
        else:
            for mine, theirs in zip(self.target.state_dict().values(),
                                    self.online.state_dict().values(), strict=True):
                mine.copy_(torch.where(taken, theirs, mine))
        self.target_age = 0

    def _pack(self, result: _Pass, norm: torch.Tensor,
              clip: tuple[torch.Tensor, torch.Tensor], finite: torch.Tensor) -> torch.Tensor:
        """A step's statistics as one float32 device vector (see _PACKED_HEAD)."""
        q = result.q
        greedy = q.argmax(dim=1)
        hits = self._agreeing(greedy, result.expert).sum(dtype=torch.float32)
        q_min, q_max = torch.aminmax(q)
        imitation = result.imitation if result.imitation is not None else self._zero
        head = torch.stack([result.loss, norm, clip[0], clip[1].float(), finite.float(), q_min,
                            q_max, q.mean(), hits, imitation])
        hist = torch.bincount(greedy, minlength=self.num_actions).float()
        td = torch.nan_to_num(result.td_error, nan=0.0, posinf=0.0, neginf=0.0)
        return torch.cat([head, hist, td])

    def _agreeing(self, greedy: torch.Tensor, expert: torch.Tensor) -> torch.Tensor:
        """Whether each state's greedy action agrees with its label: the expert's action, or
        with action classes any action of its class (what the imitation term asks for, so that
        agreement reads the term's progress: Pong's RIGHTFIRE agrees with a label RIGHT).  A
        label of -1 never agrees."""
        if self._same_class is None:
            return greedy == expert
        labelled = expert >= 0
        return labelled & self._same_class[greedy, expert.clamp(min=0)].bool()

    def _to_host(self, packed: torch.Tensor) -> tuple[torch.Tensor, object | None]:
        """Starts the copy of `packed` into one of two pinned host buffers (the other may still
        be read for the previous step) and records an event after it; host memory stays."""
        if packed.device.type == "cpu":
            return packed, None
        size = packed.numel()
        if self._host_buffers is None or self._host_buffers[0].numel() != size:
            self._host_buffers = [torch.empty(size, pin_memory=True) for _ in range(2)]
        self._flip ^= 1
        host = self._host_buffers[self._flip]
        host.copy_(packed, non_blocking=True)
        ready = torch.cuda.Event()
        ready.record()
        return host, ready

    def resolve(self, pending: PendingStep) -> LearnerStats:
        """The statistics of a step from `step_async`, once its copy has landed; books what
        the host learns only now (a deferred step skipped on the device, the reward scale)."""
        if pending.ready is not None:
            pending.ready.synchronize()
        values = pending.packed.numpy()
        head = dict(zip(_PACKED_HEAD, values[:len(_PACKED_HEAD)].tolist(), strict=True))
        hist_end = len(_PACKED_HEAD) + self.num_actions
        skipped = not head["finite"]
        learner_steps = pending.learner_steps
        if skipped and self.deferred:
            self.learner_steps -= 1
            self.nonfinite_steps += 1
            learner_steps -= 1
        if not skipped and self.cfg.normalize_rewards:
            self.scaler = self.scaler.updated(pending.rewards)
        return LearnerStats(
            loss=head["loss"], grad_norm=head["grad_norm"], clip_delta=head["clip_delta"],
            clipped=bool(head["clipped"]), q_min=head["q_min"], q_max=head["q_max"],
            q_mean=head["q_mean"], agreement=(int(head["agreement_hits"]), pending.labelled),
            imitation=(head["imitation_sum"], pending.labelled) if pending.imitation_on
            else None,
            greedy_hist=values[len(_PACKED_HEAD):hist_end].astype(np.int64),
            td_error=values[hist_end:].copy(),
            lr=pending.lr, learner_steps=learner_steps, target_age=pending.target_age,
            nonfinite_steps=self.nonfinite_steps, skipped=skipped,
            reward_scale=self.scaler.scale if self.cfg.normalize_rewards else 1.0,
        )

    # --------------------------------------------------------------------------- checkpoint

    def _architecture(self) -> dict:
        cfg = self.cfg
        return {"obs_shape": list(self.obs_shape), "num_actions": self.num_actions,
                "dueling": cfg.dueling, "hidden_sizes": list(cfg.hidden_sizes),
                "layer_norm": cfg.layer_norm}

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        """(named CPU tensors, JSON-able scalars): safetensors + JSON, no pickle anywhere.

        Tensors: online.*, target.* (module state dicts) and optim.<param index>.<Adam key>.
        """
        dense = torch.contiguous_format  # channels-last conv weights are saved dense
        tensors = {f"{name}.{key}": value.detach().cpu().clone(memory_format=dense)
                   for name, net in (("online", self.online), ("target", self.target))
                   for key, value in net.state_dict().items()}
        for index, param in enumerate(self.online.parameters()):
            for key, value in self.optimizer.state.get(param, {}).items():
                tensors[f"optim.{index}.{key}"] = torch.as_tensor(value).detach().cpu().clone(
                    memory_format=dense)
        config = {k: list(v) if isinstance(v, tuple) else v
                  for k, v in dataclasses.asdict(self.cfg).items()}
        meta = {"format": STATE_FORMAT, "device": self.device.type,
                "architecture": self._architecture(),
                "learner_steps": self.learner_steps, "target_age": self.target_age,
                "nonfinite_steps": self.nonfinite_steps, "lr_scale": self.lr_scale,
                "scaler": dataclasses.asdict(self.scaler),
                "torch_rng_state": torch.get_rng_state().tolist(), "config": config}
        return tensors, meta

    def _expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every tensor `state()` writes once the optimiser has stepped."""
        shapes = {f"{name}.{key}": tuple(value.shape)
                  for name, net in (("online", self.online), ("target", self.target))
                  for key, value in net.state_dict().items()}
        for index, param in enumerate(self.online.parameters()):
            shapes |= {f"optim.{index}.exp_avg": tuple(param.shape),
                       f"optim.{index}.exp_avg_sq": tuple(param.shape), f"optim.{index}.step": ()}
        return shapes

    def _state_problems(self, tensors: dict[str, torch.Tensor], meta: dict) -> list[str]:
        """Everything in a checkpoint that does not fit this learner, one message each."""
        if meta.get("format") != STATE_FORMAT:
            return [f"state format {meta.get('format')!r}, expected {STATE_FORMAT}"]
        missing = [k for k in ("architecture", "learner_steps", "target_age", "nonfinite_steps",
                               "lr_scale", "scaler", "torch_rng_state") if k not in meta]
        if missing:
            return [f"meta lacks {missing}"]
        problems = [f"architecture {key}: checkpoint {meta['architecture'].get(key)!r}, "
                    f"learner {value!r}" for key, value in self._architecture().items()
                    if meta["architecture"].get(key) != value]
        if set(meta["scaler"]) != {f.name for f in dataclasses.fields(ReturnScaler)}:
            problems.append(f"meta scaler {meta['scaler']!r} is not a ReturnScaler state")
        rng = meta["torch_rng_state"]
        if len(rng) != len(torch.get_rng_state()) or not all(0 <= int(b) < 256 for b in rng):
            problems.append(f"torch_rng_state is not a CPU generator state ({len(rng)} values)")
        expected, stepped = self._expected_shapes(), any(k.startswith("optim.") for k in tensors)
        for key in sorted(set(expected) | set(tensors)):
            if key.startswith("optim.") and not stepped:
                continue  # a learner saved before its first step has no Adam state yet
            if key not in tensors or key not in expected:
                where = "checkpoint" if key not in tensors else "learner"
                problems.append(f"tensor {key} missing from the {where}")
            elif tuple(tensors[key].shape) != expected[key]:
                problems.append(f"tensor {key}: checkpoint shape {tuple(tensors[key].shape)}, "
                                f"learner {expected[key]}")
            elif not torch.isfinite(tensors[key]).all():
                problems.append(f"tensor {key} holds non-finite values")
        return problems

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        """Restores `state()`. Checks everything first: on a mismatch raises ValueError naming
        each problem and leaves the learner exactly as it was."""
        problems = self._state_problems(tensors, meta)
        if problems:
            shown = "; ".join(problems[:8]) + ("; ..." if len(problems) > 8 else "")
            raise ValueError(f"checkpoint does not fit this learner: {shown}")
        for name, net in (("online", self.online), ("target", self.target)):
            net.load_state_dict({k[len(name) + 1:]: v for k, v in tensors.items()
                                 if k.startswith(name + ".")})
        optim = self.optimizer.state_dict()
        optim["state"] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".")
                optim["state"].setdefault(int(index), {})[name] = value.clone()
        self.optimizer.load_state_dict(optim)
        self.learner_steps, self.target_age = int(meta["learner_steps"]), int(meta["target_age"])
        self.nonfinite_steps, self.lr_scale = int(meta["nonfinite_steps"]), float(meta["lr_scale"])
        self.scaler = ReturnScaler(**{k: float(v) for k, v in meta["scaler"].items()})
        torch.set_rng_state(torch.tensor(meta["torch_rng_state"], dtype=torch.uint8))
