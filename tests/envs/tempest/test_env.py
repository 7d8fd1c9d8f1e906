"""`Tempest-v0` as gymnasium envs: the env contract, seeding, vector = N singles, pickling."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # registers Tempest-v0
from config import EnvConfig
from envs.tempest import features
from envs.tempest.actions import ACTION_SETS, FIRE, SPIN, ZAP
from envs.tempest.env import TempestEnv, TempestVectorEnv
from envs.tempest.state import states_equal, take


def random_actions(seed: int, steps: int, num_envs: int, num_actions: int = 44) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, num_actions, (steps, num_envs))


def test_check_env_passes_without_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(gym.make("Tempest-v0", render_mode="rgb_array").unwrapped,
                  skip_render_check=False)
    assert [str(w.message) for w in caught] == []


def test_registered_entry_points_build_both_envs() -> None:
    single = gym.make("Tempest-v0")
    assert isinstance(single.unwrapped, TempestEnv)
    vector = gym.make_vec("Tempest-v0", num_envs=8, vectorization_mode="vector_entry_point")
    assert isinstance(vector, TempestVectorEnv) and vector.num_envs == 8
    obs, info = vector.reset(seed=3)
    assert obs.shape == (8, features.OBS_DIM) and obs.dtype == np.float32
    assert set(info) >= {"score", "wave", "lives", "state", "episode_end", "reset_step"}


def test_without_the_lane_map_the_observation_is_its_first_247_values() -> None:
    with_map, without = TempestVectorEnv(4, seed=5), TempestVectorEnv(4, seed=5, lane_map=False)
    assert without.single_observation_space.shape == (features.SLOT_OBS_DIM,) == (247,)
    assert with_map.single_observation_space.shape == (features.OBS_DIM,)
    full, _ = with_map.reset()
    slots, _ = without.reset()
    actions = np.full(4, 24)  # fire, moving: the games leave their first frame
    for _ in range(30):
        full, *_ = with_map.step(actions)
        slots, *_ = without.step(actions)
    np.testing.assert_array_equal(full[:, :features.SLOT_OBS_DIM], slots)


def test_action_meanings_cover_the_44_joint_actions() -> None:
    names = TempestEnv().get_action_meanings()
    assert len(names) == 44 and names[0] == "NOOP" and names[43] == "FIRE+ZAP SPIN-12"
    assert len(TempestEnv(action_set="compact").get_action_meanings()) == 11


@pytest.mark.parametrize("action_set, classes", [("joint", 12), ("compact", 7)])
def test_action_classes_group_the_speeds_of_one_direction(action_set: str, classes: int) -> None:
    """A class is the buttons and the spinner direction: joint 4 button sets x (left, stay,
    right) = 12; compact (fire or not) x 3 + its one zap = 7.  `envs.action_classes` gives
    them for a Tempest config and None for an ALE game whose actions are each their own class
    (Breakout; Pong's FIRE twins: tests/envs/test_ale.py)."""
    table = ACTION_SETS[action_set]
    ids = envs.action_classes(EnvConfig(action_set=action_set))
    assert len(ids) == len(table) and len(set(ids.tolist())) == classes
    key = np.stack([table[:, FIRE], table[:, ZAP], np.sign(table[:, SPIN])], axis=1)
    for a in range(len(table)):
        for b in range(len(table)):
            assert (ids[a] == ids[b]) == bool((key[a] == key[b]).all())
    assert envs.action_classes(EnvConfig(id="ALE/Breakout-v5")) is None


def test_same_seed_same_trajectory_and_other_seed_differs() -> None:
    def run(seed: int) -> list[np.ndarray]:
        env = TempestEnv(start_wave=3)
        obs, _ = env.reset(seed=seed)
        seen = [obs]
        for action in random_actions(0, 400, 1)[:, 0]:
            obs, _, terminated, truncated, _ = env.step(action)
            seen.append(obs)
            if terminated or truncated:
                seen.append(env.reset()[0])
        return seen

    first, again, other = run(7), run(7), run(8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=False))


@pytest.mark.slow
def test_vector_env_equals_n_single_envs_through_episode_ends() -> None:
    num_envs, steps = 4, 1500
    vector = TempestVectorEnv(num_envs=num_envs, max_episode_frames=500)
    singles = [TempestEnv(max_episode_frames=500) for _ in range(num_envs)]
    vec_obs, _ = vector.reset(seed=10)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(vec_obs[i], env.reset(seed=10 + i)[0])
    pending_reset = [False] * num_envs
    actions = random_actions(1, steps, num_envs)
    ends = 0
    for row in actions:
        vec_obs, vec_reward, vec_term, vec_trunc, info = vector.step(row)
        for i, env in enumerate(singles):
            if pending_reset[i]:
                assert info["reset_step"][i]
                obs, reward, term, trunc = env.reset()[0], 0.0, False, False
            else:
                obs, reward, term, trunc, _ = env.step(row[i])
            np.testing.assert_array_equal(vec_obs[i], obs)
            assert vec_reward[i] == np.float32(reward)
            assert (vec_term[i], vec_trunc[i]) == (term, trunc)
            pending_reset[i] = term or trunc
            ends += term or trunc
        for i, env in enumerate(singles):
            assert states_equal(take(vector.state, i), env.state)
    assert ends > 0  # the comparison crossed episode ends, not only steady play


def test_reset_step_ignores_the_action_and_pays_nothing() -> None:
    env = TempestVectorEnv(num_envs=2, max_episode_frames=5)
    env.reset(seed=0)
    for _ in range(5):
        _, _, _, truncated, info = env.step(np.zeros(2, np.int64))
    assert truncated.all() and info["episode_end"].all()
    assert np.isfinite(info["final_score"]).all() and (info["final_length"] == 5).all()
    _, reward, terminated, truncated, info = env.step(np.full(2, 43))
    assert info["reset_step"].all() and not terminated.any() and not truncated.any()
    assert (reward == 0).all() and (info["episode_length"] == 0).all()


def test_episodic_life_continues_the_game_after_a_death() -> None:
    env = TempestVectorEnv(num_envs=16, start_wave=9)
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(3000):
        _, _, terminated, _, info = env.step(rng.integers(0, 44, 16))
        died = terminated & ~info["game_over"]
        if died.any():
            lives_before = info["lives"][died].copy()
            score_before = info["score"][died].copy()
            _, _, _, _, info = env.step(rng.integers(0, 44, 16))
            assert (info["lives"][died] == lives_before - 1).all()
            assert (info["score"][died] == score_before).all()
            assert (info["wave"][died] >= 9).all()
            return
    pytest.fail("no death in 3000 frames of random play on wave 9")


def test_whole_game_episodes_resolve_deaths_on_the_same_step() -> None:
    env = TempestVectorEnv(num_envs=16, start_wave=9, episodic_life=False)
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    lives_lost_in_play = 0
    for _ in range(3000):
        _, _, terminated, _, info = env.step(rng.integers(0, 44, 16))
        revived = (info["death_cause"] != 0) & (info["lives"] > 0)
        lives_lost_in_play += int(revived.sum())
        assert not (terminated & (info["lives"] > 0)).any()
        assert (info["state"].death_cause[revived] == 0).all()  # already back in play
    assert lives_lost_in_play > 0


def test_pickling_keeps_the_games() -> None:
    env = TempestVectorEnv(num_envs=3)
    env.reset(seed=2)
    for row in random_actions(2, 50, 3):
        env.step(row)
    clone = pickle.loads(pickle.dumps(env))
    assert states_equal(clone.state, env.state)
    actions = random_actions(3, 50, 3)
    for row in actions:
        a = env.step(row)[0]
        b = clone.step(row)[0]
        np.testing.assert_array_equal(a, b)


def test_render_returns_an_rgb_frame() -> None:
    env = TempestEnv(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert frame.any()


def _game_starts(env: TempestVectorEnv, steps: int) -> list[int]:
    """The start waves of the games that begin during `steps` frames of random play (whole
    games: every reset step starts one)."""
    rng, starts = np.random.default_rng(1), []
    for _ in range(steps):
        _, _, _, _, info = env.step(rng.integers(0, 44, env.num_envs))
        starts += info["wave"][info["reset_step"]].tolist()
    return starts


def test_new_games_start_at_waves_drawn_from_the_distribution_set() -> None:
    """Random play dies quickly, so many games start: their waves follow the weights given
    (3:1 between waves 13 and 5; wave 7 never), the games under way keep their wave."""
    env = TempestVectorEnv(num_envs=16, episodic_life=False, max_episode_frames=40)
    env.reset(seed=3)
    env.set_start_waves([5, 7, 13], [1.0, 0.0, 3.0])
    assert (env.games.state.wave == 1).all()  # not the games under way
    starts = _game_starts(env, 2_000)
    assert len(starts) > 500 and set(starts) == {5, 13}
    assert 0.68 < starts.count(13) / len(starts) < 0.82


def test_a_vector_env_with_drawn_start_waves_is_still_n_single_games() -> None:
    """Each game draws its start waves on a stream of its own seeded by its seed: game i of a
    vector env seeded s starts where the single env seeded s + i starts."""
    vector = TempestVectorEnv(num_envs=3, episodic_life=False, max_episode_frames=30)
    vector.reset(seed=10)
    vector.set_start_waves([3, 9, 20])
    singles = []
    for i in range(3):
        single = TempestVectorEnv(num_envs=1, episodic_life=False, max_episode_frames=30)
        single.reset(seed=10 + i)
        single.set_start_waves([3, 9, 20])
        singles.append(single)
    for _ in range(200):
        _, _, _, _, info = vector.step(np.zeros(3, np.int64))
        for i, single in enumerate(singles):
            _, _, _, _, one = single.step(np.zeros(1, np.int64))
            assert one["wave"][0] == info["wave"][i]


@pytest.mark.parametrize(("waves", "probs"), [([], None), ([0, 5], None), ([5, 100], None),
                                              ([5, 7], [1.0]), ([5, 7], [-1.0, 2.0])])
def test_start_waves_out_of_range_or_weights_that_do_not_fit_are_refused(waves, probs) -> None:
    with pytest.raises(ValueError):
        TempestVectorEnv(num_envs=2).set_start_waves(waves, probs)
