"""``warning serve``: run the HTTP API with uvicorn (registered through the
``warning.commands`` entry point, so ``warning`` never imports ``serve``)."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

# A missing 'serve' extra shows as `warning serve: this command needs the 'serve' extra`,
# without importing the web stack on every `warning` command.
for _name in ("fastapi", "uvicorn", "pydantic_settings"):
    if importlib.util.find_spec(_name) is None:
        raise ImportError(f"No module named {_name!r}")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from .app import LOG_FORMAT, create_app
    from .settings import SettingsError

    if args.model:
        # through the environment, so that every worker process loads the same folder
        os.environ["WARNING_MODEL"] = str(Path(args.model).resolve())
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format=LOG_FORMAT,
                        stream=sys.stderr)
    try:
        app = create_app()  # checks the settings and keys before anything starts
    except SettingsError as exc:
        print(f"warning serve: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(f"WARNING_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                             for e in exc.errors())
        print(f"warning serve: invalid setting(s): {problems}", file=sys.stderr)
        return 2
    from .protocol import GuardedH11Protocol

    # a deadline on each request's headers (slow clients); worker processes read the setting
    GuardedH11Protocol.header_timeout = app.state.settings.header_timeout_seconds
    # uvicorn's own access log would print query strings, where Perspective clients put keys
    options = {"host": args.host, "port": args.port, "access_log": False,
               "log_level": args.log_level, "log_config": None, "http": GuardedH11Protocol}
    if args.workers > 1:
        uvicorn.run("serve.app:app_from_env", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the ``warning`` parser."""
    serve = sub.add_parser(
        "serve", help="run the HTTP API (native, Perspective- and OpenAI-compatible)",
        description="Serves /v1/score, /v1alpha1/comments:analyze and /v1/moderations. Keys "
                    "come from WARNING_API_KEYS or WARNING_API_KEYS_FILE (or "
                    "WARNING_OPEN_ACCESS=1); see the README's 'HTTP API'.",
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--workers", type=_positive, default=1,
                       help="worker processes, each with its own model (default: 1)")
    serve.add_argument("--model", help="model folder (default: WARNING_MODEL or the shipped "
                                       "default model)")
    serve.add_argument("--log-level", default="info",
                       choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=_cmd_serve)
