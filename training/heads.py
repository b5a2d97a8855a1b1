"""Stage 1 heads: classifiers on cached frozen-encoder embeddings, trained in seconds.

Two heads, both with the masked objective (a label unknown for a row is left out of the loss):
a logistic regression per label (scikit-learn) and a small multi-label MLP (torch) trained with
masked binary cross-entropy and early stopping on dev. They exist to compare data mixes and
heads quickly before fine-tuning (DESIGN.md, "Models").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from warning.labels import LABELS
from warning.models.transformer import build_head

__all__ = ["MLPHead", "fit_linear_heads", "masked_bce"]


def masked_bce(logits, targets, pos_weight=None):
    """Mean binary cross-entropy over the known cells only (NaN targets are masked out).

    ``pos_weight`` (one weight per label) scales the positive cells, balancing classes within
    the known cells; it is what both the MLP head and LoRA fine-tuning train with.
    """
    import torch

    known = ~torch.isnan(targets)
    losses = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.nan_to_num(targets), reduction="none")
    if pos_weight is not None:
        losses = losses * torch.where(targets == 1, pos_weight.expand_as(targets),
                                      torch.ones_like(targets))
    return losses[known].sum() / known.sum().clamp(min=1)


def fit_linear_heads(x: np.ndarray, y: np.ndarray, labels: tuple[str, ...] = LABELS[:3],
                     c: float = 1.0) -> dict[str, LogisticRegression]:
    """One logistic regression per label on the rows where that label is known."""
    heads = {}
    for name in labels:
        j = LABELS.index(name)
        known = ~np.isnan(y[:, j])
        if known.sum() == 0 or len(np.unique(y[known, j])) < 2:
            continue
        heads[name] = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(
            x[known], y[known, j])
    return heads


@dataclass
class MLPHead:
    """A one-hidden-layer multi-label MLP on embeddings, trained with masked BCE.

    Attributes:
        hidden: Hidden units.
        dropout: Dropout before the output layer.
        epochs: Maximum epochs; training stops when dev loss has not improved for
            ``patience`` epochs and the best weights are kept.
        lr, weight_decay, batch_size, seed: Optimiser settings.
    """

    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 40
    patience: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    seed: int = 0

    def fit(self, x: np.ndarray, y: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray
            ) -> MLPHead:
        import torch

        torch.manual_seed(self.seed)
        self.net_ = build_head(self.spec, x.shape[1], y.shape[1])
        # positive weights per label balance the classes within the known cells
        pos = np.nansum(y, axis=0)
        neg = np.sum(~np.isnan(y), axis=0) - pos
        self.pos_weight_ = torch.tensor(np.where(pos > 0, neg / np.maximum(pos, 1), 1.0),
                                        dtype=torch.float32)
        opt = torch.optim.AdamW(self.net_.parameters(), lr=self.lr,
                                weight_decay=self.weight_decay)
        xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
        xd, yd = torch.tensor(x_dev, dtype=torch.float32), torch.tensor(y_dev,
                                                                         dtype=torch.float32)
        generator = torch.Generator().manual_seed(self.seed)
        best, best_state, waited = np.inf, None, 0
        self.history_ = []
        for _ in range(self.epochs):
            self.net_.train()
            for idx in torch.randperm(len(xt), generator=generator).split(self.batch_size):
                opt.zero_grad()
                loss = self._loss(self.net_(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
            self.net_.eval()
            with torch.no_grad():
                dev_loss = float(self._loss(self.net_(xd), yd))
            self.history_.append(dev_loss)
            if dev_loss < best - 1e-4:
                best, waited = dev_loss, 0
                best_state = {k: v.clone() for k, v in self.net_.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        return self

    @property
    def spec(self) -> dict:
        """The head's spec for ``warning.models.transformer.build_head``."""
        return {"type": "mlp", "hidden": self.hidden, "dropout": self.dropout}

    def _loss(self, logits, targets):
        return masked_bce(logits, targets, self.pos_weight_)

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """Raw logits ``[n, n_labels]``."""
        import torch

        self.net_.eval()
        with torch.no_grad():
            return self.net_(torch.tensor(x, dtype=torch.float32)).numpy()
