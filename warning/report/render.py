"""The report as one HTML page, from a Jinja2 template: every value escaped, nothing loaded from
outside, every word and number in the reader's language.

Posts are hostile input. The page comes from ``templates/report.html`` with Jinja2's
autoescaping on, so every text, channel, id and group name is escaped where it is written; this
module gathers the values (plain strings and numbers, formatted for the language) and never
writes HTML itself. The charts are drawn in the browser by the page's own script from a JSON
block (``tojson`` escapes it), with DOM calls that cannot turn a text into markup. The page's
Content-Security-Policy allows no network request and only its own script (by hash), so even a
missed escape could not load or run anything.

Words come from the gettext catalogue (:mod:`warning.i18n`), numbers and dates from Babel.

Example:
    >>> " | ".join(s.text for s in highlight("Ты идиот!", {"offensive": [("идиот", 2.5)]}))
    'Ты  | идиот | !'
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

import regex

from warning.alerts.cells import ALL, AlertReport
from warning.i18n import Lang
from warning.report.data import ReportData, SeverePost, labels_in_order
from warning.report.model_facts import ModelFacts
from warning.text.normalize import fold, normalize

if TYPE_CHECKING:
    from markupsafe import Markup

__all__ = ["COLOURS", "Segment", "highlight", "render"]

#: A colour per label, shared by lines, alert bands and highlighted words.
COLOURS = {"offensive": "#b45309", "hate": "#dc2626", "threat": "#7c3aed",
           "extremism": "#0f766e"}
_MAX_GROUP_CHARTS = 6
_DAILY_DAYS = 120  # a longer feed is charted per week
#: Words whose removal lowers a label's log-odds by less than this are listed, not highlighted
#: (the strongest word of each label always is).
HIGHLIGHT_MIN = 0.5
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+(?:['’\-][\p{L}\p{M}\p{N}_]+)*")
_EDGES = regex.compile(r"^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$")
_INLINE = regex.compile(r"\*\*(.+?)\*\*|`([^`]+)`")


@dataclass
class Segment:
    """A piece of a post's text; ``label`` and ``weight`` when it is a highlighted word."""

    text: str
    label: str | None = None
    weight: float = 0.0


def _resource(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _word_key(word: str) -> str:
    return _EDGES.sub("", fold(normalize(word)))


def highlight(text: str, explanation: dict[str, list[tuple[str, float]]]) -> list[Segment]:
    """``text`` in segments, the explanation's words marked with the label they drove most:
    each label's strongest word and any other that lowers its log-odds by
    :data:`HIGHLIGHT_MIN` or more when left out (the template escapes every segment).

    Example:
        >>> parts = highlight("a VERMIN b", {"hate": [("vermin", 2.0)]})
        >>> " | ".join(f"{s.text}:{s.label}" for s in parts)
        'a :None | VERMIN:hate |  b:None'
    """
    weights: dict[str, tuple[str, float]] = {}
    for label, pairs in explanation.items():
        for rank, (word, weight) in enumerate(pairs):
            # the strongest word of each label, and any other that moves it clearly
            if rank > 0 and weight < HIGHLIGHT_MIN:
                continue
            key = _word_key(str(word))
            if key and (key not in weights or weight > weights[key][1]):
                weights[key] = (label, float(weight))
    out: list[Segment] = []
    plain, position = [], 0
    for match in _WORD.finditer(text):
        hit = weights.get(_word_key(match.group()))
        if hit is None:
            continue
        plain.append(text[position:match.start()])
        if "".join(plain):
            out.append(Segment("".join(plain)))
        plain = []
        out.append(Segment(match.group(), hit[0], hit[1]))
        position = match.end()
    if text[position:]:
        out.append(Segment(text[position:]))
    return out


def markdown_blocks(lines: list[str]) -> list[dict[str, Any]]:
    """A card section's Markdown (paragraphs, ``- `` lists, bold, code) as blocks of
    ``(kind, text)`` pieces for the template (which escapes them)."""

    def inline(text: str) -> list[tuple[str, str]]:
        parts, position = [], 0
        for match in _INLINE.finditer(text):
            if match.start() > position:
                parts.append(("text", text[position:match.start()]))
            parts.append(("strong", match.group(1)) if match.group(1) is not None
                         else ("code", match.group(2)))
            position = match.end()
        if position < len(text):
            parts.append(("text", text[position:]))
        return parts

    blocks: list[dict[str, Any]] = []
    for line in lines:
        if line.startswith("- "):
            if not blocks or blocks[-1]["kind"] != "ul":
                blocks.append({"kind": "ul", "items": []})
            blocks[-1]["items"].append(inline(line[2:]))
        else:
            blocks.append({"kind": "p", "items": [inline(line)]})
    return blocks


def _pct(tr: Lang, part: float, whole: float, digits: int = 1) -> str:
    return tr.percent(part / whole, digits) if whole else "—"


def _summary(tr: Lang, data: ReportData, alerts: AlertReport | None,
             scan: dict[str, Any] | None) -> dict[str, Any]:
    _ = tr.gettext
    figures = [(tr.number(data.posts), _("posts scored"))]
    if scan and scan.get("rows_rejected") is not None:
        figures.append((tr.number(scan["rows_rejected"]),
                        _("records not scored (see the scan's rejects file)")))
    if data.first_day and data.last_day:
        days = (data.last_day - data.first_day).days + 1
        figures.append((tr.ngettext("{n} day", "{n} days", days).format(n=tr.number(days)),
                        _("{first} to {last}").format(first=tr.date(data.first_day),
                                                      last=tr.date(data.last_day))))
    if data.channels:
        figures.append((tr.number(len(data.channels)), _("channels")))
    for name in labels_in_order(data.labels):
        figures.append((tr.number(data.flagged[name]),
                        _("flagged {label} ({share})").format(
                            label=tr.label(name), share=_pct(tr, data.flagged[name],
                                                             data.posts))))
    figures.append((tr.number(data.risk["high"]),
                    _("high risk (threat, or hate against a named group)")))
    figures.append((tr.number(data.review), _("marked for review ({share})").format(
        share=_pct(tr, data.review, data.posts))))
    if alerts is not None:
        figures.append((tr.number(len(alerts.alerts)), _("alerts")))
        figures.append((tr.number(len(alerts.campaigns)), _("campaigns")))
    first = alerts.alerts[0].describe(tr, isolate=True) \
        if alerts is not None and alerts.alerts else None
    return {"figures": figures, "first_alert": first}


def _bdi(value: Any) -> Markup:
    """``value`` escaped inside ``<bdi>``: a name or id from the file, isolated so that its
    direction (a right-to-left name, a U+202E override) cannot reorder the text around it."""
    from markupsafe import Markup

    return Markup("<bdi>{}</bdi>").format(value)


def _where(tr: Lang, line: Any, ident: Any) -> Markup:
    from markupsafe import escape

    where = escape(tr.gettext("line {line}")).format(line=line)
    if ident is not None:
        where += escape(", ") + escape(tr.gettext("id {id}")).format(id=_bdi(ident))
    return where


def _alert_rows(tr: Lang, alerts: AlertReport | None) -> list[dict[str, Any]]:
    if alerts is None:
        return []
    _ = tr.gettext
    rows = []
    for rank, a in enumerate(alerts.alerts, start=1):
        window = (_("week of {date}") if a.window == "week" else _("day {date}")).format(
            date=tr.date(a.window_start))
        if a.question == "count":
            question = _("count, against all posts of the channel") if a.channel != ALL else \
                _("count, against all posts")
        else:
            question = _("share of the cell's posts")
        rows.append({
            "rank": rank, "window": window, "channel": a.channel, "target": a.target,
            "label": a.label, "question": question,
            "channel_name": _("(all)") if a.channel == ALL else a.channel,
            "target_name": _("(all)") if a.target == ALL else tr.group(a.target),
            "now": _("{count} of {volume} ({rate})").format(
                count=tr.number(a.count, 1), volume=tr.number(a.volume),
                rate=tr.percent(a.rate, 1 if a.rate < 0.1 else 0)),
            "before": tr.percent(a.baseline_rate, 1), "ratio": tr.number(a.ratio, 1),
            "q": tr.small(a.q_value), "score": tr.number(a.score, 1), "campaigns": a.campaigns,
            "evidence": [{"where": _where(tr, e.get("line"), e.get("id")),
                          "posted_at": str(e.get("posted_at", "")),
                          "score": tr.number(float(e.get("score") or 0), 2),
                          "text": None if e.get("text") is None else str(e["text"])}
                         for e in a.evidence]})
    return rows


def _campaign_rows(tr: Lang, alerts: AlertReport | None) -> list[dict[str, Any]]:
    if alerts is None:
        return []
    return [{"id": c.id, "text": c.text, "posts": tr.number(c.posts), "n_posts": c.posts,
             "authors": tr.number(c.authors), "channels": c.channel_names,
             "channel_names": c.channel_names, "targets": c.targets,
             "target_names": [tr.group(t) for t in c.targets], "labels": c.labels,
             "first_at": c.first_at, "last_at": c.last_at,
             "where": [_where(tr, line, ident) for line, ident in
                       zip(c.lines, c.post_ids, strict=True)]}
            for c in alerts.campaigns]


def _post_rows(tr: Lang, data: ReportData, top: int) -> list[dict[str, Any]]:
    _ = tr.gettext
    labels = labels_in_order(data.labels)
    rows = []
    for number, post in enumerate(data.severe):
        rows.append(_post(tr, post, labels, first=number < top))
    return rows


def _post(tr: Lang, post: SeverePost, labels: list[str], first: bool) -> dict[str, Any]:
    from markupsafe import Markup, escape

    _ = tr.gettext
    scores = ", ".join(f"{tr.label(n)} {tr.number(post.scores[n] or 0.0, 2)}" for n in labels
                       if post.scores.get(n) is not None and n in post.flagged)
    head = [scores, _("lang {lang}").format(lang=post.lang)]
    if post.channel:
        head.append(escape(_("channel {name}")).format(name=_bdi(post.channel)))
    head.append(post.posted_at or _("no time"))
    head.append(_where(tr, post.line, post.id))
    if post.targets:
        head.append(_("mentions {groups}").format(
            groups=", ".join(tr.group(t) for t in post.targets)))
    why = []
    for name in labels:
        words = post.explanation.get(name)
        if words:
            why.append((name, Markup(", ").join(
                Markup("{} (+{})").format(_bdi(_EDGES.sub("", w) or w), tr.number(v, 2))
                for w, v in words)))
    # a text posted again: every channel it was posted in, for the note and the filter
    channels = sorted(post.channels.items(), key=lambda kv: -kv[1])  # ties: first seen first
    return {"channels": list(post.channels) or ([post.channel] if post.channel else []),
            "targets": post.targets, "flagged": post.flagged,
            "risk": post.risk, "risk_name": _("{level} risk").format(level=tr.risk(post.risk)),
            "head": head, "review": post.review, "copies": post.copies, "first": first,
            "times": post.copies + 1, "times_shown": tr.number(post.copies + 1),
            "channel_counts": [(name, tr.number(n)) for name, n in channels],
            "segments": None if post.text is None else highlight(post.text, post.explanation),
            "why": why}


def _languages(tr: Lang, data: ReportData, facts: ModelFacts | None) -> list[dict[str, Any]]:
    labels = labels_in_order(data.labels)
    rows = []
    for lang, counts in sorted(data.languages.items(), key=lambda kv: -kv[1]["posts"]):
        posts = counts["posts"]
        f1 = facts.macro_f1.get(lang) if facts else None
        rows.append({"lang": lang, "posts": tr.number(posts), "share": _pct(tr, posts,
                                                                             data.posts),
                     "cells": [_pct(tr, counts[f"flagged:{n}"], posts) for n in labels],
                     "review": _pct(tr, counts["review"], posts),
                     "f1": "—" if f1 is None else tr.number(f1, 2),
                     "reasons": facts.weakness(lang, tr) if facts else []})
    return rows


def _interval(tr: Lang, entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    low, high = entry.get("low"), entry.get("high")
    span = f" [{tr.number(low, 2)}; {tr.number(high, 2)}]" \
        if low is not None and high is not None else ""
    return f"{tr.number(entry['value'], 3)}{span}"


def _model(tr: Lang, facts: ModelFacts | None) -> dict[str, Any]:
    if facts is None:
        return {}
    return {
        "overall": [[tr.label(n), tr.number(v.get("n", 0)), tr.number(v.get("positives", 0)),
                     _interval(tr, v.get("precision")), _interval(tr, v.get("recall")),
                     _interval(tr, v.get("f1")),
                     tr.number(facts.thresholds.get(n, float("nan")), 3)]
                    for n, v in facts.overall.items()],
        "macro_f1": ", ".join(f"{k} {tr.number(v, 2)}" for k, v in
                              sorted(facts.macro_f1.items())),
        "clean": ", ".join(tr.gettext("{lang} {share} of {n}").format(
            lang=k, share=tr.percent(v["flagged"], 1), n=tr.number(int(v["n"])))
            for k, v in sorted(facts.clean.items())),
        "functional": [[s, tr.number(r.get("cases") or 0), tr.percent(r.get("hateful") or 0, 1),
                        tr.percent(r.get("non_hateful") or 0, 1)]
                       for s, r in facts.functional.items()],
        "limitations": markdown_blocks(facts.limitations)}


def _chart_payload(tr: Lang, data: ReportData, alerts: AlertReport | None) -> dict[str, Any]:
    """What the page's script draws the charts from: per (channel, group) cell, per day (per
    week for a feed over four months), the posts and the flagged posts per label; the alerts'
    windows; the words of the charts."""
    _ = tr.gettext
    labels = labels_in_order(data.labels)
    first, last = data.first_day, data.last_day
    payload: dict[str, Any] = {"lang": tr.code, "labels": labels,
                               "names": {n: tr.label(n) for n in labels},
                               "colours": {n: COLOURS.get(n, "#374151") for n in labels},
                               "cells": [], "alerts": [], "groups": {}}
    if first is None or last is None:
        return payload
    step = 1 if (last - first).days <= _DAILY_DAYS else 7
    start = first if step == 1 else first - timedelta(days=first.weekday())
    count = (last - start).days // step + 1
    payload.update(start=start.isoformat(), step=step, bins=[
        tr.month_day(start + timedelta(days=step * i)) for i in range(count)],
        days=[(start + timedelta(days=step * i)).isoformat() for i in range(count)])
    for (channel, target), days in sorted(data.cells.items()):
        bins: dict[int, list[int]] = {}
        for day, counter in days.items():
            i = (day - start).days // step
            row = bins.setdefault(i, [i, 0] + [0] * len(labels))
            row[1] += counter.get("volume", 0)
            for j, name in enumerate(labels):
                row[2 + j] += counter.get(f"flagged:{name}", 0)
        payload["cells"].append({"c": channel, "t": target,
                                 "d": [bins[i] for i in sorted(bins)]})
    payload["groups"] = {t: tr.group(t) for t, _n in data.target_flagged.most_common()}
    if alerts is not None:
        payload["alerts"] = [{"window": a.window, "start": a.window_start, "end": a.window_end,
                              "c": a.channel, "t": a.target, "label": a.label,
                              "text": a.describe(tr, isolate=True)}
                             for a in alerts.alerts]
    payload["max_groups"] = _MAX_GROUP_CHARTS
    payload["all"] = ALL
    payload["words"] = {
        "trend": _("Share of posts flagged, per {step} and label"),
        "volume": _("Posts per {step}"),
        "group": _("Posts that mention {group} ({n}): share flagged per {step}"),
        "day": _("day"), "week": _("week"), "alert": _("alert"),
        "of": _("{flagged} of {volume}"),
        "no_groups": _("No flagged post mentions an identity group here."),
        "shown": _("{alerts} alerts, {campaigns} campaigns, {posts} posts shown")}
    return payload


def render(data: ReportData, alerts: AlertReport | None, facts: ModelFacts | None,
           meta: dict[str, str], version: str, scan: dict[str, Any] | None = None,
           alert_notes: list[str] | None = None, post_notes: list[str] | None = None,
           lang: str | Lang | None = None, top: int = 20) -> str:
    """The whole page as a string (see the module docstring).

    Args:
        data: The file's counts and severe posts.
        alerts: The alerts and campaigns (None when they could not be computed).
        facts: The model's card and evaluation (None when its folder was not found).
        meta: ``file``, ``model`` and ``generated`` for the page's head line.
        version: The package's version, for the footer.
        scan: The scan's summary, when found.
        alert_notes, post_notes: Notes shown with the alerts and the posts.
        lang: ``en`` or ``ru``; None: ``WARNING_REPORT_LANG``.
        top: Posts shown at once in the list of the most severe.
    """
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    tr = lang if isinstance(lang, Lang) else Lang(lang)
    env = Environment(loader=PackageLoader("warning.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      extensions=["jinja2.ext.i18n"], trim_blocks=False)
    env.install_gettext_translations(tr.translations, newstyle=True)  # type: ignore[attr-defined]
    script = _resource("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           f"img-src data:; base-uri 'none'; form-action 'none'")
    labels = labels_in_order(data.labels)
    channels = [(c, c) for c, _n in data.channels.most_common()]
    groups = [(t, tr.group(t)) for t, _n in data.target_flagged.most_common()]
    return env.get_template("report.html").render(
        tr=tr, csp=csp, script=Markup(script), meta=meta, version=version, data=data,
        alerts=alerts, alert_notes=alert_notes or [], post_notes=post_notes or [],
        facts=facts, labels=labels, top=top,
        timezone=alerts.config.timezone if alerts else "UTC",
        filters={"channels": channels, "groups": groups, "labels": labels},
        summary=_summary(tr, data, alerts, scan), alert_rows=_alert_rows(tr, alerts),
        campaign_rows=_campaign_rows(tr, alerts), posts=_post_rows(tr, data, top),
        languages=_languages(tr, data, facts), model=_model(tr, facts),
        scored_by=", ".join(sorted(data.models)) or tr.gettext("unknown"),
        payload=_chart_payload(tr, data, alerts))
