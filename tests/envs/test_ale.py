"""The ALE adapter against the real emulator (ale-py's ROMs ship inside its wheel)."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
from gymnasium.spaces import Discrete

import envs.ale as envs_ale
from config import ConfigError, EnvConfig
from envs import make_vector_env
from envs.ale import AleVectorEnv, rom_id

BASE = EnvConfig(id="ALE/Pong-v5", num_envs=2, seed=0, episodic_life=False)


def make(game: str = "Pong", **changes: object) -> AleVectorEnv:
    env = make_vector_env(replace(BASE, id=f"ALE/{game}-v5", **changes))
    assert isinstance(env, AleVectorEnv)
    return env


def random_actions(env: AleVectorEnv, steps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, env.single_action_space.n, size=(steps, env.num_envs))


# ------------------------------------------------------------------------------- spaces, ids


def test_observations_are_stacked_84x84_uint8_frames() -> None:
    env = make()
    obs, _ = env.reset()
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (2, 4, 84, 84)
    obs, reward, terminated, truncated, info = env.step(np.zeros(2, np.int64))
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    assert reward.dtype == np.float32 and reward.shape == (2,)
    assert terminated.dtype == bool and truncated.dtype == bool
    assert info["lives"].shape == (2,) and info["raw_reward"].dtype == np.float32
    assert obs[:, -1].any(), "the newest frame holds the screen"
    env.close()


def test_frame_stack_follows_the_config() -> None:
    obs, _ = make(frame_stack=2, num_envs=1).reset()
    assert obs.shape == (1, 2, 84, 84)


def test_actions_are_discrete_with_meanings() -> None:
    pong, breakout = make("Pong"), make("Breakout")
    assert pong.single_action_space == Discrete(6)
    assert pong.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
    assert breakout.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    full = make("Pong", full_action_space=True)
    assert full.single_action_space == Discrete(18) and len(full.get_action_meanings()) == 18


def test_game_names_map_to_ale_rom_ids() -> None:
    assert rom_id("ALE/Pong-v5") == "pong"
    assert rom_id("ALE/SpaceInvaders-v5") == "space_invaders"
    assert rom_id("ALE/MsPacman-v5") == "ms_pacman"


def test_bad_actions_get_clear_errors() -> None:
    env = make()
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(np.zeros(2, np.int64))
    env.reset()
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        env.step(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        env.step(np.array([0, 6]))
    with pytest.raises(TypeError, match="integers"):
        env.step(np.zeros(2, np.float32))
    env.step(np.array([1, 2], np.uint8))  # any integer dtype is accepted
    env.step([0, 1])


def test_bad_settings_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="env.num_envs"):
        make(num_envs=0)
    with pytest.raises(ConfigError, match="sticky_action_prob"):
        make(sticky_action_prob=1.5)


# ----------------------------------------------------------------------------- determinism


def rollout(env: AleVectorEnv, actions: np.ndarray, seed: int | None = None) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    frames = [obs]
    for row in actions:
        frames.append(env.step(row)[0])
    return np.stack(frames)


def test_the_same_seed_gives_the_same_observations() -> None:
    actions = random_actions(make(), 150)
    first = rollout(make(sticky_action_prob=0.25, seed=3), actions)
    again = rollout(make(sticky_action_prob=0.25, seed=3), actions)
    np.testing.assert_array_equal(first, again)
    other = rollout(make(sticky_action_prob=0.25, seed=4), actions)
    assert not np.array_equal(first, other)


def test_env_i_is_seeded_with_seed_plus_i() -> None:
    actions = random_actions(make(), 100)
    pair = rollout(make(seed=10), actions)
    single = rollout(make(seed=11, num_envs=1), actions[:, 1:])
    np.testing.assert_array_equal(pair[:, 1], single[:, 0])


def test_step_async_then_step_wait_is_step() -> None:
    """The pair the actor pipelines with answers exactly what step() answers."""
    actions = random_actions(make(), 120)
    whole, halves = make(seed=5, episodic_life=True), make(seed=5, episodic_life=True)
    whole.reset(), halves.reset()
    for row in actions:
        expected = whole.step(row)
        halves.step_async(row)
        got = halves.step_wait()
        for a, b in zip(expected[:4], got[:4], strict=True):
            np.testing.assert_array_equal(a, b)
        assert expected[4].keys() == got[4].keys()
        for key in expected[4]:
            np.testing.assert_array_equal(expected[4][key], got[4][key], err_msg=key)


def test_step_async_checks_actions_and_needs_a_reset() -> None:
    env = make()
    with pytest.raises(RuntimeError, match="before reset"):
        env.step_async(np.zeros(2, np.int64))
    env.reset()
    with pytest.raises(ValueError, match="one action per env"):
        env.step_async(np.zeros(3, np.int64))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_actions_out_of_range_are_refused_whatever_their_integer_type(dtype) -> None:
    env = make()
    env.reset()
    n = env.single_action_space.n
    for bad, shown in (([0, n], f"min 0 max {n}"), ([-1, 0], "min -1 max 0")):
        if bad[0] < 0 and np.dtype(dtype).kind == "u":
            continue
        with pytest.raises(ValueError, match=f"must lie in \\[0, {n}\\).*got {shown}"):
            env.step(np.array(bad, dtype))
    with pytest.raises(TypeError, match="must be integers"):
        env.step(np.zeros(2, np.float32))
    env.step(np.array([0, n - 1], dtype))  # the bounds themselves are fine


# --------------------------------------------------------------------------------- rewards


def first_reward_step(env: AleVectorEnv, wanted, steps: int = 2_000):
    env.reset()
    for row in random_actions(env, steps):
        _, reward, _, _, info = env.step(row)
        hit = wanted(info["raw_reward"])
        if hit.any():
            return reward, info["raw_reward"], hit
    pytest.fail(f"no wanted reward in {steps} steps")


def test_pong_raw_points_are_plus_or_minus_one() -> None:
    reward, raw, hit = first_reward_step(make(clip_rewards=True), lambda r: r != 0)
    assert set(raw[hit].tolist()) <= {-1.0, 1.0}
    np.testing.assert_array_equal(reward, raw)


def test_clipping_keeps_the_sign_and_raw_keeps_the_points() -> None:
    """Space Invaders scores 5-30 points an alien within a few dozen random steps."""
    reward, raw, hit = first_reward_step(make("SpaceInvaders", clip_rewards=True), lambda r: r > 1)
    assert (reward[hit] == 1).all() and (raw[hit] >= 5).all()
    reward, raw, hit = first_reward_step(make("SpaceInvaders"), lambda r: r > 1)
    np.testing.assert_array_equal(reward, raw)


def test_breakout_bricks_score_one_point_and_clip_to_one() -> None:
    reward, raw, hit = first_reward_step(make("Breakout", clip_rewards=True), lambda r: r != 0)
    assert (raw[hit] == 1).all() and (reward[hit] == 1).all()


def test_breakout_high_bricks_keep_their_raw_points() -> None:
    """The orange and red rows score 4 and 7.  A random player needs thousands of steps to dig
    that far; envs seeded 4-7 with the test's action stream get there in under 500 steps."""
    env = make("Breakout", clip_rewards=True, num_envs=4, seed=4)
    reward, raw, hit = first_reward_step(env, lambda r: r > 1, steps=4_000)
    assert set(raw[hit].tolist()) <= {4.0, 7.0} and (reward[hit] == 1).all()


# ---------------------------------------------------------------------------- episode ends


def test_the_frame_cap_truncates_and_reports_the_final_score() -> None:
    env = make(max_episode_frames=200, noop_max=0)  # 50 agent steps of 4 frames
    env.reset()
    total = np.zeros(2)
    for step, row in enumerate(random_actions(env, 50), start=1):
        _, _, terminated, truncated, info = env.step(row)
        total += info["raw_reward"]
        np.testing.assert_array_equal(info["episode_score"], total)
        if step < 50:
            assert not truncated.any() and np.isnan(info["final_score"]).all()
    assert truncated.all() and not terminated.any()
    assert info["episode_end"].all() and not info["game_over"].any()
    np.testing.assert_array_equal(info["final_score"], total)
    assert info["final_length"].tolist() == [50, 50]
    assert (info["final_frames"] >= 200).all()
    # NEXT_STEP: the following step only resets; its action is ignored
    _, reward, terminated, truncated, info = env.step(np.ones(2, np.int64))
    assert info["reset_step"].all() and not (terminated | truncated).any()
    assert (reward == 0).all() and (info["episode_score"] == 0).all()
    assert np.isnan(info["final_score"]).all() and (info["final_length"] == -1).all()
    _, _, _, _, info = env.step(np.ones(2, np.int64))
    assert not info["reset_step"].any() and info["episode_length"].tolist() == [1, 1]


def play_until_game_over(env: AleVectorEnv, steps: int = 3_000):
    """Env 0's whole game under random actions: per-step (terminated, info) and its raw sum."""
    env.reset()
    record, total = [], 0.0
    for row in random_actions(env, steps):
        _, _, terminated, truncated, info = env.step(row)
        total += float(info["raw_reward"][0])
        record.append((bool(terminated[0]), bool(truncated[0]), info))
        if info["episode_end"][0]:
            return record, total
    pytest.fail(f"no game over in {steps} steps")


def test_episodic_life_terminates_on_each_life_but_the_game_goes_on() -> None:
    env = make("Breakout", episodic_life=True, sticky_action_prob=0.0)
    record, total = play_until_game_over(env)
    lives = [int(info["lives"][0]) for _, _, info in record]
    life_losses = [i for i, (_, _, info) in enumerate(record) if info["life_lost"][0]]
    assert len(life_losses) == 4, "Breakout has 5 lives: 4 losses, then game over"
    for i in life_losses:
        assert record[i][0], "a life loss is terminal for bootstrapping"
        assert not record[i][2]["game_over"][0] and np.isnan(record[i][2]["final_score"][0])
        assert not record[i + 1][2]["reset_step"][0], "no reset after a mere life loss"
    assert lives == sorted(lives, reverse=True), "lives never come back within a game"
    assert not any(info["reset_step"][0] for _, _, info in record)
    term, trunc, last = record[-1]
    assert term and not trunc and last["game_over"][0] and last["lives"][0] == 0
    assert last["final_score"][0] == total
    assert last["final_length"][0] == len(record)
    _, _, _, _, info = env.step(np.zeros(2, np.int64))
    assert info["reset_step"][0] and info["lives"][0] == 5


def test_without_episodic_life_only_game_over_terminates() -> None:
    env = make("Breakout", sticky_action_prob=0.0)
    record, total = play_until_game_over(env)
    assert [term for term, _, _ in record].count(True) == 1
    assert not any(info["life_lost"][0] for _, _, info in record)
    assert record[-1][2]["final_score"][0] == total


def test_a_life_lost_on_the_capping_step_ends_the_game() -> None:
    """ALE reports terminated (not truncated) there, yet resets the game: the book follows."""
    settings = dict(episodic_life=True, sticky_action_prob=0.0, noop_max=0, num_envs=1)
    env = make("Breakout", **settings)
    env.reset()
    noop = np.zeros(1, np.int64)
    loss_step = 0
    for step in range(1, 200):  # NOOP after the reset FIRE: the ball is missed once
        if env.step(noop)[4]["life_lost"][0]:
            loss_step = step
            break
    assert loss_step, "Breakout never lost a life under NOOP"
    env = make("Breakout", max_episode_frames=4 * loss_step, **settings)
    env.reset()
    for _ in range(loss_step):
        _, _, terminated, truncated, info = env.step(noop)
    assert terminated[0] and not truncated[0] and info["life_lost"][0]
    assert info["episode_end"][0] and info["final_length"][0] == loss_step
    info = env.step(noop)[4]
    assert info["reset_step"][0] and info["lives"][0] == 5


# ------------------------------------------------------------------------------ pinned threads


def threads_pinned_to_one_cpu() -> list[set[int]]:
    """The CPU sets of this process's threads that may run on one CPU only."""
    sets = []
    for tid in os.listdir("/proc/self/task"):
        try:
            cpus = os.sched_getaffinity(int(tid))
        except OSError:  # the thread ended meanwhile
            continue
        if len(cpus) == 1:
            sets.append(cpus)
    return sets


needs_cpus = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or not envs_ale.may_use_every_cpu()
    or (os.cpu_count() or 1) < 2, reason="needs Linux affinity and every CPU of 2 or more")


@needs_cpus
def test_pin_threads_puts_each_emulator_thread_on_its_own_cpu() -> None:
    before = threads_pinned_to_one_cpu()
    env = make(num_envs=2, pin_threads=True)
    pinned = [cpus for cpus in threads_pinned_to_one_cpu() if cpus not in before]
    env.close()
    assert sorted(pinned, key=min) == [{0}, {1}]  # two envs on 2+ CPUs: two threads


@needs_cpus
def test_unpinned_or_under_a_narrower_affinity_the_threads_run_anywhere(monkeypatch) -> None:
    before = len(threads_pinned_to_one_cpu())
    env = make(num_envs=2, pin_threads=False)
    assert len(threads_pinned_to_one_cpu()) == before
    env.close()
    monkeypatch.setattr(envs_ale, "may_use_every_cpu", lambda: False)  # e.g. under taskset
    env = make(num_envs=2, pin_threads=True)
    assert len(threads_pinned_to_one_cpu()) == before
    env.close()


def test_actions_that_differ_only_by_fire_share_a_class() -> None:
    pong = ("NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE")
    assert envs_ale.classes_without_fire(pong).tolist() == [0, 0, 1, 2, 1, 2]
    full = envs_ale.action_meanings(EnvConfig(id="ALE/Pong-v5", full_action_space=True))
    classes = envs_ale.classes_without_fire(full)
    assert len(full) == 18 and classes.max() == 8  # 9 moves, each with and without FIRE
    assert classes[full.index("UPLEFTFIRE")] == classes[full.index("UPLEFT")]


def test_pong_gets_its_classes_and_breakout_none() -> None:
    from envs import action_classes

    assert envs_ale.action_meanings(EnvConfig(id="ALE/Pong-v5")) == [
        "NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
    assert action_classes(EnvConfig(id="ALE/Pong-v5")).tolist() == [0, 0, 1, 2, 1, 2]
    assert action_classes(EnvConfig(id="ALE/Breakout-v5")) is None


def _screens_after(ale, state, actions, names: list[str]) -> dict[str, np.ndarray]:
    """The screen 48 frames after 8 frames of each named action from `state`, then NOOPs."""
    screens = {}
    for name in names:
        ale.restoreState(state)
        for frame in range(48):
            ale.act(actions[name] if frame < 8 else actions["NOOP"])
        screens[name] = ale.getScreen().copy()
    return screens


def test_pongs_fire_button_seldom_changes_the_screen() -> None:
    """Why Pong is in FIRE_SELDOM_MATTERS (1 of 90 twins differ: a contact with the ball);
    Breakout, whose FIRE launches the ball after each lost life, is the control."""
    from ale_py import ALEInterface, roms

    differ, compared = {}, {}
    for rom, twins in (("pong", [("NOOP", "FIRE"), ("RIGHT", "RIGHTFIRE"), ("LEFT", "LEFTFIRE")]),
                       ("breakout", [("NOOP", "FIRE")])):
        ale = ALEInterface()
        ale.setInt("random_seed", 0)
        ale.setFloat("repeat_action_probability", 0.0)
        ale.loadROM(roms.get_rom_path(rom))
        actions = {action.name: action for action in ale.getMinimalActionSet()}
        rng, differ[rom], compared[rom] = np.random.default_rng(0), 0, 0
        for step in range(1500):
            ale.act(list(actions.values())[rng.integers(len(actions))])
            if ale.game_over():
                ale.reset_game()
            if step % 50 == 49:
                state = ale.cloneState()
                names = [name for pair in twins for name in pair]
                screens = _screens_after(ale, state, actions, names)
                differ[rom] += sum(not np.array_equal(screens[a], screens[b]) for a, b in twins)
                compared[rom] += len(twins)
                ale.restoreState(state)
    share = {rom: differ[rom] / compared[rom] for rom in differ}
    assert share["pong"] <= 0.02 and share["breakout"] >= 0.1
