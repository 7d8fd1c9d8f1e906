"""Level flow: the superzapper, a wave's setup, the end-of-wave test, the drop down the tube,
the end of a life and a new game.  Reference §1.5, §1.9 ("After a death"), §1.10.
"""

from __future__ import annotations

import numba

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import (
    MAX_PENDING,
    add_points,
    is_alive,
    kill_player,
    live_enemies,
    player_depth,
    player_lane,
)
from envs.tempest.core_shots import OPEN_MAX_POS, clear_shots
from envs.tempest.core_slots import clear_slot, kill_enemy
from envs.tempest.core_spawn import init_pending
from envs.tempest.state import (
    ALIVE,
    DEATH_SPIKE,
    ENEMY_SLOTS,
    EXPLOSION_SLOTS,
    LANES,
    MODE_DROP,
    MODE_GAME_OVER,
    MODE_PLAY,
    NO_ENEMY,
    RIM_DEPTH,
)
from envs.tempest.tables import BONUS_LIFE_EVERY, SKILL_STEP_BONUS, SKILL_STEP_WAVES, START_LIVES

ZAP_USES = 2
ZAP_LENGTH = (0, 19, 5)
"""TIMAX by use: the first zap runs to timer 19 (8 kills), the second to 5 (1 kill)."""
ZAP_FIRST_KILL = 3
START_POS = 0xF0
"""INICUR's CURSPO: lane 15 (lane 14 once clamped on an open tube)."""
LEVEL_END_DEPTH = 0x11
"""The wave ends once every active enemy is nearer than this (on the rim)."""
DROP_START_SPEED = 0x200
LAST_WAVE = 99
RANDOM_WAVE_BASE = 65
"""From wave 99 on each wave plays the parameters of wave 65 + (rand & 31)."""


@numba.njit(cache=True, _nrt=False)
def superzap(s, k, g: int, zap_pressed: bool) -> None:
    """PROSUZ/KILENE.  A press is latched.  While a zap runs its timer counts up and, from 3 on,
    every even frame kills the highest live slot (no tanker split); it ends at TIMAX or when no
    enemy is left.  Otherwise a latched press by a living player starts a zap if uses remain."""
    if zap_pressed:
        s.zap_latch[g] = 1
    if s.zap_timer[g] != 0:
        timer = s.zap_timer[g] + 1
        if timer >= ZAP_LENGTH[s.zap_uses[g]]:
            timer = 0
        s.zap_timer[g] = timer
        if timer >= ZAP_FIRST_KILL and timer & 1 == 0:
            for e in range(ENEMY_SLOTS - 1, -1, -1):
                if s.en_type[g, e] != NO_ENEMY:
                    kill_enemy(s, k, g, e, True)
                    return
            s.zap_timer[g] = 0
        return
    if s.zap_latch[g] != 0 and is_alive(s, g):
        s.zap_latch[g] = 0
        if s.zap_uses[g] < ZAP_USES:
            s.zap_uses[g] += 1
            s.zap_timer[g] = 1


@numba.njit(cache=True, _nrt=False)
def clear_enemies(s, g: int) -> None:
    for e in range(ENEMY_SLOTS):
        clear_slot(s, g, e)
    for i in range(EXPLOSION_SLOTS):
        s.expl_timer[g, i] = 0
    s.explosions[g] = 0


@numba.njit(cache=True, _nrt=False)
def clamp_player(s, g: int) -> None:
    if s.is_open[g] != 0 and s.player_pos[g] > OPEN_MAX_POS:
        s.player_pos[g] = OPEN_MAX_POS


@numba.njit(cache=True, _nrt=False)
def reset_play(s, g: int) -> None:
    """ResetGameElements: no shots, enemies or explosions; fresh pending lanes and countdowns;
    the pulse phase restarts; the player stands on the rim."""
    clear_shots(s, g)
    clear_enemies(s, g)
    init_pending(s, g)
    s.zap_timer[g] = 0
    s.pulse_phase[g] = -1
    s.mode[g] = MODE_PLAY
    s.mode_timer[g] = 0
    s.player_y[g] = RIM_DEPTH << 8
    s.drop_speed[g] = 0
    clamp_player(s, g)


@numba.njit(cache=True, _nrt=False)
def setup_wave(s, k, g: int) -> None:
    """INEWAV: the wave's parameters (a random wave 65-96's from wave 99 on), its pending
    enemies and pre-seeded spikes in all 16 lanes, a recharged superzapper."""
    sw = s.wave[g]
    if sw >= LAST_WAVE:
        sw = RANDOM_WAVE_BASE + (rng.rand8(s.rng, g) & 31)
    s.skill_wave[g] = sw
    s.tube[g] = k.tube[sw]
    s.is_open[g] = k.is_open[sw]
    s.pending[g] = k.enemies[sw]
    s.pending_at_start[g] = k.enemies[sw]
    for lane in range(LANES):
        s.spike[g, lane] = k.spike_start[sw]
    s.pulse_step[g] = k.pulse_step[sw]
    s.zap_uses[g] = 0
    s.zap_latch[g] = 0
    reset_play(s, g)


@numba.njit(cache=True, _nrt=False)
def wave_is_over(s, g: int) -> bool:
    """ANALYZ: alive, nothing pending, no explosion running and every enemy on the rim (enemies
    crouching on the rim are left behind)."""
    if not is_alive(s, g) or s.pending[g] != 0 or s.explosions[g] != 0:
        return False
    for e in range(ENEMY_SLOTS):
        if s.en_type[g, e] != NO_ENEMY and (s.en_y[g, e] >> 8) >= LEVEL_END_DEPTH:
            return False
    return True


@numba.njit(cache=True, _nrt=False)
def start_drop(s, g: int) -> None:
    """INDROP: shots cleared, zap off, the claw starts down the tube at 2.0 per frame."""
    clear_shots(s, g)
    s.zap_timer[g] = 0
    s.mode[g] = MODE_DROP
    s.drop_speed[g] = DROP_START_SPEED
    s.player_y[g] = RIM_DEPTH << 8


@numba.njit(cache=True, _nrt=False)
def descend_player(s, k, g: int) -> bool:
    """MOVCUD: the claw falls, accelerating; passing 0xF0 starts the next wave (True).  Below
    its lane's spike tip it dies and the shots vanish."""
    if not is_alive(s, g):
        return False
    y = s.player_y[g] + s.drop_speed[g]
    if (y >> 8) >= 0xF0:
        s.wave[g] = min(s.wave[g] + 1, LAST_WAVE)
        pay_start_bonus(s, g)
        setup_wave(s, k, g)
        return True
    s.player_y[g] = y
    s.drop_speed[g] += k.drop_accel[s.skill_wave[g]]
    tip = s.spike[g, player_lane(s, g)]
    if tip != 0 and tip < player_depth(s, g):
        kill_player(s, g, DEATH_SPIKE)
        clear_shots(s, g)
    return False


@numba.njit(cache=True, _nrt=False)
def skill_step_bonus(start_wave: int) -> int:
    """The points a game started at `start_wave` earns on clearing its first wave: the arcade's
    bonus for that skill-step choice (`BONPTM`), 0 for wave 1 and for waves the arcade does not
    offer (the simulator starts anywhere; only the arcade's choices pay)."""
    for choice in range(SKILL_STEP_WAVES.shape[0]):
        if SKILL_STEP_WAVES[choice] == start_wave:
            return SKILL_STEP_BONUS[choice]
    return 0


@numba.njit(cache=True, _nrt=False)
def pay_start_bonus(s, g: int) -> None:
    """The skill-step bonus, once, at the end of a game's first wave, through UPSCOR (so it
    earns bonus lives like any points)."""
    if s.start_bonus[g] > 0:
        add_points(s, g, s.start_bonus[g])
        s.start_bonus[g] = 0


@numba.njit(cache=True, _nrt=False)
def end_life(s, g: int) -> None:
    """The end-of-life sequence at once: live enemies back into the queue (capped at 63) with
    fresh countdowns, shots cleared (spikes and zap uses kept), one life less; the next life
    starts on the rim of the same wave, or the game is over."""
    s.pending[g] = min(s.pending[g] + live_enemies(s, g), MAX_PENDING)
    s.lives[g] -= 1
    reset_play(s, g)
    if s.lives[g] <= 0:
        s.lives[g] = 0
        s.mode[g] = MODE_GAME_OVER
        return
    s.player_pos[g] = START_POS
    clamp_player(s, g)
    s.death_cause[g] = ALIVE


@numba.njit(cache=True, _nrt=False)
def new_game(s, k, g: int, start_wave: int) -> None:
    """A fresh game at `start_wave` (its own rng stream continues)."""
    s.score[g] = 0
    s.lives[g] = START_LIVES
    s.next_bonus[g] = BONUS_LIFE_EVERY
    s.frame[g] = 0
    s.episode_frame[g] = 0
    for t in range(s.kills.shape[1]):
        s.kills[g, t] = 0
    s.death_cause[g] = ALIVE
    s.zap_held[g] = 0
    s.wave[g] = min(max(start_wave, 1), LAST_WAVE)
    s.start_bonus[g] = skill_step_bonus(s.wave[g])
    s.player_pos[g] = START_POS
    setup_wave(s, k, g)
    s.player_prev_lane[g] = player_lane(s, g)
    for e in range(ENEMY_SLOTS):
        s.en_prev_type[g, e] = NO_ENEMY
        s.en_prev_lane[g, e] = -1
        s.en_prev_y[g, e] = 0
