"""Every tunable of tempest-dqn: frozen dataclasses, named presets, overrides, files and validation.

Why one module: a value's origin must be findable with grep.  Each field carries its docstring on
the line below it (the CleanRL/tyro convention); `field_docs` reads those strings back from this
file's AST so `tempest-dqn train --help` and the code can never disagree.

A configuration is resolved in a fixed order, later wins:

    preset  ->  config file (.toml / .yaml)  ->  environment (FORCE_FRESH_MODEL, RESET_METRICS)
            ->  command-line flags and `--section.field VALUE` overrides

and then validated.  Every user mistake raises `ConfigError` (a `ValueError`) with a message that
names the field, the value and what would be accepted.

This module imports no project module and no torch: every package may import it cheaply.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args, get_origin, get_type_hints


class ConfigError(ValueError):
    """A configuration the user can fix: bad value, unknown name, unreadable file."""


@dataclass(frozen=True)
class EnvConfig:
    """The game and how the emulator is driven."""

    id: str = "Tempest-v0"
    """Environment id: "Tempest-v0" (the built-in simulator) or "ALE/<Game>-v5" (any ROM shipped
    with ale-py)."""
    num_envs: int = 32
    """Environments stepped together as one vector env; more envs mean bigger inference batches
    and more frames/s."""
    seed: int = 0
    """Seed of the environments (env i gets seed + i), so a run can be replayed exactly."""
    frame_skip: int = 4
    """ALE only: emulator frames per agent step (the action repeats). Tempest-v0 always steps
    one frame."""
    sticky_action_prob: float = 0.25
    """ALE only: probability that the previous action is repeated instead of the new one
    (Machado et al. 2018)."""
    noop_max: int = 30
    """Up to this many no-op agent steps after each reset, so episodes do not all start in the
    same state."""
    episodic_life: bool = True
    """A lost life ends the episode (terminal for bootstrapping). Tempest-v0: each life is one
    episode and the next reset continues the same game, as in the system this replaces; ALE: the
    life loss is terminal and the game itself goes on (helps games like Breakout)."""
    clip_rewards: bool = False
    """Clip each step's reward to its sign (-1, 0, +1) for learning; scores and returns are
    still reported unclipped."""
    max_episode_frames: int = 0
    """Truncate an episode after this many emulator frames (108000 = 30 minutes at 60 Hz); 0 =
    no limit."""
    frame_stack: int = 4
    """ALE frames stacked into one network input (rebuilt at sample time) so the network sees
    motion. Tempest-v0 feature vectors are not stacked."""
    full_action_space: bool = False
    """ALE only: use all 18 joystick actions instead of the game's minimal action set."""
    pin_threads: bool = True
    """ALE only: pin ale-py's emulator threads one to a CPU (where this process may run on every
    CPU; ale-py's pinning ignores a narrower affinity, so it is skipped there).  Unpinned, on 2
    CPUs, the scheduler now and then put an emulator thread beside the actor while the other CPU
    idled: acting with 8 envs ran at 0.72-0.96 of the bare env from one bench loop run to the
    next, blocks using 1.4-1.9 CPUs; pinned, every block used 1.8-1.9.  Two runs side by side
    on one machine would pin to the same CPUs: start the second with false, or run each under
    its own `taskset` (pinning is then skipped)."""
    start_wave: int = 1
    """Tempest-v0 only: the wave (1..99) every game starts at; the system this replaces started
    its games at wave 13."""
    action_set: Literal["joint", "compact"] = "joint"
    """Tempest-v0 only: "joint" = the 44 actions of the system this replaces (4 fire/zap x 11
    spinner levels); "compact" = 11 (stay, +-3, +-12 with and without fire, one zap)."""
    lane_map: bool = True
    """Tempest-v0 only: add the lane map to the observation (312 values instead of 247): what
    each lane around the player holds (enemy shots, enemies, spikes, walls) by its distance from
    the player, and the frames until a shot slot frees.  Without it networks walked into enemy
    shots (envs/tempest/feature_layout.py).  Runs saved before the field existed read as false
    (`SAVED_BEFORE_ADDED`), so their checkpoints evaluate as they were trained; resuming one
    needs --env.lane-map false (the message says so)."""
    shot_clock: bool = True
    """Tempest-v0 only, with the lane map: its enemy-shot channel reads how soon the nearest
    shot in each lane reaches the rim (1 - frames / 32) rather than how deep it is.  A shot kills
    by when it arrives: as a depth, 2 and 8 frames from the rim were 0.91 and 0.83, and the
    networks still spun into shots about to land (envs/tempest/features.py `_shot_clock`).
    Runs saved before the field existed read as false, like lane_map."""
    spike_clock: bool = False
    """Tempest-v0 only, with the lane map: its spike channel reads how soon the claw, dropping
    from where it is (or from the rim if the drop started now), would die on each lane's spike
    (1 - (frames - 1) / 48) rather than how deep the tip is (envs/tempest/features.py
    `_spike_clock`).  Spikes were the first death in whole games from wave 1 (31 of 81 in 20
    games on the tuning seed).  Off: 60 minutes with it cut them to 7 and lifted whole games
    from wave 13 (120,433 against 92,020 on the tuning seed), but one life (11,546 against
    17,196) and whole games from wave 1 (25,838 against 32,193) fell there, one run each
    (README).  Runs saved before the field existed read as false."""
    reward_death_penalty: float = 1000.0
    """Tempest-v0 only: game points charged on the frame the player dies."""
    reward_objective_scale: float = 0.01
    """Tempest-v0 only: learning reward per game point (score deltas below 1,000, the death
    penalty, the superzap penalty)."""
    reward_subjective_scale: float = 0.0
    """Tempest-v0 only: weight of the lane-safety shaping (+-2 per nearby lane, weighted 1, 1/2,
    1/4 by distance, halved while not moving); 0 turns shaping off.  Off: on the tuning seed it
    was level with no shaping (60-minute runs without the lane map, 14-minute probes with it:
    README), it is not potential-based (it can change which policy is best: one paid to move
    may move into a shot) and its kernel costs about 10% of the frames per second.  0.005 is the
    system this replaces' weight."""
    reward_zap_penalty: float = 1000.0
    """Tempest-v0 only: game points charged for a superzap, times the share of the wave's enemies
    still pending (zapping once the queue is empty costs nothing)."""
    reward_clip: float = 10.0
    """Tempest-v0 only: the learning reward is clipped to [-reward_clip, reward_clip]; 0 = no
    clip."""


@dataclass(frozen=True)
class ReplayConfig:
    """The replay engine: storage, prioritisation and n-step returns."""

    capacity: int = 1_000_000
    """Transitions kept (all envs together). ALE frames cost ~7 KB per transition, Tempest
    vectors far less."""
    prioritized: bool = True
    """Sample in proportion to TD error (prioritized experience replay) instead of uniformly."""
    alpha: float = 0.6
    """PER exponent: priority = (|TD error| + priority_eps) ** alpha; 0 = uniform sampling."""
    beta_start: float = 0.4
    """PER importance-sampling exponent at frame 0; corrects the bias that prioritised sampling
    brings."""
    beta_end: float = 1.0
    """PER importance-sampling exponent reached after beta_frames (1.0 = full correction)."""
    beta_frames: int = 10_000_000
    """Emulator frames over which beta moves linearly from beta_start to beta_end."""
    priority_eps: float = 1e-6
    """Added to |TD error| so that no transition ever gets priority zero and disappears from
    sampling."""
    n_step: int = 8
    """Rewards summed into one n-step return before bootstrapping; longer = faster credit, more
    variance."""
    cut_on_source_change: bool = True
    """End the n-step window where the behaviour source (dqn, random, expert) changes, so
    returns are not mixed."""
    obs_dtype: Literal["float32", "float16"] = "float32"
    """Storage type of vector observations (Tempest-v0); float16 halves memory. ALE frames are
    always uint8."""
    seed: int = 0
    """Seed of the sampler's random numbers, independent of the environment seed."""
    sample_threads: int = 2
    """Threads that assemble a large batch in parts (draws, n-step windows, gathers); the
    kernels release the GIL, so 2 threads roughly halve the time of a 16,384 batch (README's
    benchmark). Results are identical for any count; 1 leaves the second core to the actor."""


@dataclass(frozen=True)
class LearnerConfig:
    """The optimiser, the loss and the remedies against divergence."""

    lr: float = 3e-4
    """Adam learning rate (the peak, reached after lr_warmup_steps)."""
    lr_end: float = 1e-5
    """Learning rate at the end of the run when lr_decay is "linear" or "cosine"."""
    lr_warmup_steps: int = 1_000
    """Learner steps of linear warm-up from 0 to lr; protects fresh Adam statistics from large
    first steps."""
    lr_decay: Literal["none", "linear", "cosine"] = "none"
    """Schedule from lr to lr_end over the run's frames after warm-up; "none" keeps lr constant."""
    adam_eps: float = 1e-6
    """Adam epsilon. Keep it well below the gradients' size: with large batches and Tempest's
    small rewards the per-weight gradients are ~1e-5, and an epsilon of that size (the Rainbow
    value 1.5e-4, which the ALE presets use) would shrink every step tenfold."""
    gamma: float = 0.99
    """Discount factor per agent step."""
    batch_size: int = 4_096
    """Transitions per learner (optimiser) step; large batches give smooth, GPU-efficient
    gradients (16,384 with micro_batches 4 suits a GPU; on a CPU 4,096 gives 4x the updates)."""
    micro_batches: int = 1
    """Gradient accumulation: the batch is split into this many forward/backward passes to bound
    memory."""
    tau: float = 0.005
    """Soft target update after every learner step: target <- tau*online + (1-tau)*target. 1.0 =
    no soft updates."""
    hard_update_every: int = 0
    """Copy the online network into the target every this many learner steps; 0 = never."""
    max_grad_norm: float = 10.0
    """Clip the total L2 gradient norm to this value; 0 = off. The dashboard shows the effect as
    ClipΔ."""
    loss: Literal["huber", "mse"] = "huber"
    """TD loss: "huber" (robust to outliers) or "mse"."""
    huber_delta: float = 1.0
    """Where the Huber loss turns from quadratic to linear, in reward units."""
    td_target_clamp: float = 0.0
    """Clamp TD targets to [-x, x] to stop runaway bootstrapping; 0 = off."""
    double_dqn: bool = True
    """Double DQN: the online network picks the next action, the target network values it (less
    overestimation)."""
    dueling: bool = True
    """Dueling head: separate state-value and advantage streams."""
    conv_stack: Literal["nature", "nips"] = "nature"
    """Frames only: the convolutions before the hidden layers. "nature": Mnih et al. 2015's
    three (32-64-64 channels), the standard. "nips": Mnih et al. 2013's two (16-32 channels; its
    hidden layer was 256 wide), a third of the arithmetic: on a CPU, where the learner step bounds
    the frames per minute, more frames for a smaller network."""
    hidden_sizes: tuple[int, ...] = (512, 512, 256)
    """Widths of the fully connected layers: the whole MLP for vectors, the layers after the CNN
    for frames."""
    layer_norm: bool = True
    """LayerNorm after each hidden layer; keeps activations in range with large learning rates."""
    normalize_rewards: bool = False
    """Divide rewards by a running estimate of the return's standard deviation."""
    replay_ratio: float = 4.0
    """Learner samples drawn per new emulator frame (all envs); the learner waits or runs to
    keep it."""
    learning_starts: int = 100_000
    """Emulator frames collected before the first learner step."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where the networks live: "auto" takes CUDA when available, else the CPU."""
    cnn_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """Arithmetic of the Nature CNN's convolutions and hidden layers (frames only). Its Q head,
    the targets, the loss, the weights and Adam stay float32. "auto": bfloat16 where the
    hardware computes it natively (CUDA with bf16, CPUs with AVX512-BF16 or AMX), float32
    elsewhere. The feature-vector MLP is float32 on every device: at its sizes bfloat16 saves
    little and would round the values that pick the greedy action."""
    compile: bool = False
    """Compile the learner's forward pass, targets and loss (and, through autograd, their
    backward) with torch.compile: fewer, fused kernels.  A batch-32 Nature CNN step took 17.3 ms
    instead of 24 ms on a 2-core CPU (the ALE presets turn it on); the Tempest MLP at batch
    4,096 gained under 5% (134 against 139 ms), not worth its compile time.  The first learner
    step of a process pays the compilation (10-25 s there; torch caches it on disk for later
    runs) and needs a C++ compiler on the CPU; without one the learner says why in the events
    log and stays eager."""


@dataclass(frozen=True)
class ActorConfig:
    """Exploration, evaluation and how acting and learning share the machine."""

    epsilon_start: float = 1.0
    """Probability of a random action at frame 0."""
    epsilon_end: float = 0.01
    """Probability of a random action after epsilon_decay_frames."""
    epsilon_decay_frames: int = 1_000_000
    """Emulator frames over which epsilon falls linearly from epsilon_start to epsilon_end."""
    eval_every_frames: int = 1_000_000
    """Run a greedy evaluation (no expert) every this many emulator frames; 0 = never."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    eval_epsilon: float = 0.001
    """Random-action probability during evaluation; a little noise avoids deterministic loops."""
    eval_protocol: Literal["life", "game"] = "life"
    """Tempest: what one evaluation episode is.  "life": one life from the start wave, as the
    training's episodes are (the numbers the README compares with the expert); "game": a whole
    game, 3 lives and the arcade's bonus lives, as players judge it.  ALE evaluations always
    play whole games (a lost life continues the game), so there it changes nothing."""
    device: Literal["auto", "cpu", "learner"] = "auto"
    """Where the actor's copy of the network runs when the learner is on a GPU (with a CPU
    learner, on the CPU).  "auto": the GPU for frame stacks, since the conv forward pass of
    every env step would cost a CPU more than the env step itself; the CPU for feature vectors,
    whose small MLP a CPU core runs in a fraction of a millisecond, leaving the GPU to the
    learner.  On the GPU the actor uses its own CUDA stream, never queued behind learner steps;
    on the CPU its weights come down asynchronously (agent/acting.py)."""
    learner_thread: bool = True
    """Run the learner in its own thread beside the actor (from learner_thread_min_cpus CPUs);
    False runs it inline: deterministic (the tests' setting)."""
    learner_thread_min_cpus: int = 3
    """The learner thread is used only where this process may run on at least this many CPUs;
    below, learner steps run inline, while a pipelined env (ALE) steps.  On 2 CPUs the thread
    measured no faster (bench loop, Pong with 8 envs: 170 against 171 agent steps/s; the tempest
    preset: 5,433 against 5,428 frames/s) and slower with one env (141 against 164): the
    learner's OpenMP threads need both cores, and the actor then delays them about as much as
    it overlaps.  0 = the thread wherever learner_thread is true."""


@dataclass(frozen=True)
class ActorsConfig:
    """Where acting runs: in this process, or in Ray actor processes (Ape-X's shape: many actors
    with their own exploration, one prioritised replay, one learner)."""

    backend: Literal["inprocess", "ray"] = "inprocess"
    """"inprocess": the envs step in the trainer's process (the fastest on one host: nothing is
    shipped).  "ray": `num` Ray actor processes, each with env.num_envs envs, the expert's labels
    and a CPU copy of the network, ship chunks of transitions to this process's replay; for
    slow emulators, more acting than one host's cores give, or one GPU learner fed by many
    hosts (agent/ray_actors.py).  Needs the `distributed` extra (`pip install -e
    ".[distributed]"`; `make test` installs it)."""
    num: int = 2
    """Ray actor processes.  Each runs env.num_envs envs (the replay holds num x env.num_envs
    streams); one per spare core is the useful most (each steps its envs and runs its network
    on one core)."""
    chunk_steps: int = 16
    """Vector steps an actor takes per chunk it ships.  A chunk is one round trip through Ray
    (bench actors: 2 ms for 16 steps of 32 Tempest envs, 512 transitions, or of 8 Pong envs,
    128 transitions and 0.9 MB); that size amortises the trip while keeping the learner's
    replay within a fraction of a second of the actors."""
    sync_every: int = 8
    """Learner steps between two weight broadcasts (through Ray's object store).  The tempest
    preset's learner steps every 1,024 frames, so 8 steps are about 2 s of acting at 3,700
    frames/s with weights that old; Ape-X syncs every 400 frames per actor, but its learner
    steps far more often.  Each chunk records the version it was acted with (rows:
    actors_weights_lag, in learner steps)."""
    epsilon_ladder: bool = False
    """Ape-X's per-actor exploration: actor i of N acts with epsilon ** (1 + i / (N - 1) *
    ladder_alpha), so one actor explores at the schedule's epsilon and the others ever less.
    Off: every actor follows the schedule (and the dashboard's epsilon) as an in-process run
    does."""
    ladder_alpha: float = 7.0
    """The ladder's exponent spread (Horgan et al. 2018 use 7, with a base epsilon of 0.4)."""
    max_restarts: int = 3
    """How often Ray restarts a dead actor process; its streams end as truncated and the run
    goes on.  Past this, the actor stays dead."""
    gone_timeout_s: float = 60.0
    """Seconds with no chunk from any acting process (all dead, or none answering) after which
    the trainer saves a checkpoint and stops with a message, instead of waiting for ever."""
    start_timeout_s: float = 600.0
    """Seconds the processes may take to start: each builds its envs and compiles the numba
    kernels its host has not cached yet (a minute or two on a new host, more with every core
    compiling at once) before the run's clock for `gone_timeout_s` starts."""


@dataclass(frozen=True)
class RayConfig:
    """The Ray cluster the actors run on (actors.backend = "ray")."""

    address: str = ""
    """HOST:PORT of a running cluster to join (started with Ray's own `ray start --head` on the
    learner host and `ray start --address=HOST:PORT` on the actor hosts).  Empty: a local
    cluster private to this run, on 127.0.0.1, without Ray's dashboard."""
    num_cpus: int = 0
    """CPUs a local cluster may schedule actors on; 0 = the CPUs this process may use."""


@dataclass(frozen=True)
class ExpertConfig:
    """The expert curriculum: the share of actions a scripted expert takes, and how it anneals."""

    enabled: bool = True
    """Let the game's scripted expert drive a share of the actions."""
    policy: Literal["auto", "attract"] = "auto"
    """Which expert: "auto" = the game's scripted expert (Tempest-v0: the expert of the system
    this replaces; ALE Pong and Breakout: the screen experts); "attract" = Tempest's own
    attract-mode AI, a weaker teacher."""
    ratio_start: float = 0.0
    """Share of actions taken by the expert at frame 0.  0 on Tempest: the network learns its
    own game sooner from its own steps than from the expert's trajectories (README, "Who acts
    early"): with the expert never driving two 5-minute runs passed the expert (1.15x, 1.13x on
    the README's seeds) where 0.5 took about 10 minutes, and the hour ended level with the 0.5
    runs (9,316 against 9,290-11,503).  The expert still labels every state (agreement, the
    imitation term), and the dashboard's keys hand it the wheel."""
    ratio_floor: float = 0.0
    """The share never anneals below this; raising it is a remedy when the network's play
    collapses."""
    anneal: Literal["linear", "multiplicative"] = "linear"
    """Schedule shape: "linear" falls straight to the floor over anneal_frames; "multiplicative"
    decays."""
    anneal_frames: int = 5_000_000
    """Linear anneal: emulator frames from ratio_start down to ratio_floor."""
    decay_per_interval: float = 0.996
    """Multiplicative anneal: factor applied every interval_frames."""
    interval_frames: int = 10_000
    """Multiplicative anneal: emulator frames between two decay steps."""


@dataclass(frozen=True)
class ImitationConfig:
    """The imitation term: a large-margin loss that pulls the network's greedy action towards the
    expert's label on every labelled state it learns from (DQfD, Hester et al. 2018), whose weight
    fades as the network's evaluated score passes its teacher's (QDagger, Agarwal et al. 2022).

    Added to the TD loss: weight x mean over the batch's labelled states of
    max_a [Q(s, a) + margin (a != a_E)] - Q(s, a_E), each state weighted by its PER importance
    weight.  The labels come on the states the network itself visits (DAgger's setting), whoever
    acted, so the term costs no extra acting."""

    weight: float = 0.0
    """lambda_0, the term's weight at frame 0 beside the TD loss (whose weight is 1); 0 = off.
    Off for Tempest: measured neutral at 0.1 (60-minute runs, README) and harmful at 1, since many
    of its 44 actions are equivalent in a state and the expert's exact one cannot be singled out;
    the ALE presets turn it on."""
    margin: float = 0.8
    """How far above every other action the expert's action must be valued before the term is
    satisfied, in units of the largest learning reward one step can give as configured (1 with
    sign-clipped ALE rewards, env.reward_clip for Tempest-v0, one game point for unclipped ALE
    rewards; times the running reward scale with learner.normalize_rewards), so it lives in the
    units of the Q-values whatever the game.  0.8: DQfD's margin on clipped rewards."""
    anneal_frames: int = 0
    """Frames (from the schedules' origin) over which the weight falls linearly from weight to 0;
    0 = no anneal (the evaluation gate alone fades it)."""
    stop_frame: int = 0
    """From this frame on (counted like anneal_frames) the weight is 0 whatever else says; 0 =
    never."""
    by_class: bool = False
    """Ask for the expert's class of action rather than its exact action: the best action of the
    expert's class must be valued `margin` above every action of another class (Tempest: a class
    is the same buttons and spinner direction at any speed; ALE's actions are each their own
    class, so there it changes nothing).  Why: in a Tempest state several spinner speeds reach
    the same lane, so the expert's exact speed cannot be told apart by the values.  Pong: its FIRE
    button changes the play in 1% of states (envs.ale.FIRE_SELDOM_MATTERS), so an action and its
    twin with FIRE are one class; the other ALE games' actions are each their own class, so there
    it changes nothing.  Off by default: measured on Tempest at weight 1 (3M frames), no better
    than exact labels and both below no term; the margin's size, not the equivalent actions, held
    the network there (README)."""
    gate: bool = True
    """Scale the weight by max(0, 1 - G_net / G_expert) (QDagger): G_net is the network's latest
    greedy evaluation, G_expert the expert's score by the same protocol on the same seeds,
    measured once by the run at its first evaluation.  When the network matches its teacher the
    term is gone, so it cannot cap the network at the teacher's level.  Before the first
    evaluation the gate is open (1); without evaluations (actor.eval_every_frames 0) or without
    an expert it stays open."""
    gate_floor: float = 0.0
    """The score of the worst play, in game points by the evaluation protocol: the gate counts
    both scores from it, max(0, 1 - (G_net - floor) / (G_expert - floor)).  0 (QDagger's ratio)
    where a game is scored in gains (Tempest, Breakout).  Pong's is -21, a game lost 21-0: counted
    from there the term fades as the network closes the gap, not only once its score turns
    positive."""


@dataclass(frozen=True)
class CurriculumConfig:
    """Tempest's start-wave curriculum: new games start at waves drawn from a distribution that
    moves up the arcade's skill-step waves (1, 3, 5, ... 81) as the network clears them.

    Why: one life from wave 1 rarely reaches wave 6, so the later waves (spikes, pulsars,
    fuseballs, faster enemies) are almost never in the replay, and a whole game from wave 13 is
    a game the network has barely seen.  The frontier is the highest start wave in use; at each
    evaluation the network also plays one-life episodes started at the frontier, and the share
    that clear it (reach the next wave) decides whether it moves up one skill step or back down
    one.  The dashboard and the control channel show and pin it."""

    enabled: bool = True
    """On for Tempest (the ALE presets and the smoke preset, which has no evaluations, turn it
    off; it needs Tempest-v0's waves and the evaluations to move).  On the tuning seed, 60
    minutes beside the same run without it, whole games from wave 13 scored 86,533 against
    21,118 and from wave 1 28,876 against 26,716, one life from wave 1 level (11,618 against
    11,829): the later waves enter the replay without costing the first (README)."""
    wave1_share: float = 0.25
    """Share of new games that start at wave 1 whatever the frontier, so the early waves stay in
    the replay and are not forgotten."""
    frontier_share: float = 0.5
    """Share of new games that start at the frontier, where the clear rate is decided; the rest
    (1 - wave1_share - frontier_share) start at the skill-step waves between wave 1 and the
    frontier, uniformly, so no wave in between goes unseen."""
    promote_clear_rate: float = 0.5
    """The frontier moves up one skill step when at least this share of the frontier's one-life
    evaluation episodes clear it: half the lives pass the wave, a level worth building on."""
    demote_clear_rate: float = 0.1
    """It moves back down one step when fewer than this share clear it: a frontier the network
    no longer holds (well below promote_clear_rate, so evaluation noise does not make it
    oscillate)."""
    max_wave: int = 81
    """The frontier stops at the highest skill-step wave at or below this (81: the arcade's last
    choice)."""
    eval_episodes: int = 10
    """One-life episodes started at the frontier at each evaluation (on the evaluation seeds),
    the clear rate's sample: 10 tells 0.5 from 0.1 reliably for what it costs (a few seconds)."""


@dataclass(frozen=True)
class MetricsConfig:
    """What the run records."""

    interval_s: float = 2.0
    """Seconds of training between two rows of metrics.jsonl."""
    tensorboard: bool = False
    """Also write every row's numbers as TensorBoard scalars to run_dir/name/tensorboard (needs
    the tensorboard package: pip install -e '.[tensorboard]')."""


@dataclass(frozen=True)
class DoctorConfig:
    """The training doctor (metrics/doctor/): which patterns of seeds/ it flags, and when.

    Thresholds count in rows (one every metrics.interval_s, 2 s by default) and compare a row with
    the median of the rows before it, so they hold for any game's reward and loss scale. Each
    default sits between the worst a healthy 20M-frame Tempest run showed and what a failure
    report in seeds/ recorded (tests/metrics/test_doctor.py replays both)."""

    enabled: bool = True
    """Run the doctor live on every row; findings go to events.jsonl and the dashboard."""
    guard: bool = False
    """Guard mode: on q_divergence, loss_explosion or nonfinite the trainer rolls back to the last
    checkpoint saved before the onset and applies the finding's first remedy."""
    max_rollbacks: int = 3
    """Guard mode gives up (keeps training, keeps reporting) after this many rollbacks."""
    rearm_rows: int = 30
    """Rows a condition must stay absent before its code may fire again (30 rows = 1 min), so a
    live run reports a problem once instead of every 2 s."""
    baseline_rows: int = 30
    """Rows before the current one whose median is the baseline of Q, loss and gradient norms (1
    min: long enough that one bad row does not move it, short enough to follow slow drift)."""
    min_baseline_rows: int = 5
    """Rows needed before a baseline exists; right after the start or a guard rollback nothing is
    compared until then."""
    q_divergence_factor: float = 4.0
    """q_divergence: the largest |Q| reached this multiple of its baseline. The healthy run never
    passed 3.5x (2.6x once |Q| >= 10); seed 003's Q max went 324 -> 1308 -> 1779 (4x, 5.5x). Q above
    the largest return the rewards allow (reward clip / (1 - gamma)) also counts."""
    q_divergence_floor: float = 10.0
    """q_divergence ignores |Q| below this: early learning moves Q from ~0 to a few units fast (3.5x
    a minute in the healthy run); the seeds' divergences were in the hundreds and thousands."""
    q_divergence_bound_share: float = 0.05
    """...and, where the run's settings give the largest return the rewards allow (reward clip /
    (1 - gamma)), below this share of it (Tempest: 0.05 x 1000 = 50; Pong's clipped rewards: 5).
    Early learning takes |Q| from ~0 to the scale of a few rewards within a minute, faster at a
    high lr (a real Tempest run at lr 0.01: Q min -0.96 -> -13.4 in 3 rows): learning, not the
    hundreds-to-thousands of seed 003."""
    q_collapse_factor: float = 10.0
    """q_collapse: the Q range (max - min) shrank to 1/this of its baseline. Seed 003's range fell
    2001 -> 19 (100x) in one row; the healthy run never went below 0.65x."""
    loss_explosion_factor: float = 4.0
    """loss_explosion: the loss reached this multiple of its baseline. The healthy run stayed below
    1.41x; seed 000 went 36k -> 159k (4.4x), seed 004 0.126 -> 5194, seed 002 1.0 -> 998,830."""
    grad_spike_factor: float = 10.0
    """A gradient spike: a row's largest gradient norm is this multiple of its baseline (the
    healthy run reached 4.6x; seed 004 speaks of gradients 100x normal). With clipping off or never
    engaged it is clip_inactive, otherwise grad_instability."""
    grad_swing_rows: int = 6
    """grad_instability: rows searched for a swing (clipped hard, then not, then hard again)."""
    clip_swing: float = 0.3
    """A swing row's ClipΔ is at least this much below the window's highest ClipΔ (seed 003: ClipΔ
    0.569 to 1.000, "sometimes clipping 43%, sometimes not at all")."""
    grad_swing_ratio: float = 1.5
    """...and the gradient norm's max/min over those rows is at least this (seed 003: 4.764 to
    8.787, 1.84x)."""
    clip_saturated_frac: float = 0.95
    """clip_saturated: the share of learner steps clipped is at least this (nearly every step)..."""
    clip_saturated_delta: float = 0.8
    """...and ClipΔ (post/pre-clip norm) is at most this: seed 003 reads ClipΔ "frequently < 0.8"
    as clipping, not the learning rate, setting the step size..."""
    clip_saturated_rows: int = 5
    """...for this many rows in a row (10 s); single clipped rows are what clipping is for."""
    agreement_peak_min: float = 0.5
    """agreement_collapse is judged only after agreement reached this within the window: an agent
    that outgrows its expert sits at 0.2-0.3 (the healthy run peaked at 0.33) and that is fine."""
    agreement_collapse_fraction: float = 0.6
    """agreement_collapse: agreement fell to this fraction of its peak in the window (seed 004:
    90% -> 50% -> 31% -> 10%; its 79-76% drift before that was not yet the collapse)."""
    agreement_window_rows: int = 150
    """Rows (5 min) the agreement peak is taken over: seed 004 fell from 90% to 50% in ~600
    learner steps, while outgrowing the expert takes millions of frames."""
    agreement_fade_rows: int = 150
    """Rows after the imitation term's weight last fell (its anneal, its evaluation gate, its
    stop frame, or switched off by hand) in which agreement is not judged, and whose rows never
    serve as its peak: the term holds agreement up, and the network is meant to leave its
    teacher once the term fades.  A collapse while the weight holds steady, or from a peak
    reached this long after the fade, is still found.  150 rows = one agreement window."""
    reversal_rise_pct: float = 3.0
    """performance_reversal needs the median DQN5M slope of the lookback, before the slope turned
    negative, to be at least this many % of the DQN5M level per million frames: it was learning
    (seed 003: +1.131/M at ~7.4, 15%/M)..."""
    reversal_fall_pct: float = 1.5
    """...and now a slope of at most minus this %/M (seed 003: -0.190/M, -2.6%/M), while the loss
    fell. The healthy run's plateau dipped to -1.07%/M (about -50/M at 5,400)."""
    reversal_rows: int = 3
    """performance_reversal: rows the slope must have stayed negative (the DQN5M slope is already
    smoothed over 5M frames, so a few rows are enough to rule out one odd episode)."""
    reversal_lookback_frames: int = 5_000_000
    """Frames back in which the rising slope is looked for (the DQN5M window)."""
    reversal_min_frames: int = 1_000_000
    """performance_reversal is judged from this frame on, and on a lookback of at least
    min_baseline_rows rows: earlier, DQN5M averages a few dozen short episodes and its slope
    swings by thousands of % per M (a real healthy smoke run: +41,000%/M, then -4,200%/M, within
    10k frames). Seed 003 reversed at 17-20M frames."""
    lr_high: float = 0.001
    """lr_too_high when Q diverges or the loss explodes with the learning rate above this: seed 003
    diverged at 0.003 and recovered at 0.001. Also the rate its advice never goes above."""
    lr_raise_factor: float = 1.5
    """An lr raise: the rate went up at least this much from a flat value (the dashboard's "lr x2";
    warm-up is never flat)..."""
    lr_raise_window_rows: int = 150
    """...and divergence, an explosion or non-finite steps began within this many rows (5 min)."""
    lr_loss_rise_factor: float = 2.0
    """lr_too_high also when clipping stays saturated while the loss grows this much from the
    saturation's onset: the steps are as large as clipping allows and still make things worse."""


@dataclass(frozen=True)
class TuiConfig:
    """The live terminal dashboard."""

    enabled: bool = True
    """Show the dashboard when a terminal is attached (--no-tui turns it off)."""
    refresh_hz: float = 4.0
    """Dashboard redraws per second."""
    progress_every_s: float = 10.0
    """Without a dashboard: seconds between two printed progress lines."""


@dataclass(frozen=True)
class RunConfig:
    """The run: its name, where it lives, how long it lasts and how it is saved."""

    name: str = ""
    """Run name; files go to run_dir/name. Empty = derived from the env id, so the same command
    resumes."""
    run_dir: str = "runs"
    """Directory that holds the runs."""
    frames: int = 50_000_000
    """Total emulator frames to train for (all envs together)."""
    checkpoint_every_s: float = 600.0
    """Seconds between two checkpoints; 0 = only at the end of the run."""
    keep_checkpoints: int = 3
    """Numbered checkpoint generations kept besides latest/."""
    force_fresh_model: bool = False
    """Ignore the saved model and start fresh; the old run state is archived, never deleted
    (FORCE_FRESH_MODEL)."""
    reset_metrics: bool = False
    """Keep the weights but restart schedules (epsilon, expert ratio) and metric windows
    (RESET_METRICS)."""
    resume_from: str = ""
    """Resume from this checkpoint generation instead of latest: its name (gen-000006, or 6)
    or 'latest-good' (the newest that verifies). For a latest that no longer loads; the newer
    generations are moved to archive/, never deleted. A name rolls back to it every time the
    command runs; latest-good is the form to leave in a command. Empty = latest."""


@dataclass(frozen=True)
class Config:
    """The whole configuration: one section per component."""

    env: EnvConfig = field(default_factory=EnvConfig)
    """The game and the emulator settings."""
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    """The replay engine."""
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    """The optimiser, loss and stability remedies."""
    actor: ActorConfig = field(default_factory=ActorConfig)
    """Exploration and evaluation."""
    actors: ActorsConfig = field(default_factory=ActorsConfig)
    """Where acting runs: in process or on Ray actors."""
    ray: RayConfig = field(default_factory=RayConfig)
    """The Ray cluster (actors.backend = "ray")."""
    expert: ExpertConfig = field(default_factory=ExpertConfig)
    """The expert curriculum."""
    imitation: ImitationConfig = field(default_factory=ImitationConfig)
    """The imitation term towards the expert's labels."""
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    """Tempest's start-wave curriculum."""
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    """Recorded metrics."""
    doctor: DoctorConfig = field(default_factory=DoctorConfig)
    """The training doctor."""
    tui: TuiConfig = field(default_factory=TuiConfig)
    """The dashboard."""
    run: RunConfig = field(default_factory=RunConfig)
    """The run directory, length and checkpoints."""


SECTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config))
TEMPEST_ENV_ID = "Tempest-v0"
ENV_FLAGS: dict[str, str] = {
    "FORCE_FRESH_MODEL": "run.force_fresh_model",
    "RESET_METRICS": "run.reset_metrics",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


# ------------------------------------------------------------------------------------ field docs


@functools.cache
def _docs_by_class() -> dict[str, dict[str, str]]:
    """Reads every class's field docstrings (the string right below each annotated field)."""
    try:
        tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    except OSError:  # installed without sources: help loses its docs, nothing else breaks
        return {}
    result: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs: dict[str, str] = {}
        for stmt, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[stmt.target.id] = " ".join(following.value.value.split())
        result[node.name] = docs
    return result


def field_docs(cls: type) -> dict[str, str]:
    """Returns {field name: docstring} for a config dataclass, parsed from this file's source.

    Args:
        cls: one of the config dataclasses.

    Returns:
        The docstring of every field that has one (a missing key means a missing docstring).
    """
    return dict(_docs_by_class().get(cls.__name__, {}))


class FieldInfo(NamedTuple):
    """One overridable field, as `--help` shows it."""

    key: str
    annotation: Any
    default: object
    doc: str


@functools.cache
def _section_types(section: str) -> dict[str, Any]:
    return get_type_hints(type(getattr(Config(), section)))


def describe_fields(cfg: Config | None = None) -> Iterator[FieldInfo]:
    """Yields every `section.field` with its type, its value in `cfg` (default `Config()`), doc."""
    cfg = Config() if cfg is None else cfg
    for section in SECTIONS:
        part = getattr(cfg, section)
        docs = field_docs(type(part))
        for name, annotation in _section_types(section).items():
            yield FieldInfo(
                f"{section}.{name}", annotation, getattr(part, name), docs.get(name, "")
            )


def type_metavar(annotation: Any) -> str:
    """A short type name for help text: INT, FLOAT, BOOL, STR, {a,b} or INT,INT,..."""
    if get_origin(annotation) is Literal:
        return "{" + ",".join(get_args(annotation)) + "}"
    if get_origin(annotation) is tuple:
        return "INT,INT,..."
    return {bool: "BOOL", int: "INT", float: "FLOAT", str: "STR"}.get(annotation, "VALUE")


def describe_type(annotation: Any) -> str:
    """The expected type in words, for error messages."""
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(c) for c in get_args(annotation))
    if get_origin(annotation) is tuple:
        return "a comma-separated list of integers (e.g. 256,256)"
    return {
        bool: "a boolean (true/false, yes/no, on/off, 1/0)",
        int: "an integer",
        float: "a number",
        str: "a string",
    }.get(annotation, str(annotation))


# -------------------------------------------------------------------------------------- coercion


def _to_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | (_FALSE - {""}):
        return raw.strip().lower() in _TRUE
    raise ValueError(raw)


def _to_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise TypeError(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            raw = float(raw)  # "1e6" is a fine way to write a frame count
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    raise ValueError(raw)


def _to_float(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise TypeError(raw)
    value = float(raw.strip() if isinstance(raw, str) else raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _to_literal(raw: object, choices: tuple[str, ...]) -> str:
    if isinstance(raw, str):
        for choice in choices:
            if raw.strip().lower() == choice.lower():
                return choice
    raise ValueError(raw)


def _to_int_tuple(raw: object) -> tuple[int, ...]:
    if isinstance(raw, str):
        items: list[object] = [s for s in raw.strip().strip("()[]").split(",") if s.strip()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise TypeError(raw)
    return tuple(_to_int(item) for item in items)


def _convert(raw: object, annotation: Any) -> object:
    """Turns a string (command line) or a parsed value (file) into the annotated type."""
    if get_origin(annotation) is Literal:
        return _to_literal(raw, get_args(annotation))
    if get_origin(annotation) is tuple:
        return _to_int_tuple(raw)
    if annotation is str:
        if not isinstance(raw, str):
            raise TypeError(raw)
        return raw
    converters = {bool: _to_bool, int: _to_int, float: _to_float}
    return converters[annotation](raw)


def _coerce(key: str, raw: object, annotation: Any) -> object:
    try:
        return _convert(raw, annotation)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} expects {describe_type(annotation)}, got {raw!r}") from None


# ------------------------------------------------------------------------------------- overrides


def _all_keys() -> list[str]:
    return [f"{s}.{name}" for s in SECTIONS for name in _section_types(s)]


def suggest_keys(key: str) -> list[str]:
    """The valid `section.field` names nearest to a mistyped, bare or misplaced `key`."""
    section, _, name = key.replace("-", "_").rpartition(".")
    keys = _all_keys()
    exact = [k for k in keys if k.endswith("." + name)]  # bare or misplaced: 'lr', 'env.gamma'
    if exact:
        return exact
    if section in SECTIONS:  # a typo inside a valid section: 'learner.lrr'
        close = difflib.get_close_matches(name, list(_section_types(section)), n=1, cutoff=0.6)
        if close:
            return [f"{section}.{close[0]}"]
    guesses = difflib.get_close_matches(f"{section}.{name}", keys, n=1, cutoff=0.75)
    if guesses:  # a typo in the section: 'lerner.lr'
        return guesses
    names = sorted({k.split(".")[1] for k in keys})
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return [k for k in keys if close and k.endswith("." + close[0])]


def _unknown_key_error(key: str) -> ConfigError:
    """Builds "unknown field 'learner.lrr'; did you mean 'learner.lr'?" and its relatives."""
    section = key.replace("-", "_").rpartition(".")[0]
    guesses = suggest_keys(key)
    if section and section not in SECTIONS:
        message = f"unknown section '{section}' in '{key}' (sections: {', '.join(SECTIONS)})"
    else:
        message = f"unknown field '{key}'"
    if guesses:
        message += "; did you mean " + " or ".join(f"'{g}'" for g in guesses) + "?"
    return ConfigError(message)


def _split_key(key: str) -> tuple[str, str]:
    """Normalises 'learner.max-grad-norm' to ('learner', 'max_grad_norm') or raises ConfigError."""
    norm = key.strip().replace("-", "_")
    section, dot, name = norm.partition(".")
    if not dot or section not in SECTIONS or name not in _section_types(section):
        raise _unknown_key_error(key.strip())
    return section, name


def apply_overrides(cfg: Config, overrides: Mapping[str, object]) -> Config:
    """Returns `cfg` with dotted-key overrides applied; the input is not modified (it is frozen).

    Args:
        cfg: the configuration to start from.
        overrides: {"learner.lr": "3e-4", "learner.hidden_sizes": [256, 256], ...}. Values may be
            strings (from the command line) or already-typed values (from a file); both are coerced
            to the field's annotated type. Dashes and underscores are equivalent in names.

    Raises:
        ConfigError: unknown section or field (with the nearest valid name), or a value that does
            not parse as the field's type.
    """
    changes: dict[str, dict[str, object]] = {}
    for key, raw in overrides.items():
        section, name = _split_key(key)
        annotation = _section_types(section)[name]
        changes.setdefault(section, {})[name] = _coerce(f"{section}.{name}", raw, annotation)
    sections = {s: replace(getattr(cfg, s), **values) for s, values in changes.items()}
    return replace(cfg, **sections)


def _flatten(mapping: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def to_dict(cfg: Config) -> dict[str, dict[str, object]]:
    """The configuration as nested plain data (tuples become lists), ready for `json.dumps`."""

    def plain(value: object) -> object:
        return list(value) if isinstance(value, tuple) else value

    return {
        section: {
            f.name: plain(getattr(getattr(cfg, section), f.name))
            for f in dataclasses.fields(getattr(cfg, section))
        }
        for section in SECTIONS
    }


SAVED_BEFORE_ADDED: dict[str, object] = {"env.lane_map": False, "env.shot_clock": False,
                                         "env.spike_clock": False}
"""Fields added after runs were saved, with the value those runs had.  A saved section without
such a key was written before the field existed, so it means that value, not today's default:
a checkpoint trained without the lane map evaluates and resumes on the observation it learned."""


def from_dict(data: Mapping[str, object]) -> Config:
    """Rebuilds a `Config` from `to_dict` output; missing fields take their defaults, except the
    fields of `SAVED_BEFORE_ADDED` in a section that is there (a configuration saved before they
    existed).

    `from_dict(to_dict(cfg)) == cfg` holds exactly. The result is not validated: call `validate`.

    Raises:
        ConfigError: unknown keys or values of the wrong type.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"a configuration must be a mapping of sections, got {type(data).__name__}"
        )
    flat = _flatten(data)
    for key, value in SAVED_BEFORE_ADDED.items():
        if key.split(".")[0] in data:
            flat.setdefault(key, value)
    return apply_overrides(Config(), flat)


# --------------------------------------------------------------------------------------- presets


def _preset(changes: Mapping[str, object]) -> Config:
    return apply_overrides(Config(), changes)


_ALE_COMMON: dict[str, object] = {
    "curriculum.enabled": False,  # Tempest's start waves: an ALE game has none
    "env.num_envs": 8,
    "env.episodic_life": True,
    "env.clip_rewards": True,
    "env.max_episode_frames": 108_000,
    "replay.prioritized": False,
    "replay.n_step": 3,
    "learner.batch_size": 32,
    "learner.micro_batches": 1,
    "learner.tau": 1.0,
    "learner.hard_update_every": 2_500,  # = 10k agent steps at one update per 4 steps
    "learner.dueling": False,
    "learner.layer_norm": False,
    "learner.hidden_sizes": (512,),
    "learner.lr_warmup_steps": 0,
    "learner.lr": 1e-4,
    "learner.adam_eps": 1.5e-4,
    "learner.compile": True,  # the Nature CNN at batch 32: 17 ms a step instead of 24
    "learner.replay_ratio": 2.0,  # Nature DQN: batch 32 every 4 agent steps of 4 frames
    # The expert labels every state, so the network need not wait for a large random replay nor
    # explore for long: with the imitation term Pong is within 3 points of even by 1M frames
    # (README).
    "learner.learning_starts": 100_000,
    "actor.epsilon_decay_frames": 1_000_000,
    # The imitation term, margin 0.8 on clipped rewards (DQfD's): Pong after 2.5M frames (60
    # minutes on 2 cores), 10 seeded games: +7.5 with it, -6.4 without; Breakout after 90 minutes
    # beside another run: 147.6 with it, 19.3 without, and 146.0 with it alone on the machine
    # (README); the gate fades it as the network's evaluation nears the expert's.
    "imitation.weight": 1.0,
    # The gate reads the evaluations: every 500k frames so that it follows the network closely.
    "actor.eval_every_frames": 500_000,
    "expert.ratio_start": 0.25,
    "expert.ratio_floor": 0.0,
    "expert.anneal_frames": 2_000_000,
    "run.frames": 40_000_000,
}

_TEMPEST_GPU: dict[str, object] = {
    # One large card (an H100/H200 or an RTX 6000 Ada) and the 16+ cores beside it.  A starting
    # point reasoned from the CPU measurements, NOT yet measured on a GPU (README).
    "learner.device": "cuda",
    # The Tempest simulator steps every env in one numba call, so 256 envs cost little more per
    # vector step than 32; the actor's forward pass and the replay write are per vector step too.
    "env.num_envs": 256,
    # 16,384 in one micro-batch: the MLP's activations at that size are ~100 MB; splitting it
    # would only add launches and synchronisations on a card that holds it whole.
    "learner.batch_size": 16_384,
    "learner.micro_batches": 1,
    # Twice the CPU preset's samples per frame: at ~300k frames/s from the simulator a step of
    # 16,384 is due every 8k frames (27 ms), ample for a GPU's few-ms step; more reuse keeps
    # the card busy without starving the replay of fresh data (Ape-X-like ratios).
    "learner.replay_ratio": 8.0,
    # 256 envs with 2M transitions keep ~7,800 steps per env ring, several one-life episodes.
    "replay.capacity": 2_000_000,
    # Sampling 16,384 rows of two observations (25 MB a batch) wants the cores.
    "replay.sample_threads": 8,
    # Fused kernels: an MLP step on a GPU is bound by kernel launches, not arithmetic.
    "learner.compile": True,
    # The device's first step waits for a batch of 16,384 from 4x the CPU preset's envs.
    "learner.learning_starts": 200_000,
}

PRESETS: dict[str, Config] = {
    "tempest": Config(),
    "tempest-gpu": _preset(_TEMPEST_GPU),
    "smoke": _preset(
        {
            "env.num_envs": 2,
            "replay.capacity": 5_000,
            "replay.n_step": 3,
            "replay.beta_frames": 4_000,
            "learner.batch_size": 64,
            "learner.micro_batches": 2,
            "learner.hidden_sizes": (64, 64),
            "learner.lr_warmup_steps": 0,
            "learner.learning_starts": 500,
            "learner.replay_ratio": 1.0,
            "actor.epsilon_decay_frames": 2_000,
            "actor.eval_every_frames": 0,
            "actor.eval_episodes": 1,
            "curriculum.enabled": False,  # it moves at evaluations, and smoke runs have none
            "actor.learner_thread": False,
            # The expert curriculum kept on here so that the smoke run exercises the mixer.
            "expert.ratio_start": 0.5,
            "expert.ratio_floor": 0.05,
            "expert.anneal_frames": 2_000,
            "metrics.interval_s": 0.5,
            "tui.enabled": False,
            "run.frames": 4_000,
            "run.checkpoint_every_s": 0.0,
        }
    ),
    "pong": _preset({**_ALE_COMMON, "env.id": "ALE/Pong-v5", "replay.capacity": 200_000}),
    "breakout": _preset({**_ALE_COMMON, "env.id": "ALE/Breakout-v5"}),
}
DEFAULT_PRESET = "tempest"


def get_preset(name: str) -> Config:
    """Returns the named preset, or raises ConfigError listing the valid names."""
    if name in PRESETS:
        return PRESETS[name]
    guess = difflib.get_close_matches(name, list(PRESETS), n=1)
    hint = f" (did you mean '{guess[0]}'?)" if guess else ""
    raise ConfigError(f"unknown preset '{name}'{hint}; valid presets: {', '.join(sorted(PRESETS))}")


# --------------------------------------------------------------------------------------- sources


def _parse_toml(path: Path) -> object:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # the message carries "(at line L, column C)"
        raise ConfigError(f"cannot parse config file {path}: {exc}") from None


def _parse_yaml(path: Path) -> object:
    try:
        import yaml
    except ImportError:
        raise ConfigError(f"reading {path} needs PyYAML: pip install pyyaml") from None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"cannot parse config file {path}{where}: {problem}") from None


def load_config_file(path: str | os.PathLike[str]) -> dict[str, object]:
    """Reads a .toml or .yaml/.yml file into dotted-key overrides.

    Sections are tables (`[learner]` / `learner:`) holding fields; an optional top-level
    `preset = "pong"` names the base preset and is returned under the key "preset".

    Raises:
        ConfigError: missing file, unknown extension, syntax error (with line and column), or a
            shape that is not a mapping of sections.
    """
    file = Path(path)
    parsers = {".toml": _parse_toml, ".yaml": _parse_yaml, ".yml": _parse_yaml}
    if file.suffix.lower() not in parsers:
        raise ConfigError(f"config file {file}: unsupported extension; use .toml, .yaml or .yml")
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    try:
        data = parsers[file.suffix.lower()](file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {file}: {exc}") from None
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {file} must hold a mapping of sections (e.g. [learner])")
    preset = data.get("preset")
    if preset is not None and not isinstance(preset, str):
        raise ConfigError(f"config file {file}: preset must be a string, got {preset!r}")
    return _flatten(data)


def _flag_value(variable: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ConfigError(
        f"environment variable {variable}={raw!r} is not a yes/no value; "
        "use 1/true/yes/on or 0/false/no/off"
    )


def environment_overrides(environ: Mapping[str, str]) -> dict[str, object]:
    """Maps FORCE_FRESH_MODEL / RESET_METRICS (when set) onto their `run.*` fields."""
    return {key: _flag_value(var, environ[var]) for var, key in ENV_FLAGS.items() if var in environ}


def resolve(
    preset: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Builds the validated configuration: preset -> file -> environment -> overrides (later wins).

    Args:
        preset: preset name; None takes the file's `preset`, else DEFAULT_PRESET.
        config_file: optional .toml/.yaml file of overrides.
        overrides: dotted-key overrides from the command line (highest precedence).
        environ: the process environment (default `os.environ`); pass a dict in tests.

    Raises:
        ConfigError: anything wrong, from an unknown preset to an invalid value.
    """
    from_file = load_config_file(config_file) if config_file is not None else {}
    file_preset = from_file.pop("preset", None)
    cfg = get_preset(preset or str(file_preset or DEFAULT_PRESET))
    try:
        cfg = apply_overrides(cfg, from_file)
    except ConfigError as exc:
        raise ConfigError(f"{config_file}: {exc}") from None
    cfg = apply_overrides(cfg, environment_overrides(os.environ if environ is None else environ))
    cfg = apply_overrides(cfg, overrides or {})
    validate(cfg)
    return cfg


# ------------------------------------------------------------------------------------ validation


def _type_ok(value: object, annotation: Any) -> bool:
    if get_origin(annotation) is Literal:
        return value in get_args(annotation)
    if get_origin(annotation) is tuple:
        return isinstance(value, tuple) and all(_type_ok(v, int) for v in value)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


_POSITIVE_INT = (
    "env.num_envs env.frame_skip env.frame_stack replay.capacity replay.n_step "
    "replay.sample_threads "
    "learner.batch_size learner.micro_batches actor.eval_episodes expert.interval_frames "
    "curriculum.eval_episodes run.frames run.keep_checkpoints actors.num actors.chunk_steps "
    "actors.sync_every "
    "doctor.rearm_rows doctor.baseline_rows doctor.min_baseline_rows doctor.grad_swing_rows "
    "doctor.clip_saturated_rows doctor.agreement_window_rows doctor.reversal_rows "
    "doctor.agreement_fade_rows "
    "doctor.reversal_lookback_frames doctor.lr_raise_window_rows doctor.reversal_min_frames"
).split()
_POSITIVE = (
    "learner.lr learner.adam_eps learner.huber_delta learner.replay_ratio replay.priority_eps "
    "metrics.interval_s tui.refresh_hz tui.progress_every_s actors.gone_timeout_s "
    "actors.start_timeout_s "
    "doctor.reversal_rise_pct doctor.reversal_fall_pct doctor.lr_high"
).split()
_NON_NEGATIVE = (
    "env.seed env.noop_max env.max_episode_frames env.reward_death_penalty "
    "env.reward_objective_scale env.reward_subjective_scale env.reward_zap_penalty env.reward_clip "
    "replay.seed replay.beta_frames learner.lr_end "
    "learner.lr_warmup_steps learner.hard_update_every learner.max_grad_norm "
    "learner.td_target_clamp learner.learning_starts actor.epsilon_decay_frames "
    "actor.eval_every_frames actor.learner_thread_min_cpus expert.anneal_frames "
    "imitation.weight imitation.margin imitation.anneal_frames imitation.stop_frame "
    "run.checkpoint_every_s doctor.max_rollbacks doctor.q_divergence_floor actors.ladder_alpha "
    "actors.max_restarts ray.num_cpus"
).split()
_UNIT_INTERVAL = (
    "env.sticky_action_prob replay.alpha replay.beta_start replay.beta_end "
    "actor.epsilon_start actor.epsilon_end actor.eval_epsilon expert.ratio_start expert.ratio_floor"
    " curriculum.wave1_share curriculum.frontier_share curriculum.promote_clear_rate"
    " curriculum.demote_clear_rate"
    " doctor.clip_swing doctor.clip_saturated_frac doctor.clip_saturated_delta "
    "doctor.agreement_peak_min doctor.agreement_collapse_fraction doctor.q_divergence_bound_share"
).split()
_HALF_OPEN = ("learner.gamma", "learner.tau", "expert.decay_per_interval")
_ABOVE_ONE = (
    "doctor.q_divergence_factor doctor.q_collapse_factor doctor.loss_explosion_factor "
    "doctor.grad_spike_factor doctor.grad_swing_ratio doctor.lr_raise_factor "
    "doctor.lr_loss_rise_factor"
).split()
"""Multiples that define "grew" or "shrank": 1 or less would flag every row."""


def _range_errors(v: Mapping[str, Any]) -> list[str]:
    """Per-field range checks on the flattened configuration."""
    errors = [f"{k} must be a positive integer, got {v[k]}" for k in _POSITIVE_INT if v[k] < 1]
    errors += [f"{k} must be greater than 0, got {v[k]}" for k in _POSITIVE if v[k] <= 0]
    errors += [f"{k} must be 0 or more, got {v[k]}" for k in _NON_NEGATIVE if v[k] < 0]
    errors += [f"{k} must be in [0, 1], got {v[k]}" for k in _UNIT_INTERVAL if not 0 <= v[k] <= 1]
    errors += [f"{k} must be in (0, 1], got {v[k]}" for k in _HALF_OPEN if not 0 < v[k] <= 1]
    errors += [f"{k} must be greater than 1, got {v[k]}" for k in _ABOVE_ONE if v[k] <= 1]
    for key in ("env.start_wave", "curriculum.max_wave"):
        if not 1 <= v[key] <= 99:
            errors.append(f"{key} must be a wave from 1 to 99, got {v[key]}")
    if not v["learner.hidden_sizes"] or min(v["learner.hidden_sizes"]) < 1:
        errors.append(
            "learner.hidden_sizes must list one or more positive layer widths, "
            f"got {v['learner.hidden_sizes']}"
        )
    return errors


def replay_streams(cfg: Config) -> int:
    """The replay's env streams: every env of every acting process keeps its own ring, so an
    n-step window never joins two envs' steps (Ray actors: env.num_envs each)."""
    per_process = cfg.env.num_envs
    return per_process * cfg.actors.num if cfg.actors.backend == "ray" else per_process


def _size_errors(v: Mapping[str, Any]) -> list[str]:
    """Batch and replay sizes that must fit each other."""
    errors = []
    batch, micro = v["learner.batch_size"], v["learner.micro_batches"]
    if batch >= 1 and micro >= 1 and batch % micro:
        errors.append(
            f"learner.batch_size ({batch}) must be divisible by learner.micro_batches ({micro}) "
            "so that every micro-batch has the same size"
        )
    streams = v["env.num_envs"] * (v["actors.num"] if v["actors.backend"] == "ray" else 1)
    rows, need = v["replay.capacity"] // max(streams, 1), v["replay.n_step"] + 2
    need = max(need, v["env.frame_stack"] + 2)
    if v["replay.capacity"] >= 1 and rows < need:
        streams_named = ("env.num_envs x actors.num" if v["actors.backend"] == "ray"
                         else "env.num_envs")
        errors.append(
            f"replay.capacity // {streams_named} = {rows} rows per environment; the replay "
            f"needs at least max(replay.n_step, env.frame_stack) + 2 = {need}"
        )
    if batch >= 1 and v["replay.capacity"] < batch:
        errors.append(
            f"replay.capacity ({v['replay.capacity']}) must be at least "
            f"learner.batch_size ({batch})"
        )
    return errors


def _relation_errors(v: Mapping[str, Any]) -> list[str]:
    """Other checks that involve two fields."""
    errors = []
    if v["expert.ratio_floor"] > v["expert.ratio_start"]:
        errors.append(
            f"expert.ratio_floor ({v['expert.ratio_floor']}) must not be above "
            f"expert.ratio_start ({v['expert.ratio_start']})"
        )
    if v["learner.tau"] == 1 and v["learner.hard_update_every"] == 0:
        errors.append(
            "learner.tau = 1 disables soft updates and learner.hard_update_every = 0 disables "
            "hard copies, so the target network would never move; set one of them"
        )
    if v["learner.lr_end"] > v["learner.lr"] and v["learner.lr_decay"] != "none":
        errors.append(f"learner.lr_end ({v['learner.lr_end']}) must not exceed learner.lr")
    if v["doctor.min_baseline_rows"] > v["doctor.baseline_rows"]:
        errors.append(
            f"doctor.min_baseline_rows ({v['doctor.min_baseline_rows']}) must not exceed "
            f"doctor.baseline_rows ({v['doctor.baseline_rows']})"
        )
    errors += _curriculum_errors(v)
    name = v["run.name"]
    if "/" in name or "\\" in name or name in (".", ".."):
        errors.append(f"run.name must be a plain directory name, got {name!r}")
    if not v["run.run_dir"].strip():
        errors.append("run.run_dir must not be empty")
    errors += _resume_errors(v["run.resume_from"], v["run.force_fresh_model"])
    errors += _ray_errors(v)
    return errors


def _ray_errors(v: Mapping[str, Any]) -> list[str]:
    """The Ray settings: an address to join is HOST:PORT."""
    address = v["ray.address"]
    if address and not re.fullmatch(r"[^\s:/]+:\d{1,5}", address):
        return [f"ray.address must be HOST:PORT (as `ray start --head` prints it), got "
                f"{address!r}"]
    return []


def _curriculum_errors(v: Mapping[str, Any]) -> list[str]:
    """The curriculum's shares must leave room for each other, its thresholds must be ordered,
    and it needs Tempest's waves and the evaluations that move it."""
    errors = []
    if v["curriculum.wave1_share"] + v["curriculum.frontier_share"] > 1:
        errors.append(f"curriculum.wave1_share + curriculum.frontier_share must not exceed 1, got "
                      f"{v['curriculum.wave1_share']} + {v['curriculum.frontier_share']}")
    if v["curriculum.demote_clear_rate"] >= v["curriculum.promote_clear_rate"]:
        errors.append(f"curriculum.demote_clear_rate ({v['curriculum.demote_clear_rate']}) must "
                      f"be below curriculum.promote_clear_rate "
                      f"({v['curriculum.promote_clear_rate']})")
    if v["curriculum.enabled"] and v["env.id"] != TEMPEST_ENV_ID:
        errors.append(f"curriculum.enabled needs {TEMPEST_ENV_ID}'s waves; {v['env.id']} has "
                      "none: set curriculum.enabled false (the ALE presets do, e.g. --preset "
                      "pong)")
    if v["curriculum.enabled"] and v["actor.eval_every_frames"] == 0:
        errors.append("curriculum.enabled needs evaluations to move the frontier; set "
                      "actor.eval_every_frames above 0, or curriculum.enabled false")
    return errors


def _resume_errors(resume_from: str, fresh: bool) -> list[str]:
    """run.resume_from names a generation or 'latest-good', and cannot go with a fresh start."""
    if not resume_from:
        return []
    if not re.fullmatch(r"latest-good|(gen-)?\d+", resume_from):
        return [f"run.resume_from must be 'latest-good' or a generation (gen-000006, or 6), "
                f"got {resume_from!r}"]
    if fresh:
        return ["run.resume_from and run.force_fresh_model (--fresh) contradict each other: "
                "resume from a generation, or start fresh"]
    return []


def validate(cfg: Config) -> None:
    """Checks types, ranges, cross-field rules and the env id.

    Raises:
        ConfigError: every problem found, one per line, each naming the field and its value.
    """
    flat = {info.key: info.default for info in describe_fields(cfg)}
    wrong = [
        f"{info.key} expects {describe_type(info.annotation)}, got {info.default!r}"
        for info in describe_fields(cfg)
        if not _type_ok(info.default, info.annotation)
    ]
    if wrong:
        raise ConfigError("\n".join(wrong))
    errors = _range_errors(flat) + _size_errors(flat) + _relation_errors(flat)
    env_error = check_env_id(cfg.env.id)
    if env_error:
        errors.append(env_error)
    if errors:
        raise ConfigError("\n".join(errors))


# ------------------------------------------------------------------------------ derived values


def step_reward_bound(env: EnvConfig) -> float | None:
    """The largest |learning reward| one agent step can give under `env`, or None when the
    configuration bounds nothing (ALE without clip_rewards).

    1 for sign-clipped rewards; Tempest-v0's reward_clip, or without a clip its largest
    configured charge (the death or superzap penalty, in learning units)."""
    if env.id == TEMPEST_ENV_ID:
        if env.reward_clip > 0:
            return env.reward_clip
        charge = max(env.reward_death_penalty, env.reward_zap_penalty)
        return charge * env.reward_objective_scale or None
    return 1.0 if env.clip_rewards else None


def imitation_margin(cfg: Config) -> float:
    """`imitation.margin` in the units of the Q-values (before learner.normalize_rewards, which
    the learner applies as it applies it to the rewards): the margin times the step reward
    bound, or times one game point where the rewards are unbounded (unclipped ALE)."""
    bound = step_reward_bound(cfg.env)
    return cfg.imitation.margin * (1.0 if bound is None else bound)


# --------------------------------------------------------------------------------------- env ids


ALE_ID = re.compile(r"ALE/([A-Za-z0-9]+)-v5")
"""An ALE env id; group 1 is the game's PascalCase name."""


@functools.cache
def ale_rom_ids() -> dict[str, str] | None:
    """PascalCase game name -> ale-py ROM id ("SpaceInvaders" -> "space_invaders") for every
    ROM ale-py ships (the rule ale-py's own registration names its `ALE/<Game>-v5` ids by), or
    None without ale-py."""
    try:
        from ale_py.roms import get_all_rom_ids
    except ImportError:
        return None
    return {rom.title().replace("_", ""): rom for rom in get_all_rom_ids()}


def _env_suggestions(env_id: str, candidates: list[str]) -> list[str]:
    def bare(name: str) -> str:  # 'ALE/Pong-v5', 'PongNoFrameskip-v4', 'pong' -> 'pong'
        return re.sub(r"^(ale/)|(noframeskip)?(-v\d+)?$", "", name.lower())

    lowered = {c.lower(): c for c in candidates}
    games = {bare(c): c for c in reversed(candidates)}  # Tempest-v0 wins over an ALE namesake
    if env_id.lower() in lowered:
        return [lowered[env_id.lower()]]
    if bare(env_id) in games:
        return [games[bare(env_id)]]
    guesses = difflib.get_close_matches(env_id, candidates, n=2, cutoff=0.8)
    return guesses or [games[g] for g in difflib.get_close_matches(bare(env_id), games, n=2)]


def check_env_id(env_id: str) -> str | None:
    """Returns why `env_id` is not a valid environment id, or None when it is.

    ALE ids are checked against the ROMs that ale-py ships (imported only here, only for ALE ids).
    """
    if env_id == TEMPEST_ENV_ID:
        return None
    games = ale_rom_ids()
    match = ALE_ID.fullmatch(env_id)
    if match and games is None:
        return f"env.id {env_id!r} needs ale-py, which is not installed: pip install ale-py"
    if match and match.group(1) in games:
        return None
    candidates = [TEMPEST_ENV_ID] + [f"ALE/{g}-v5" for g in games or ()]
    guesses = _env_suggestions(env_id, candidates)
    hint = " (did you mean " + " or ".join(f"'{g}'" for g in guesses) + "?)" if guesses else ""
    return (
        f"unknown env id {env_id!r}{hint}; valid forms: 'Tempest-v0' (the built-in simulator) "
        "and 'ALE/<Game>-v5' for a ROM shipped with ale-py (e.g. 'ALE/Pong-v5', 'ALE/Breakout-v5')"
    )
