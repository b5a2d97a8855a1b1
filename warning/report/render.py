"""The report as one HTML page: every value escaped, plots inline, nothing loaded from outside.

Posts are hostile input: every text, channel, id and group name goes through
:func:`html.escape` before it reaches the page, and the page's Content-Security-Policy allows
no network request and only its own script (by hash), so even a missed escape could not load
or run anything.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, timedelta
from html import escape
from importlib import resources
from string import Template
from typing import Any

import regex

from warning.alerts.cells import ALL, Alert, AlertReport
from warning.report import charts
from warning.report.data import ReportData, SeverePost, labels_in_order
from warning.report.model_facts import ModelFacts
from warning.text.normalize import fold, normalize

__all__ = ["COLOURS", "highlight", "render"]

#: A colour per label, shared by lines, alert bands and highlighted words.
COLOURS = {"offensive": "#b45309", "hate": "#dc2626", "threat": "#7c3aed",
           "extremism": "#0f766e"}
_MAX_GROUP_CHARTS = 6
_DAILY_MIN = 5.0  # posts per day under which a chart shows weeks
#: Words whose removal lowers a label's log-odds by less than this are listed, not highlighted
#: (the strongest word of each label always is).
HIGHLIGHT_MIN = 0.5
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+(?:['’\-][\p{L}\p{M}\p{N}_]+)*")
_EDGES = regex.compile(r"^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$")


def _resource(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def _word_key(word: str) -> str:
    return _EDGES.sub("", fold(normalize(word)))


def highlight(text: str, explanation: dict[str, list[tuple[str, float]]]) -> str:
    """``text`` escaped, with the explanation's words wrapped in ``<mark>`` (coloured by the
    label they drove most, the label and weight on hover): each label's strongest word and any
    other that lowers its log-odds by :data:`HIGHLIGHT_MIN` or more when left out.

    Example:
        >>> highlight("Ты <b>идиот</b>!", {"offensive": [("идиот", 2.5)]})
        'Ты &lt;b&gt;<mark class="m-offensive" title="offensive +2.50">идиот</mark>&lt;/b&gt;!'
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
    out, position = [], 0
    for match in _WORD.finditer(text):
        out.append(escape(text[position:match.start()]))
        word = match.group()
        hit = weights.get(_word_key(word))
        if hit:
            label, weight = hit
            out.append(f'<mark class="m-{escape(label)}" title="{escape(label)} +{weight:.2f}">'
                       f"{escape(word)}</mark>")
        else:
            out.append(escape(word))
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def _markdown_lines(lines: list[str]) -> str:
    """A card section's Markdown (paragraphs, ``- `` lists, bold, code) as HTML, escaped."""

    def inline(text: str) -> str:
        text = escape(text)
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)

    out, in_list = [], False
    for line in lines:
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline(line[2:])}</li>")
        else:
            if in_list:
                out.append("</ul>")
                in_list = False
            out.append(f"<p>{inline(line)}</p>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def _figure(value: str, what: str) -> str:
    return (f'<div class="figure"><div class="value">{escape(value)}</div>'
            f'<div class="what">{escape(what)}</div></div>')


def _alert_words(alert: Alert) -> str:
    return alert.describe()


def _summary(data: ReportData, alerts: AlertReport | None, scan: dict[str, Any] | None) -> str:
    figures = [_figure(f"{data.posts:,}", "posts scored")]
    if scan and scan.get("rows_rejected") is not None:
        figures.append(_figure(f"{scan['rows_rejected']:,}", "records not scored (see the "
                                                            "scan's rejects file)"))
    if data.first_day:
        figures.append(_figure(f"{(data.last_day - data.first_day).days + 1} days",
                               f"{data.first_day:%d %b %Y} to {data.last_day:%d %b %Y}"))
    if data.channels:
        figures.append(_figure(f"{len(data.channels):,}", "channels"))
    for name in labels_in_order(data.labels):
        figures.append(_figure(f"{data.flagged[name]:,}",
                               f"flagged {name} ({_pct(data.flagged[name], data.posts)})"))
    figures.append(_figure(f"{data.risk['high']:,}", "high risk (threat, or hate against a "
                                                      "named group)"))
    figures.append(_figure(f"{data.review:,}", f"marked for review "
                                               f"({_pct(data.review, data.posts)})"))
    if alerts is not None:
        figures.append(_figure(f"{len(alerts.alerts):,}", "alerts"))
    out = [f'<div class="figures">{"".join(figures)}</div>']
    if alerts is not None and alerts.alerts:
        out.append(f"<p><strong>The first alert:</strong> {escape(_alert_words(alerts.alerts[0]))}"
                   f" (<a href=\"#alert-1\">details</a>).</p>")
    elif alerts is not None:
        out.append("<p>No alert: no cell's share of flagged posts rose more than chance "
                   "allows.</p>")
    if data.without_time:
        out.append(f'<p class="note">{data.without_time:,} post(s) have no time and are left out '
                   f"of the time series and the alerts.</p>")
    return "\n".join(out)


def _bins(data: ReportData, per_day: float | None = None) -> tuple[list[date], int]:
    """The x positions: every day, or every week (from Monday) when the span is long or the
    posts are few (``per_day`` below :data:`_DAILY_MIN`): a share of two posts says little."""
    first, last = data.first_day, data.last_day
    if first is None or last is None:
        return [], 1
    if (last - first).days <= 120 and (per_day is None or per_day >= _DAILY_MIN):
        return [first + timedelta(days=i) for i in range((last - first).days + 1)], 1
    start = first - timedelta(days=first.weekday())
    return [start + timedelta(days=7 * i) for i in range((last - start).days // 7 + 1)], 7


def _binned(cells: dict[date, Any], bins: list[date], step: int) -> list[dict[str, int]]:
    out = [dict() for _ in bins]
    index = {d: i for i, d in enumerate(bins)}
    for day, counter in cells.items():
        start = day if step == 1 else day - timedelta(days=day.weekday())
        i = index.get(start)
        if i is None:
            continue
        for key, value in counter.items():
            out[i][key] = out[i].get(key, 0) + value
    return out


def _rate_series(binned: list[dict[str, int]], labels: list[str]) -> list[charts.Series]:
    series = []
    for name in labels:
        values, notes = [], []
        for cell in binned:
            volume = cell.get("volume", 0)
            flagged = cell.get(f"flagged:{name}", 0)
            values.append(flagged / volume if volume else None)
            notes.append(f"{flagged} of {volume}")
        series.append(charts.Series(name, values, COLOURS.get(name, "#374151"), notes))
    return series


def _bands(alerts: AlertReport | None, target: str) -> list[charts.Band]:
    if alerts is None:
        return []
    bands: dict[tuple[str, str], charts.Band] = {}
    for rank, alert in enumerate(alerts.alerts, start=1):
        if alert.target != target:
            continue
        text = f"alert {rank}: {_alert_words(alert)}"
        span = (alert.window_start, alert.window_end)
        if span in bands:  # one band per window, coloured by its highest-ranked alert
            bands[span].text += "\n" + text
            continue
        bands[span] = charts.Band(date.fromisoformat(alert.window_start),
                                  date.fromisoformat(alert.window_end),
                                  COLOURS.get(alert.label, "#374151"), text)
    return list(bands.values())


def _trends(data: ReportData, alerts: AlertReport | None) -> str:
    days = len(data.days) or 1
    bins, step = _bins(data, sum(c["volume"] for c in data.days.values()) / days)
    if not bins:
        return "<p>No post has a time: there is nothing to plot.</p>"
    unit = "day" if step == 1 else "week"
    binned = _binned(data.days, bins, step)
    labels = labels_in_order(data.labels)
    volume = charts.bar_chart(bins, [c.get("volume", 0) for c in binned],
                              f"Posts per {unit}", step=step)
    rates = charts.line_chart(
        bins, _rate_series(binned, labels), f"Share of posts flagged, per {unit} and label",
        bands=_bands(alerts, ALL), step=step,
        description=f"Share of posts flagged per {unit} for {', '.join(labels)}, with alerts")
    return (f'<p class="note">Times are in the alerts\' time zone '
            f"({escape(alerts.config.timezone) if alerts else 'UTC'}). Shaded windows with a "
            f"triangle are alerts on all posts (in any channel); hover for the figures.</p>"
            f"{rates}{volume}")


def _groups(data: ReportData, alerts: AlertReport | None) -> str:
    ranked = [t for t, n in data.target_flagged.most_common() if n > 0][:_MAX_GROUP_CHARTS]
    if data.first_day is None or not ranked:
        return "<p>No flagged post mentions an identity group.</p>"
    labels = labels_in_order(data.labels)
    out = [f'<p class="note">The {len(ranked)} group(s) named in the most flagged posts. Each '
           f"line is the share of the posts that mention the group which were flagged (per "
           f"week when they are fewer than {_DAILY_MIN:g} a day); shaded windows are alerts on "
           f"that group.</p>"]
    span = (data.last_day - data.first_day).days + 1
    for target in ranked:
        volume = sum(c["volume"] for c in data.targets[target].values())
        bins, step = _bins(data, volume / span)
        unit = "day" if step == 1 else "week"
        binned = _binned(data.targets[target], bins, step)
        total = sum(c.get("volume", 0) for c in binned)
        out.append(charts.line_chart(
            bins, _rate_series(binned, labels),
            f"Posts that mention {target} ({total:,}): share flagged per {unit}",
            bands=_bands(alerts, target), step=step))
    return "\n".join(out)


def _evidence(alert: Alert) -> str:
    if not alert.evidence:
        return ""
    items = []
    for post in alert.evidence:
        where = f"line {post.get('line')}" + (f", id {post['id']}" if post.get("id") is not None
                                              else "")
        text = post.get("text")
        body = f'<div class="evidence">{escape(str(text))}</div>' if text is not None else ""
        items.append(f"<li>{escape(where)}, {escape(str(post.get('posted_at', '')))}, "
                     f"{alert.label} {float(post.get('score') or 0):.2f}{body}</li>")
    return (f"<details><summary>{len(alert.evidence)} post(s)</summary><ol>{''.join(items)}"
            f"</ol></details>")


def _alerts(alerts: AlertReport | None, notes: list[str]) -> str:
    if alerts is None:
        return "<p>Alerts could not be computed: " + escape("; ".join(notes)) + "</p>"
    cfg = alerts.config
    out = [f'<p class="note">A cell (a {" or ".join(cfg.windows)}, a channel or all of them, a '
           f"target group or all posts, a label) alerts when its share of flagged posts rose "
           f"against its previous {cfg.baseline} windows more than chance allows: at least "
           f"{cfg.min_count} flagged posts, false discovery rate {cfg.fdr:g} across all "
           f"{alerts.cells_tested:,} cells tested. The ACLED ratio is this window's count over "
           f"the average of the previous ones. Ranked by score (see the README).</p>"]
    out += [f'<p class="note">{escape(n)}</p>' for n in alerts.notes]
    if not alerts.alerts:
        out.append("<p>No alert.</p>")
        return "\n".join(out)
    rows = []
    for rank, a in enumerate(alerts.alerts, start=1):
        rows.append(
            f'<tr id="alert-{rank}"><td class="num">{rank}</td>'
            f"<td>{escape(a.window)} of {escape(a.window_start)}</td>"
            f"<td>{escape(a.channel)}</td><td>{escape(a.target)}</td>"
            f'<td><span style="color:{COLOURS.get(a.label, "#374151")}">&#9632;</span> '
            f"{escape(a.label)}</td>"
            f'<td class="num">{a.count:g} of {a.volume:,} ({a.rate:.0%})</td>'
            f'<td class="num">{a.baseline_rate:.1%}</td><td class="num">{a.ratio:.1f}</td>'
            f'<td class="num">{a.q_value:.2g}</td><td class="num">{a.score:.1f}</td>'
            f"<td>{_evidence(a)}</td></tr>")
    out.append('<table class="alerts"><thead><tr><th class="num">#</th><th>window</th>'
               '<th>channel</th><th>target</th><th>label</th><th class="num">flagged now</th>'
               '<th class="num">share before</th><th class="num">ACLED ratio</th>'
               '<th class="num">q</th><th class="num">score</th><th>evidence</th></tr></thead>'
               f"<tbody>{''.join(rows)}</tbody></table>")
    return "\n".join(out)


def _post(post: SeverePost, labels: list[str]) -> str:
    scores = ", ".join(f"{n} {post.scores[n]:.2f}" for n in labels
                       if post.scores.get(n) is not None and n in post.flagged)
    head = [f'<span class="badge risk-{escape(post.risk)}">{escape(post.risk)} risk</span>',
            escape(scores), f"lang {escape(post.lang)}"]
    if post.channel:
        head.append(f"channel {escape(post.channel)}")
    head.append(escape(post.posted_at or "no time"))
    head.append(f"line {post.line}" + (f", id {escape(str(post.id))}" if post.id is not None
                                       else ""))
    if post.targets:
        head.append("mentions " + escape(", ".join(post.targets)))
    if post.review:
        head.append("<strong>marked for review</strong>")
    if post.copies:
        head.append(f"<strong>posted {post.copies + 1} times</strong> (the first is shown)")
    if post.text is None:
        body = '<div class="text note">The scan did not keep the text (--no-text).</div>'
    else:
        body = f'<div class="text">{highlight(post.text, post.explanation)}</div>'
    why = ""
    if post.explanation:
        parts = []
        for name in labels:
            words = post.explanation.get(name)
            if words:
                parts.append(f'<mark class="m-{escape(name)}">{escape(name)}</mark>: '
                             + escape(", ".join(f"{_EDGES.sub('', w) or w} (+{v:.2f})"
                                                for w, v in words)))
        if parts:
            why = '<div class="why">Words that drove the scores: ' + "; ".join(parts) + "</div>"
    return f'<article class="post"><div class="head">{" · ".join(head)}</div>{body}{why}</article>'


def _posts(data: ReportData, notes: list[str]) -> str:
    if not data.severe:
        return "<p>No post was flagged.</p>"
    labels = labels_in_order(data.labels)
    intro = (f'<p class="note">The {len(data.severe)} flagged posts with the highest risk and '
             f"scores. Highlighted words are those whose removal lowers the score most "
             f"(occlusion); hover a word for its label and weight.</p>")
    return intro + "".join(f'<p class="note">{escape(n)}</p>' for n in notes) + \
        "\n".join(_post(p, labels) for p in data.severe)


def _languages(data: ReportData, facts: ModelFacts | None) -> str:
    labels = labels_in_order(data.labels)
    head = "".join(f'<th class="num">{escape(n)}</th>' for n in labels)
    rows = []
    for lang, counts in sorted(data.languages.items(), key=lambda kv: -kv[1]["posts"]):
        posts = counts["posts"]
        reasons = facts.weakness(lang) if facts else []
        f1 = facts.macro_f1.get(lang) if facts else None
        cells = "".join(f'<td class="num">{_pct(counts[f"flagged:{n}"], posts)}</td>'
                        for n in labels)
        weak = ("<strong>weak</strong>: " + escape("; ".join(reasons))) if reasons else ""
        shown = "—" if f1 is None else f"{f1:.2f}"
        rows.append(f'<tr class="{"weak" if reasons else ""}"><td>{escape(lang)}</td>'
                    f'<td class="num">{posts:,}</td>'
                    f'<td class="num">{_pct(posts, data.posts)}</td>{cells}'
                    f'<td class="num">{_pct(counts["review"], posts)}</td>'
                    f'<td class="num">{shown}</td><td>{weak}</td></tr>')
    note = ("<p class=\"note\">Share of each language's posts flagged per label, and marked for "
            "review. <em>Model macro-F1</em> is the model's mean F1 over the labels with "
            "examples in that language, on its test split. Rows in red are languages the model "
            "is weak in (from its evaluation report and config): read their flags, and the lack "
            "of them, with care.</p>")
    if facts is None:
        note += ("<p class=\"note\">The model's folder was not found, so its evaluation "
                 "could not be shown.</p>")
    return (note + f'<table><thead><tr><th>language</th><th class="num">posts</th>'
            f'<th class="num">share</th>{head}<th class="num">review</th>'
            f'<th class="num">model macro-F1</th><th>weakness</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _interval(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    low, high = entry.get("low"), entry.get("high")
    span = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return f"{entry['value']:.3f}{span}"


def _model(facts: ModelFacts | None, models: set[str]) -> str:
    scored_by = ", ".join(sorted(models)) or "unknown"
    if facts is None:
        return (f"<p>Scored by <strong>{escape(scored_by)}</strong>. Its model folder was not "
                f"found (pass --model), so its card's figures are not shown.</p>")
    out = [f"<p>Scored by <strong>{escape(scored_by)}</strong> (kind {escape(facts.kind)}, "
           f"made {escape(str(facts.created or '?'))}); its card is "
           f"<code>{escape(facts.folder)}/README.md</code>.</p>"]
    if facts.name not in models:
        out.append(f'<p class="caution">These figures are of {escape(facts.name)}, not of the '
                   f"model that scored the file.</p>")
    if facts.overall:
        rows = "".join(
            f"<tr><td>{escape(n)}</td><td class=\"num\">{v.get('n', 0):,}</td>"
            f"<td class=\"num\">{v.get('positives', 0):,}</td>"
            f"<td class=\"num\">{_interval(v.get('precision'))}</td>"
            f"<td class=\"num\">{_interval(v.get('recall'))}</td>"
            f"<td class=\"num\">{_interval(v.get('f1'))}</td>"
            f"<td class=\"num\">{facts.thresholds.get(n, float('nan')):.3f}</td></tr>"
            for n, v in facts.overall.items())
        out.append(f"<h3>On its test split ({facts.rows or 0:,} rows, 95% intervals)</h3>"
                   '<table><thead><tr><th>label</th><th class="num">rows</th>'
                   '<th class="num">positives</th><th class="num">precision</th>'
                   '<th class="num">recall</th><th class="num">F1</th>'
                   f'<th class="num">threshold</th></tr></thead><tbody>{rows}</tbody></table>')
    if facts.macro_f1:
        cells = ", ".join(f"{escape(k)} {v:.2f}" for k, v in sorted(facts.macro_f1.items()))
        out.append(f"<p>Macro-F1 per language: {cells}.</p>")
    if facts.clean:
        cells = ", ".join(f"{escape(k)} {v['flagged']:.1%} of {int(v['n']):,}"
                          for k, v in sorted(facts.clean.items()))
        out.append(f"<p>Clean text only (false alarms): {cells} flagged.</p>")
    if facts.functional:
        rows = "".join(
            f"<tr><td>{escape(s)}</td><td class=\"num\">{r.get('cases') or 0}</td>"
            f"<td class=\"num\">{_pct(r.get('hateful') or 0, 1)}</td>"
            f"<td class=\"num\">{_pct(r.get('non_hateful') or 0, 1)}</td></tr>"
            for s, r in facts.functional.items())
        out.append("<h3>Our own test suites (written by this project)</h3>"
                   '<table><thead><tr><th>suite</th><th class="num">cases</th>'
                   '<th class="num">hateful caught</th><th class="num">others passed</th></tr>'
                   f"</thead><tbody>{rows}</tbody></table>")
    if facts.limitations:
        out.append("<h3>Limitations and ethical considerations (from the card)</h3>"
                   + _markdown_lines(facts.limitations))
    return "\n".join(out)


def render(data: ReportData, alerts: AlertReport | None, facts: ModelFacts | None,
           meta: str, footer: str, scan: dict[str, Any] | None = None,
           alert_notes: list[str] | None = None, post_notes: list[str] | None = None) -> str:
    """The whole page as a string (see the module docstring)."""
    script = _resource("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           f"img-src data:; base-uri 'none'; form-action 'none'")
    page = Template(_resource("template.html"))
    return page.substitute(
        csp=escape(csp), title=escape("Early-warning report"), script=script,
        meta=meta, summary=_summary(data, alerts, scan), trends=_trends(data, alerts),
        groups=_groups(data, alerts), alerts=_alerts(alerts, alert_notes or []),
        posts=_posts(data, post_notes or []), languages=_languages(data, facts),
        model=_model(facts, data.models), footer=footer)
