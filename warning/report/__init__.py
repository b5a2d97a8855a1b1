"""``warning report``: one self-contained HTML page from a scanned feed, readable offline.

The page holds the summary figures; the share of posts flagged per day (or week) and label,
overall and for the groups named in the most flagged posts, with the alerts shaded over their
windows; the alert table with its evidence posts; the campaigns (coordinated posting); the most
severe posts with the words that drove their scores highlighted; a breakdown by language that
marks the languages the model is weak in; and the model's key figures from its card and
evaluation report. Filters by channel, group and label change the charts, alerts, campaigns and
posts shown, in the page itself. It comes from a Jinja2 template with autoescaping
(:mod:`warning.report.render`), in English or Russian (``lang``, default
``WARNING_REPORT_LANG``); the charts are drawn by the page's own script; nothing is fetched
from anywhere.

The scanned file is read in chunks (memory does not grow with its size); the alerts are those
of :func:`warning.alerts.find_alerts` with the same settings; the explanations re-score only
the few posts shown, with the model that scored the file.

Example:
    >>> from warning.report import write_report
    >>> write_report("scored.parquet", "report.html")  # doctest: +SKIP
    PosixPath('report.html')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warning.report.data import ReportData, ReportError, collect
from warning.report.model_facts import ModelFacts, find_model_folder
from warning.report.render import render

if TYPE_CHECKING:
    from warning.alerts.cells import AlertConfig, AlertReport
    from warning.i18n import Lang
    from warning.models.classifier import Classifier

__all__ = ["ReportError", "build_report", "default_report_path", "write_report"]


def default_report_path(scored: Path | str) -> Path:
    """``scored.parquet`` -> ``scored.report.html``, beside the scanned file.

    Example:
        >>> default_report_path("runs/demo/scored.parquet").as_posix()
        'runs/demo/scored.report.html'
    """
    from warning.scanning.scanner import scan_paths

    output = scan_paths(scored)
    return output["summary"].with_name(output["summary"].name.replace(".summary.json",
                                                                      ".report.html"))


def _scan_summary(scored: Path, say: Callable[[str], None]) -> dict[str, Any] | None:
    """The scan's summary; None when there is none, or when it cannot be used (said)."""
    from warning.scanning.metadata import ScanMetadataError, read_scan_summary

    try:
        return read_scan_summary(scored)
    except ScanMetadataError as exc:
        say(f"report: warning: {exc}; the report is made without it")
        return None


def _explain(data: ReportData, classifier: Classifier, notes: list[str], tr: Lang,
             top: int) -> None:
    """Fill the explanations of the file's ``top`` most severe posts, scoring only those posts
    again (the posts kept for the filters' channels, groups and labels are shown without)."""
    posts = [p for p in data.severe[:top] if p.text]
    if not posts:
        return
    scored = classifier.score([p.text for p in posts], explain=True)
    for post, result in zip(posts, scored, strict=True):
        # the file's flags decide which labels are explained, as the scan saw them
        post.explanation = {k: v for k, v in (result.explanation or {}).items()
                            if k in post.flagged}
    notes.append(tr.gettext("Explanations by {model}, for the {top} most severe posts of the "
                            "file.").format(model=classifier.name, top=top))


def build_report(scored: Path | str, config: AlertConfig | None = None,
                 model_path: Path | str | None = None, classifier: Classifier | None = None,
                 top: int = 20, explain: bool = True,
                 log: Callable[[str], None] | None = None,
                 lang: str | None = None) -> tuple[str, AlertReport | None]:
    """The report's HTML, and the alerts it shows.

    Args:
        scored: The output of ``warning scan``.
        config: Alert windows and thresholds; None: the ``WARNING_ALERT_*`` settings.
        model_path: The model folder that scored the file, for its card and explanations;
            None: found among the shipped models by the name the file records.
        classifier: The loaded model, when the caller has it (``warning scan --report``).
        top: Most severe posts shown.
        explain: Highlight the words that drove the severe posts' scores (loads the model).
        log: Where notes go (e.g. ``print``).
        lang: ``en`` or ``ru``; None: ``WARNING_REPORT_LANG``.

    Raises:
        ReportError: The file is missing or not a scan output, or ``top`` is below 1.
    """
    from warning.alerts.cells import AlertConfig, AlertError, find_alerts
    from warning.i18n import Lang

    if top < 1:  # an empty list would read "No post was flagged."
        raise ReportError(f"--top (the most severe posts shown) must be at least 1, got {top}")
    tr = Lang(lang)

    say = log or (lambda _message: None)
    scored = Path(scored)
    config = config or AlertConfig.from_settings()
    data, _source = collect(scored, config, top)
    alert_notes: list[str] = []
    try:
        alerts = find_alerts(scored, config)
    except AlertError as exc:
        alerts = None
        alert_notes.append(exc.args[0] if exc.args else str(exc))  # a Message: translated
    model_name = ";".join(sorted(data.models)) or None
    folder = find_model_folder(model_name, model_path)
    if folder is None and model_path is not None:
        folder = Path(model_path)
        say(f"report: the file was scored by {model_name}, not by the model in {folder}")
    facts = ModelFacts.from_folder(folder) if folder is not None and \
        (folder / "config.json").is_file() else None
    if facts is None:
        say(f"report: no model folder found for {model_name}; pass --model to show its card")
    post_notes: list[str] = []
    if explain and data.severe and data.has_text:
        if classifier is None and folder is not None and facts is not None and \
                facts.name == model_name:
            from warning.models.classifier import Classifier

            say(f"report: loading {facts.name} to explain {min(top, len(data.severe))} "
                f"post(s)")
            classifier = Classifier.load(folder)
        if classifier is not None and classifier.name == model_name:
            _explain(data, classifier, post_notes, tr, top)
        else:
            post_notes.append(tr.gettext("No highlighted words: the model that scored the "
                                         "file ({model}) was not found; pass --model.").format(
                                             model=model_name))
    scan = _scan_summary(scored, say)
    from warning import __version__

    meta = {"file": str(scored), "model": model_name or tr.gettext("an unknown model"),
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    html = render(data, alerts, facts, meta, __version__, scan=scan, alert_notes=alert_notes,
                  post_notes=post_notes, lang=tr, top=top)
    return html, alerts


def write_report(scored: Path | str, output: Path | str, config: AlertConfig | None = None,
                 model_path: Path | str | None = None, classifier: Classifier | None = None,
                 top: int = 20, explain: bool = True,
                 log: Callable[[str], None] | None = None, lang: str | None = None) -> Path:
    """Write the report of ``scored`` to ``output`` (see :func:`build_report`)."""
    html, _alerts = build_report(scored, config, model_path, classifier, top, explain, log,
                                 lang)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, output)
    return output
