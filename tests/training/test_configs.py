"""Every committed training configuration loads into its settings class (a typo in a key or a
language fails here, not an hour into a run)."""

import json
from pathlib import Path

import pytest

from training.baseline import BaselineConfig
from training.transformer import TransformerConfig

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "training" / "configs").glob("*.json"))


def test_the_configs_folder_is_found() -> None:
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_a_committed_config_loads(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    kind = BaselineConfig if path.name.startswith(("baseline", "specialist")) \
        else TransformerConfig
    config = kind.from_dict(data)
    assert config.name == data["name"]
    if path.name.startswith("specialist"):
        # a specialist names the one language its file is named after
        assert config.languages == (path.stem.split("_")[1],)
