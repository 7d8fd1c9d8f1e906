"""The training doctor: recognises the collapse patterns of seeds/ in the metrics rows and says what
to change, in this run's own settings.

Why: every failure report in seeds/ was written after the fact, from numbers that had been on the
screen for millions of frames (seed 003's Q max climbed 324 -> 1999 before anyone looked; seed
004's agreement fell 90% -> 10% while the loss looked fine).  The doctor watches the same rows the
dashboard shows (DESIGN.md §5) while they arrive, names the pattern once, when it begins, with the
numbers that triggered it and the remedy the seeds found ("lower --learner.lr from 0.003 to
0.001"), so a user can act minutes after the onset instead of days.

How it judges: most rules compare a row with the median of the rows before it (`baseline_rows`),
so they work for any game's reward, Q and loss scale and follow slow, healthy drift; a few use
absolute facts (a Q value above the largest return the rewards allow, non-finite steps, a DQN5M
slope relative to the DQN5M level).  Every threshold is a `DoctorConfig` field whose docstring
says where its default comes from.

The modules, in the order a row meets them:
    values      numbers as rows give them and people read them
    history     the judged rows a rule reads, baselines and onsets
    *_rules     one function per rule: value_rules (Q, loss, non-finite, learning rate),
                gradient_rules (spikes, swings, saturated clipping), policy_rules (agreement,
                DQN5M reversal); rules runs them all in the reporting order
    advice      the seeds' remedies in this run's flags and numbers
    findings    the codes, `Finding`, the text report
    engine      `Doctor`: live, row by row, each finding once at its onset
    offline     `diagnose` over a recorded run, guard rollbacks replayed
    report      `tempest-dqn doctor TARGET`: which rows and settings, bad input refused

No torch, and nothing but `config` and `metrics` from the project: the dashboard and
`tempest-dqn doctor` import this package.
"""

from metrics.doctor.engine import Doctor
from metrics.doctor.findings import CODES, GUARD_CODES, SEVERITIES, Finding, format_report
from metrics.doctor.offline import Rollback, diagnose, guard_rollbacks

__all__ = [
    "CODES",
    "GUARD_CODES",
    "SEVERITIES",
    "Doctor",
    "Finding",
    "Rollback",
    "diagnose",
    "format_report",
    "guard_rollbacks",
]
