import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.heads import MLPHead, fit_linear_heads, masked_bce  # noqa: E402


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = np.column_stack([(x[:, 0] > 0), (x[:, 1] > 0.5), (x[:, 2] > 1.0)]).astype(float)
    y[rng.random(n) < 0.4, 1] = np.nan  # unknown for 40% of rows
    y[: n // 2, 2] = np.nan
    return x, y


def test_masked_bce_ignores_unknown_cells() -> None:
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    targets = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    expected = (np.log(2) + np.log1p(np.e)) / 2  # only the first column counts
    assert float(masked_bce(logits, targets)) == pytest.approx(expected, rel=1e-6)
    assert float(masked_bce(logits, torch.full((2, 2), float("nan")))) == 0.0


def test_mlp_head_learns_with_unknown_labels() -> None:
    x, y = _data(3000, 0)
    x_dev, y_dev = _data(600, 1)
    head = MLPHead(hidden=32, epochs=30, patience=3).fit(x, y, x_dev, y_dev)
    logits = head.decision_function(x_dev)
    from sklearn.metrics import roc_auc_score

    for j in range(3):
        known = ~np.isnan(y_dev[:, j])
        assert roc_auc_score(y_dev[known, j], logits[known, j]) > 0.95


def test_mlp_head_stops_early_and_keeps_its_best_weights() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(800, 8)).astype(np.float32)
    y = (rng.random((800, 3)) < 0.3).astype(float)  # noise: nothing to learn
    head = MLPHead(hidden=64, epochs=50, patience=2, lr=1e-2).fit(x[:600], y[:600], x[600:],
                                                                  y[600:])
    assert len(head.history_) < 50
    final = float(head._loss(torch.tensor(head.decision_function(x[600:])),
                             torch.tensor(y[600:], dtype=torch.float32)))
    assert final == pytest.approx(min(head.history_), rel=1e-5)


def test_linear_heads_skip_labels_without_both_classes() -> None:
    x, y = _data(500, 2)
    y[:, 2] = 0.0
    heads = fit_linear_heads(x, np.column_stack([y, np.full(len(y), np.nan)]))
    assert set(heads) == {"offensive", "hate"}
