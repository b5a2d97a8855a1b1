"""A fake classifier (keyword-driven, no model files) and an app that uses it through
``app.dependency_overrides`` (STYLE.md item 13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from fixtures.services import uvicorn_thread

from serve.app import create_app, get_classifier
from serve.settings import ServeSettings
from warning.models.classifier import Classifier, ModelConfig

KEY = "test-key-5f0c1d2e3a4b"
SCORED = ["offensive", "hate", "threat"]
#: a word in a window makes its label's logit +4, else -4
WORDS = {
    "offensive": ("idiot", "идиот", "тупой", "stupid"),
    "hate": ("vermin", "паразиты"),
    "threat": ("kill", "убью", "burn"),
}


class FakeClassifier(Classifier):
    """Scores by keywords: deterministic, instant, and through the real scoring path
    (language, targets, risk, review, explanations)."""

    kind = "fake"

    def __init__(self) -> None:
        super().__init__(ModelConfig(
            kind="fake", name="fake", version="0.0.1", scored_labels=list(SCORED),
            thresholds=dict.fromkeys(SCORED, 0.5),
            review_bands={name: [0.4, 0.6] for name in SCORED},
            calibration={name: {"slope": 1.0, "intercept": 0.0} for name in SCORED},
            weak_languages=["ky", "kk", "uz", "other"],
        ))

    def _window_logits(self, windows: list[str]) -> np.ndarray:
        return np.array([[4.0 if any(w in window.lower() for w in WORDS[name]) else -4.0
                          for name in SCORED] for window in windows])

    @classmethod
    def _from_folder(cls, folder: Path, config: ModelConfig) -> Classifier:
        raise NotImplementedError

    def _save_weights(self, folder: Path) -> None:
        raise NotImplementedError


@pytest.fixture(scope="session")
def fake_classifier() -> FakeClassifier:
    return FakeClassifier()


@pytest.fixture
def key() -> str:
    return KEY


@pytest.fixture
def make_app(fake_classifier):
    """Build an app with settings overridden and the fake classifier swapped in by dependency
    override."""

    def make(**overrides: object):
        settings = ServeSettings(**{"api_keys": KEY, "rate_burst": 10_000, **overrides})
        app = create_app(settings)
        app.dependency_overrides[get_classifier] = lambda: fake_classifier
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app) -> TestClient:
    """A client with the key; the lifespan (which would load the real model) does not run."""
    return TestClient(app, headers={"Authorization": f"Bearer {KEY}"})


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app behind a real uvicorn on a loopback port, in a thread."""
    with uvicorn_thread(app) as port:
        yield f"http://127.0.0.1:{port}"
