"""The researcher notebooks: committed without outputs, and executed top to bottom on the tiny
configuration (``WARNING_NOTEBOOK_TINY=1``): a researcher's own CSV plus tiny public source
files, a baseline and a frozen-encoder transformer, evaluation with fairness, the cards, the
comparison with the shipped default, and the new folder loaded by the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "early-warning-tests"


def test_notebooks_are_committed_without_outputs() -> None:
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.name for p in paths] == ["01_retrain.ipynb", "02_evaluate.ipynb"]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        assert path.name in (NOTEBOOKS / "README.md").read_text(encoding="utf-8")


def _user_csv(corpus, path: Path) -> Path:
    """The tiny corpus as a researcher's labelled CSV: text, lang, labels as 1/0/empty."""
    frame = corpus[["text", "lang", "offensive", "hate", "threat"]].copy()
    for name in ("offensive", "hate", "threat"):
        frame[name] = frame[name].map(lambda v: "" if np.isnan(v) else str(int(v)))
    frame.to_csv(path, index=False)
    return path


def _execute(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=600,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernel spec that runs this interpreter, found first through ``JUPYTER_PATH``."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "early-warning tests", "language": "python"}))
    return root


def _feedback_export(path: Path) -> Path:
    """A reviewed feedback export, as ``warning feedback export`` writes it."""
    from warning.feedback import FeedbackStore

    with FeedbackStore(path.with_suffix(".db")) as store:
        for text, labels in (("Ты тупой идиот, заткнись уже", {"offensive": True}),
                             ("Бүгүн Ошко барам, ким барат?", {"offensive": False,
                                                               "hate": False}),
                             ("You people are vermin, get out", {"hate": True}),
                             ("I will find you and kill you", {"threat": True}),
                             ("Кто знает хорошего стоматолога в Бишкеке?", {"offensive": False}),
                             ("What a lovely morning in Karakol", {"threat": False})):
            item = store.submit(text, labels, submitter="key:a")
            store.review(item.id, reviewer="reviewer", confirm=True)
        store.export(path)
    return path


@pytest.mark.slow
def test_notebooks_retrain_then_evaluate_run_top_to_bottom(
        tiny_corpus, fixture_data_dir, base_model_dir, kernel_path, tmp_path,
        monkeypatch) -> None:
    out = tmp_path / "runs"
    env = {"JUPYTER_PATH": str(kernel_path), "WARNING_NOTEBOOK_TINY": "1",
           "WARNING_DATA_DIR": str(fixture_data_dir), "WARNING_NOTEBOOK_OUT": str(out),
           "WARNING_NOTEBOOK_CSV": str(_user_csv(tiny_corpus, tmp_path / "mine.csv")),
           "WARNING_NOTEBOOK_FEEDBACK": str(_feedback_export(tmp_path / "feedback.jsonl")),
           "WARNING_NOTEBOOK_VERSION": "nbtest", "MPLBACKEND": "Agg"}
    _execute("01_retrain.ipynb", env, monkeypatch)
    assert (out / "corpus.parquet").is_file()
    for kind in ("baseline", "transformer"):
        folder = out / f"{kind}-nbtest"
        config = json.loads((folder / "config.json").read_text())
        assert {"user:my_labels", "feedback"} <= {s["name"] for s in config["data_sources"]}
        card = (folder / "card.md").read_text(encoding="utf-8")
        for heading in ("## Fairness per identity group", "## In plain words",
                        "## Data protection"):
            assert heading in card
        assert "fairness" in json.loads((folder / "eval" / "report.json").read_text())
        # the CLI loads the new folder
        done = subprocess.run(
            [sys.executable, "-m", "warning.cli", "score", "--model", str(folder),
             "you stupid idiot"], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[0])["model"].endswith("@nbtest")
    # 02 evaluates what 01 made, on the corpus 01 built
    _execute("02_evaluate.ipynb", {"WARNING_NOTEBOOK_MODEL": str(out / "baseline-nbtest"),
                                   "WARNING_NOTEBOOK_CORPUS": str(out / "corpus.parquet")},
             monkeypatch)
    report = json.loads((out / "evaluate" / "baseline-nbtest" / "report.json").read_text())
    assert set(report["fairness"]["templates"]) >= {"en", "ru", "ky"}
    assert (out / "evaluate" / "baseline-nbtest" / "reliability.png").is_file()
