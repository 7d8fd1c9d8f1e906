"""aimodel's imitation term: the large-margin loss towards the expert's labels (DQfD), its weight,
its denominators over micro-batches, importance weights, reward scaling, the dueling head,
bfloat16 and the compiled step.

Hand-computed cases use the bare linear Q-network of tests/test_aimodel.py: Q(s) = W s + b.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aimodel import Imitation, Learner, large_margin_loss, same_class_matrix
from tests.learner_cases import (
    frames_batch,
    linear_learner,
    make_batch,
    make_cfg,
    random_batch,
)

torch.set_num_threads(1)


def grads(learner: Learner) -> list[torch.Tensor]:
    return [p.grad.detach().clone() for p in learner.online.parameters()]


# --------------------------------------------------------------------------------- the loss


def test_large_margin_loss_by_hand() -> None:
    q = torch.tensor([[1.0, 3.0, 2.0],    # a_E = 1, already 1 above the others: 0
                      [5.0, 0.0, 4.5],    # a_E = 0: max(5, 0 + 1, 4.5 + 1) - 5 = 0.5
                      [2.0, 1.0, 0.0],    # a_E = 2: max(2 + 1, 1 + 1, 0) - 0 = 3
                      [7.0, 8.0, 9.0]])   # no label: 0
    expert = torch.tensor([1, 0, 2, -1])
    got = large_margin_loss(q, expert, 1.0)
    assert got.tolist() == [0.0, 0.5, 3.0, 0.0]
    # margin 0: only an action valued strictly above the expert's costs anything
    assert large_margin_loss(q, expert, 0.0).tolist() == [0.0, 0.0, 2.0, 0.0]
    # a 0-d tensor margin (what the learner passes) gives the same numbers
    assert large_margin_loss(q, expert, torch.tensor(1.0)).tolist() == [0.0, 0.5, 3.0, 0.0]


def test_large_margin_loss_gradient_raises_the_label_and_lowers_the_worst_offender() -> None:
    q = torch.tensor([[5.0, 0.0, 4.5]], requires_grad=True)
    large_margin_loss(q, torch.tensor([0]), 1.0).sum().backward()
    assert q.grad.tolist() == [[-1.0, 0.0, 1.0]]


def test_large_margin_loss_over_classes_by_hand() -> None:
    """Actions 0 and 1 do the same thing (one class), 2 and 3 are classes of their own: the
    best action of the expert's class must beat every other class by the margin."""
    same = torch.from_numpy(same_class_matrix(np.array([0, 0, 1, 2])))
    q = torch.tensor([[1.0, 3.0, 2.0, 0.0],    # a_E = 0, its class's best (3) leads by 1: 0
                      [2.0, 0.0, 2.5, 0.0],    # a_E = 1: max(2, 0, 2.5 + 1, 0 + 1) - 2 = 1.5
                      [0.0, 0.0, 1.0, 5.0],    # a_E = 2 alone: max(1, 1, 1, 5 + 1) - 1 = 5
                      [7.0, 8.0, 9.0, 1.0]])   # no label: 0
    expert = torch.tensor([0, 1, 2, -1])
    assert large_margin_loss(q, expert, 1.0, same).tolist() == [0.0, 1.5, 5.0, 0.0]
    # DQfD's exact loss would ask for action 0 itself in row 0: max(1, 4, 3, 1) - 1 = 3
    assert large_margin_loss(q, expert, 1.0).tolist() == [3.0, 3.5, 5.0, 0.0]
    # every action its own class: the exact loss
    identity = torch.from_numpy(same_class_matrix(np.arange(4)))
    torch.testing.assert_close(large_margin_loss(q, expert, 1.0, identity),
                               large_margin_loss(q, expert, 1.0))


def test_the_class_loss_raises_the_best_of_the_class_and_lowers_the_worst_offender() -> None:
    same = torch.from_numpy(same_class_matrix(np.array([0, 0, 1, 2])))
    q = torch.tensor([[2.0, 0.0, 2.5, 0.0]], requires_grad=True)
    large_margin_loss(q, torch.tensor([1]), 1.0, same).sum().backward()
    assert q.grad.tolist() == [[-1.0, 0.0, 1.0, 0.0]]


def test_same_class_matrix_by_hand() -> None:
    assert same_class_matrix(np.array([0, 0, 1])).tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert same_class_matrix(None) is None
    with pytest.raises(ValueError, match="one class id per action"):
        same_class_matrix(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="3 entries for 2 actions"):
        Learner((1,), 2, make_cfg(), action_classes=np.array([0, 0, 1]))


def test_a_learner_step_with_classes_takes_the_class_loss() -> None:
    """Two actions of one class: the expert's label 1 is met by action 0 as well, so once any
    of the two is valued above nothing else there is nothing to learn (J = 0, no gradient)."""
    learner = linear_learner(1, 3, [[0.0], [0.0], [-1.0]], action_classes=np.array([0, 0, 1]))
    batch = make_batch([[1.0]], [0], [0.0], [0.0], [[0.0]], expert=[1])
    result = learner.accumulate_gradients(batch, imitation=Imitation(1.0, 0.5))
    assert float(result.imitation) == 0.0  # Q = (0, 0, -1): the class leads by 1 > 0.5
    exact = linear_learner(1, 3, [[0.0], [0.0], [-1.0]])
    result = exact.accumulate_gradients(batch, imitation=Imitation(1.0, 0.5))
    assert float(result.imitation) == pytest.approx(0.5)  # max(0 + 0.5, 0, -1 + 0.5) - 0


def test_with_classes_agreement_counts_the_experts_class() -> None:
    """Q = (0, 1, -1) in every state: greedy action 1.  Labels 0, 1, 2, -1: with classes
    (0, 0, 1) labels 0 and 1 agree (2 of 3 labelled), exactly only label 1 (1 of 3)."""
    weights = [[0.0], [1.0], [-1.0]]
    batch = make_batch([[1.0]] * 4, [0] * 4, [0.0] * 4, [0.0] * 4, [[1.0]] * 4,
                       expert=[0, 1, 2, -1])
    by_class = linear_learner(1, 3, weights, action_classes=np.array([0, 0, 1]))
    assert by_class.step(batch).agreement == (2, 3)
    assert linear_learner(1, 3, weights).step(batch).agreement == (1, 3)


# ------------------------------------------------------------------------ inside a learner step

# Q(s) = W s + b with W = b = 0, s = 1, two actions; the TD target is 0 (terminal, reward 0), so
# the TD loss and its gradient are 0 and only the imitation term moves the weights.  Label
# a_E = 1, margin 0.8: J = max(0 + 0.8, 0) - 0 = 0.8; dJ/dQ = (+1, -1), dQ/dW = dQ/db = s = 1.


def zero_learner(**overrides) -> Learner:
    return linear_learner(1, 2, [[0.0], [0.0]], **overrides)


def test_the_term_by_hand_with_its_weight() -> None:
    learner = zero_learner()
    batch = make_batch([[1.0]], [0], [0.0], [0.0], [[0.0]], expert=[1])
    result = learner.accumulate_gradients(batch, imitation=Imitation(0.5, 0.8))
    assert float(result.loss) == 0.0 and float(result.imitation) == pytest.approx(0.8)
    assert float(result.total) == pytest.approx(0.5 * 0.8)
    weight, bias = grads(learner)
    assert weight.flatten().tolist() == pytest.approx([0.5, -0.5])
    assert bias.tolist() == pytest.approx([0.5, -0.5])


def test_the_mean_runs_over_labelled_states_only_and_importance_weights_apply() -> None:
    """Two states, one labelled, PER weight 0.5 on it: lambda * 0.5 * dJ / 1 labelled state.
    The statistic is the plain J (no lambda, no importance weight)."""
    learner = zero_learner()
    batch = make_batch([[1.0], [1.0]], [0, 0], [0.0, 0.0], [0.0, 0.0], [[0.0], [0.0]],
                       expert=[1, -1], weights=[0.5, 1.0])
    result = learner.accumulate_gradients(batch, imitation=Imitation(0.5, 0.8))
    assert float(result.imitation) == pytest.approx(0.8)
    weight, _ = grads(learner)
    assert weight.flatten().tolist() == pytest.approx([0.25, -0.25])


def test_weight_zero_or_no_label_leaves_the_step_as_pure_td() -> None:
    batch = random_batch(np.random.default_rng(0), 12, 1, 2)
    for imitation, data in ((Imitation(0.0, 0.8), batch),
                            (Imitation(1.0, 0.8), batch._replace(
                                expert_action=np.full(12, -1, np.int16)))):
        plain, with_term = zero_learner(), zero_learner()
        a = plain.accumulate_gradients(data)
        b = with_term.accumulate_gradients(data, imitation=imitation)
        assert b.imitation is None and a.loss == b.loss == b.total
        for x, y in zip(grads(plain), grads(with_term), strict=True):
            assert torch.equal(x, y)


def test_learner_step_uses_its_weight_and_reports_the_statistic() -> None:
    learner = zero_learner(lr=0.1)
    batch = make_batch([[1.0]], [0], [0.0], [0.0], [[0.0]], expert=[1])
    assert learner.step(batch).imitation is None  # weight 0 by default: off
    learner.imitation_weight, learner.imitation_margin = 0.5, 0.8
    stats = learner.step(batch)
    assert stats.imitation == (pytest.approx(0.8), 1)
    q = learner.q_values(np.ones((1, 1), np.float32))[0]
    assert q[1] > q[0]  # Adam moved the expert's action up and the other down


def test_the_margin_follows_the_running_reward_scale() -> None:
    """With normalize_rewards the Q-values are in units of 1/std of the returns, and so is the
    margin: returns (0, 4) have std 2, so the 0.8 margin becomes 0.4 in the loss."""
    learner = zero_learner(normalize_rewards=True, lr=1e-9)
    learner.imitation_weight, learner.imitation_margin = 1.0, 0.8
    batch = make_batch([[1.0], [1.0]], [0, 0], [0.0, 4.0], [0.0, 0.0], [[0.0], [0.0]],
                       expert=[1, 1])
    stats = learner.step(batch)
    assert stats.reward_scale == pytest.approx(0.5)
    assert stats.imitation == (pytest.approx(2 * 0.4), 2)


def test_a_dueling_head_takes_the_term_through_the_advantages_only() -> None:
    """Q = V + A - mean(A), so J = A(a*) + margin - A(a_E): the value stream's gradient from
    the term is exactly 0, and the advantage bias gets lambda * (e_a* - e_aE)."""
    cfg = dict(hidden_sizes=(8,), dueling=True, loss="huber")
    batch = random_batch(np.random.default_rng(1), 1, 4, 3)._replace(
        expert_action=np.array([2], np.int16), weights=np.ones(1, np.float32))
    plain, term = Learner((4,), 3, make_cfg(**cfg), seed=5), Learner((4,), 3, make_cfg(**cfg),
                                                                     seed=5)
    plain.accumulate_gradients(batch)
    result = term.accumulate_gradients(batch, imitation=Imitation(0.3, 100.0))
    q = term.q_values(batch.obs)[0]
    worst = int(np.argmax(q + 100.0 * (np.arange(3) != 2)))
    assert worst != 2
    assert float(result.imitation) == pytest.approx(q[worst] + 100.0 - q[2], rel=1e-5)
    expected = np.zeros(3)
    expected[worst], expected[2] = 0.3, -0.3
    diff = term.online.advantage.bias.grad - plain.online.advantage.bias.grad
    np.testing.assert_allclose(diff.numpy(), expected, atol=1e-6)
    assert torch.equal(term.online.value.bias.grad, plain.online.value.bias.grad)
    assert torch.equal(term.online.value.weight.grad, plain.online.value.weight.grad)


@pytest.mark.parametrize("micro", [2, 4, 7])
def test_micro_batches_give_the_whole_batchs_term(micro: int) -> None:
    """L (labelled states) is counted over the whole batch, so chunks of any size add up to
    the same gradient and statistic; 7 does not divide 30."""
    cfg = dict(hidden_sizes=(16, 8), layer_norm=True, dueling=True, loss="huber")
    batch = random_batch(np.random.default_rng(3), 30, 6, 3)
    whole = Learner((6,), 3, make_cfg(micro_batches=1, **cfg), seed=1)
    parts = Learner((6,), 3, make_cfg(micro_batches=micro, **cfg), seed=1)
    a = whole.accumulate_gradients(batch, imitation=Imitation(0.7, 0.5))
    b = parts.accumulate_gradients(batch, imitation=Imitation(0.7, 0.5))
    assert float(a.imitation) == pytest.approx(float(b.imitation), rel=1e-5)
    assert float(a.total) == pytest.approx(float(b.total), rel=1e-5)
    for x, y in zip(grads(whole), grads(parts), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6)


def test_a_bf16_cnn_takes_nearly_the_float32_gradient_of_the_term() -> None:
    batch = frames_batch(64)
    batch = batch._replace(expert_action=np.random.default_rng(2).integers(-1, 6, 64)
                           .astype(np.int16))
    got = {}
    for precision in ("float32", "bfloat16"):
        learner = Learner((4, 84, 84), 6, make_cfg(hidden_sizes=(256,), loss="huber",
                                                    cnn_precision=precision), seed=3)
        result = learner.accumulate_gradients(batch, imitation=Imitation(1.0, 0.8))
        got[precision] = (float(result.imitation),
                          torch.cat([g.flatten() for g in grads(learner)]))
    assert got["bfloat16"][0] == pytest.approx(got["float32"][0], rel=0.02)
    exact, mixed = got["float32"][1], got["bfloat16"][1]
    assert torch.nn.functional.cosine_similarity(exact, mixed, dim=0) > 0.99


@pytest.mark.slow
@pytest.mark.parametrize("classes", [None, np.array([0, 0, 1, 1])])
def test_a_compiled_step_with_the_term_matches_eager_as_lambda_moves(classes) -> None:
    """lambda changes every step (0.5, 0.25, then off and back): the compiled step follows
    without falling back to eager, and equals the eager step (exact labels, and classes)."""
    batch = random_batch(np.random.default_rng(7), 64, 6, 4)
    learners, stats = {}, {}
    for compiled in (False, True):
        learner = Learner((6,), 4, make_cfg(hidden_sizes=(32,), dueling=True, micro_batches=2,
                                            compile=compiled, loss="huber"), seed=2,
                          action_classes=classes)
        learner.imitation_margin, history = 0.8, []
        for weight in (0.5, 0.25, 0.0, 1.0):
            learner.imitation_weight = weight
            history.append(learner.step(batch))
        learners[compiled], stats[compiled] = learner, history
    assert learners[True].compile_error is None and learners[True]._compiled is not None
    for a, b in zip(learners[False].online.parameters(), learners[True].online.parameters(),
                    strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    for eager, compiled in zip(stats[False], stats[True], strict=True):
        assert (eager.imitation is None) == (compiled.imitation is None)
        if eager.imitation is not None:
            assert compiled.imitation[0] == pytest.approx(eager.imitation[0], rel=1e-4)
        assert compiled.loss == pytest.approx(eager.loss, rel=1e-4)
