"""The moderators' console: ``/console``, three pages in the browser over the HTTP API.

- **Check** (``/console/{lang}/check``): paste one post or many (an empty line between them);
  each comes back with its scores (and one sentence saying what a score means), flags, risk,
  review, language, the identity groups it names, and the words that drove each flag
  highlighted. **Correct** is on the same page: one button per label says the model was wrong
  about it (with an optional note), which sends feedback for that result by its response id.
- **Review** (``review`` or ``admin`` keys): the pending corrections of other keys, oldest
  first, the post, the model's scores and the correction side by side; confirm or reject;
  filters by language and label; counts of what waits.
- **Export** (``review`` or ``admin`` keys): the confirmed items, for training.

The pages are Jinja2 templates (autoescaped) with their words from the project's gettext
catalogue (:mod:`warning.i18n`, English and Russian); the page's script and style are files of
this package, served under ``/console/static/``: nothing comes from another server. The pages
hold no data and need no key; their script asks for the key once and keeps it in the tab's
``sessionStorage`` (see ``console.js``: never in a URL, never in ``localStorage``) and sends it
to the API as ``Authorization: Bearer``. Every answer carries a strict Content-Security-Policy:
scripts only from this server, no inline script, no ``eval``, and Trusted Types with no policy,
so no string can become markup through ``innerHTML`` (the script builds the page with
``textContent``): a post's text with markup in it is shown as text and cannot run script.

``WARNING_CONSOLE=0`` turns the pages off (``/console`` answers 404); the API routes stay.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from warning.i18n import GROUP_NAMES, LABEL_NAMES, RISK_NAMES, translations
from warning.labels import LABELS

from ..errors import ApiError
from .messages import LANGUAGE_NAMES, MESSAGES, PAGE_TITLES

__all__ = ["CONSOLE_LANGUAGES", "CSP", "PAGES", "install_console", "render_page"]

#: Languages of the console (those of the catalogue).
CONSOLE_LANGUAGES = ("en", "ru")
#: The pages, in the order of the navigation.
PAGES = ("check", "review", "export")
#: The only files served under /console/static/, with their types.
STATIC_FILES = {"console.js": "text/javascript; charset=utf-8",
                "console.css": "text/css; charset=utf-8",
                "favicon.svg": "image/svg+xml"}
#: Scripts, styles and requests from this server only; no inline script or style, no eval, no
#: frames, no form submission (the script handles every form), and Trusted Types with no
#: policy, so the page's script cannot turn a string into markup.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "require-trusted-types-for 'script'; trusted-types 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                    "Cache-Control": "no-store"}


@functools.cache
def _environment(lang: str) -> Any:
    """The autoescaping template environment of one language (its catalogue installed)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("serve.console", "templates"),
                      autoescape=select_autoescape(["html"], default=True),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    # {% trans %} blocks are looked up as Babel extracts them: whitespace trimmed
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _messages(lang: str) -> dict[str, Any]:
    """Everything the page's script shows, in ``lang``."""
    tr = translations(lang)
    return {
        "text": {key: tr.gettext(message) for key, message in MESSAGES.items()},
        "labels": {name: tr.gettext(LABEL_NAMES[name]) for name in LABELS},
        "groups": {name: tr.gettext(message) for name, message in GROUP_NAMES.items()},
        "risks": {name: tr.gettext(message) for name, message in RISK_NAMES.items()},
        "languages": {code: tr.gettext(message) for code, message in LANGUAGE_NAMES.items()},
    }


def render_page(lang: str, page: str) -> str:
    """The HTML of one console page in one language.

    Raises:
        ValueError: An unknown language or page.
    """
    if lang not in CONSOLE_LANGUAGES or page not in PAGES:
        raise ValueError(f"no console page {page!r} in {lang!r}")
    tr = translations(lang)
    other = [code for code in CONSOLE_LANGUAGES if code != lang]
    return _environment(lang).get_template(f"{page}.html").render(
        lang=lang, page=page, pages=[(name, tr.gettext(PAGE_TITLES[name])) for name in PAGES],
        title=tr.gettext(PAGE_TITLES[page]),
        switch=[(code, LANGUAGE_NAMES[code], _own_name(code)) for code in other],
        labels=[(name, tr.gettext(LABEL_NAMES[name])) for name in LABELS],
        languages=[(code, tr.gettext(name)) for code, name in LANGUAGE_NAMES.items()],
        config={"lang": lang, "page": page}, messages=_messages(lang))


def _own_name(code: str) -> str:
    """A language's name in itself (the language switch is read by who reads that language)."""
    return translations(code).gettext(LANGUAGE_NAMES[code])


def _preferred(request: Request) -> str:
    """The console language the browser prefers (``Accept-Language``), English otherwise."""
    header = request.headers.get("accept-language", "")
    ranked = []
    for position, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, code.strip().split("-")[0].lower()))
    for _q, _p, code in sorted(ranked):
        if code in CONSOLE_LANGUAGES:
            return code
        if code == "ky":  # Kyrgyz readers read Russian more often than English
            return "ru"
    return "en"


def _not_found() -> ApiError:
    return ApiError(404, "not-found", "no such console page: the pages are "
                    f"/console/LANG/PAGE, LANG one of {', '.join(CONSOLE_LANGUAGES)}, PAGE one "
                    f"of {', '.join(PAGES)}")


def install_console(app: FastAPI) -> None:
    """Serve the console at ``/console`` (no key needed: the pages hold no data)."""
    folder = files("serve.console") / "static"

    @app.get("/console/static/{name}", include_in_schema=False)
    def console_static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise _not_found()
        return Response((folder / name).read_bytes(), media_type=STATIC_FILES[name],
                        headers=SECURITY_HEADERS)

    @app.get("/console", include_in_schema=False)
    def console_start(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/console/{_preferred(request)}/check", status_code=307)

    @app.get("/console/{lang}", include_in_schema=False)
    def console_language(lang: str) -> RedirectResponse:
        if lang not in CONSOLE_LANGUAGES:
            raise _not_found()
        return RedirectResponse(f"/console/{lang}/check", status_code=307)

    @app.get("/console/{lang}/{page}", include_in_schema=False)
    def console_page(lang: str, page: str) -> HTMLResponse:
        if lang not in CONSOLE_LANGUAGES or page not in PAGES:
            raise _not_found()
        return HTMLResponse(render_page(lang, page), headers=SECURITY_HEADERS)
