"""The interactive API documentation at ``/docs``, served entirely by this server.

FastAPI's default page loads Swagger UI from a CDN, which an air-gapped machine cannot reach.
Here Swagger UI's scripts and styles come from the ``swagger-ui-py`` wheel (Swagger UI 5, which
reads OpenAPI 3.1), served under ``/docs/static/``; the page links nothing outside this server
and turns off Swagger UI's online validator.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["DOCS_STATIC", "install_docs", "swagger_ui_dir"]

DOCS_STATIC = "/docs/static"
log = logging.getLogger("serve")

#: the files the page needs (the wheel also ships Swagger Editor, which is not served)
_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def swagger_ui_dir() -> Path | None:
    """Swagger UI's files in the ``swagger-ui-py`` wheel, or None when it is not installed."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if all((folder / name).is_file() for name in _FILES) else None


class _OnlyFiles(StaticFiles):
    """Static files restricted to the names the page uses."""

    def lookup_path(self, path: str):  # type: ignore[no-untyped-def]
        if path not in _FILES:
            return "", None
        return super().lookup_path(path)


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from local files (no key needed, like ``/openapi.json``)."""
    folder = swagger_ui_dir()
    title = f"{app.title}: documentation"

    if folder is None:
        log.warning("/docs needs the 'swagger-ui-py' package: pip install "
                    "'early-warning[serve]'; the schema is still at /openapi.json")

        @app.get("/docs", include_in_schema=False)
        async def docs_missing() -> HTMLResponse:
            return HTMLResponse(
                f"<!doctype html><title>{title}</title><p>The documentation page needs the "
                "<code>swagger-ui-py</code> package (<code>pip install "
                "'early-warning[serve]'</code>). The OpenAPI schema is at "
                "<a href='/openapi.json'>/openapi.json</a>.</p>", status_code=503)

        return

    app.mount(DOCS_STATIC, _OnlyFiles(directory=folder), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None})
