"""The researcher notebooks: committed without outputs, and executed top to bottom on the tiny
configuration (``WARNING_NOTEBOOK_TINY=1``): a researcher's own CSV plus tiny public source
files, a baseline and a frozen-encoder transformer, evaluation with fairness, the cards, the
comparison with the shipped default, and the new folders loaded by the CLI and the API
(the notebooks run once per module; the tests share that run)."""

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


@pytest.fixture(scope="module")
def notebook_runs(tiny_corpus, fixture_data_dir, base_model_dir, kernel_path,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both notebooks executed once, top to bottom, as a researcher would: 01 retrains on
    their own CSV, 02 evaluates the baseline 01 made. Returns 01's output folder."""
    tmp = tmp_path_factory.mktemp("notebooks")
    out = tmp / "runs"
    env = {"JUPYTER_PATH": str(kernel_path), "WARNING_NOTEBOOK_TINY": "1",
           "WARNING_DATA_DIR": str(fixture_data_dir), "WARNING_NOTEBOOK_OUT": str(out),
           "WARNING_NOTEBOOK_CSV": str(_user_csv(tiny_corpus, tmp / "mine.csv")),
           "WARNING_NOTEBOOK_FEEDBACK": str(_feedback_export(tmp / "feedback.jsonl")),
           "WARNING_NOTEBOOK_VERSION": "nbtest", "MPLBACKEND": "Agg"}
    with pytest.MonkeyPatch.context() as monkeypatch:
        _execute("01_retrain.ipynb", env, monkeypatch)
        # 02 evaluates what 01 made, on the corpus 01 built
        _execute("02_evaluate.ipynb", {"WARNING_NOTEBOOK_MODEL": str(out / "baseline-nbtest"),
                                       "WARNING_NOTEBOOK_CORPUS": str(out / "corpus.parquet")},
                 monkeypatch)
    return out


KINDS = ("baseline", "transformer")
#: An insult from the tiny corpus's vocabulary, and a neutral post in the same words' register.
INSULT, NEUTRAL = "you stupid idiot moron", "the market opens at nine"


@pytest.mark.slow
def test_notebooks_retrain_then_evaluate_run_top_to_bottom(notebook_runs) -> None:
    out = notebook_runs
    assert (out / "corpus.parquet").is_file()
    for kind in KINDS:
        folder = out / f"{kind}-nbtest"
        config = json.loads((folder / "config.json").read_text())
        assert {"user:my_labels", "feedback"} <= {s["name"] for s in config["data_sources"]}
        card = (folder / "README.md").read_text(encoding="utf-8")
        for heading in ("## Fairness per identity group", "## In plain words",
                        "## Data protection"):
            assert heading in card
        assert "fairness" in json.loads((folder / "eval" / "report.json").read_text())
    report = json.loads((out / "evaluate" / "baseline-nbtest" / "report.json").read_text())
    assert set(report["fairness"]["templates"]) >= {"en", "ru", "ky", "kk", "uz"}
    assert (out / "evaluate" / "baseline-nbtest" / "reliability.png").is_file()


def _cli_scores(folder: Path) -> list[dict]:
    """``warning score --model FOLDER`` in a fresh process, as a researcher runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "warning.cli", "score", "--model", str(folder), INSULT, NEUTRAL],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_notebook_model_folder_scores_through_the_cli_and_the_api_alike(
        notebook_runs, kind) -> None:
    """The issue's "done when": the folder 01 wrote loads in the CLI and in the API, and both
    give the same scores, with the insult above the neutral post."""
    from fastapi.testclient import TestClient

    from serve.app import create_app
    from serve.settings import ServeSettings

    folder = notebook_runs / f"{kind}-nbtest"
    config = json.loads((folder / "config.json").read_text())
    assert (config["kind"], config["version"]) == (kind, "nbtest")
    model_id = f"{config['name']}@nbtest"
    cli = _cli_scores(folder)
    assert [r["model"] for r in cli] == [model_id] * 2
    key = "notebook-test-key-0000000"
    app = create_app(ServeSettings(api_keys=key, model=folder))
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/health").json() == {"status": "ok", "model": model_id}
        response = client.post("/v1/score", json={"texts": [INSULT, NEUTRAL]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["id"] == model_id
    api = body["results"]
    for from_cli, from_api in zip(cli, api, strict=True):
        assert from_api["lang"] == from_cli["lang"] == "en"
        assert from_api["flagged"] == from_cli["flagged"]
        assert set(from_api["scores"]) == set(from_cli["scores"]) >= {"offensive", "hate"}
        for name, value in from_cli["scores"].items():
            assert from_api["scores"][name] == pytest.approx(value, abs=1e-6), name
    insult, neutral = api
    assert insult["scores"]["offensive"] > neutral["scores"]["offensive"]
    assert insult["scores"]["extremism"] is None  # not trained: null, never a made-up score
