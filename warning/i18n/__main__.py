"""``python -m warning.i18n update|compile|check``: the catalogue's life cycle, with Babel.

- ``update``: extract every marked message from ``warning/`` and ``serve/console/`` (Python
  and the Jinja2 templates)
  into ``locale/warning.pot`` and merge it into each language's ``.po`` (new messages arrive
  untranslated, changed ones fuzzy: translate them, then ``compile``).
- ``compile``: write each ``.po`` as the ``.mo`` the program reads.
- ``check``: exit 1, naming the messages, when one is missing from a ``.po``, untranslated,
  fuzzy, drops or adds a ``{placeholder}``, or when a ``.mo`` is not what its ``.po``
  compiles to.
"""

from __future__ import annotations

import argparse
import gettext
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from warning.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent.parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
#: Where messages are marked: ``warning/``, and the moderators' console (``serve/console``),
#: which shows its pages in the same languages from this catalogue (read as files, not
#: imported: ``warning`` never imports ``serve``).
ROOTS = [(PACKAGE, "warning"), (PACKAGE.parent / "serve" / "console", "serve/console")]
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)s")


def extract() -> Catalog:
    """Every message marked in ``warning/`` and in the moderators' console, as a template
    catalogue."""
    catalog = Catalog(project="early-warning", domain=DOMAIN, fuzzy=False)
    for root, shown in ROOTS:
        if not root.is_dir():  # an installation without the server has no console
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
                root, METHODS, OPTIONS, keywords=DEFAULT_KEYWORDS, comment_tags=("NOTE",),
                strip_comment_tags=True):
            if filename.startswith(".") or "/." in filename:
                continue
            catalog.add(message, None, [(f"{shown}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(path: Path, lang: str) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def update() -> None:
    template = extract()
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=True)
    for lang in LANGUAGES[1:]:
        path = _po_path(lang)
        if path.is_file():
            catalog = _read(path, lang)
            catalog.update(template, no_fuzzy_matching=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, domain=DOMAIN, project="early-warning")
            catalog.update(template)
        catalog.fuzzy = False  # the header: a fuzzy header is left out of the .mo
        with open(path, "wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True)
        print(f"updated {path}")


def compile_all() -> None:
    for lang in LANGUAGES[1:]:
        path = _po_path(lang)
        catalog = _read(path, lang)
        path.with_suffix(".mo").write_bytes(_mo_bytes(catalog))
        print(f"compiled {path.with_suffix('.mo')}")


def problems() -> list[str]:
    """What ``check`` finds wrong, one line each (empty: all is well)."""
    template = extract()
    found = []
    for lang in LANGUAGES[1:]:
        path = _po_path(lang)
        if not path.is_file():
            return [f"{path} is missing: run python -m warning.i18n update"]
        catalog = _read(path, lang)
        for message in template:
            if not message.id:
                continue
            entry = catalog.get(message.id, context=message.context)
            name = message.id if isinstance(message.id, str) else message.id[0]
            where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
            if entry is None:
                found.append(f"{lang}: not in the catalogue ({where}): {name!r}")
                continue
            strings = entry.string if isinstance(entry.string, (list, tuple)) else \
                [entry.string]
            if not all(strings):
                found.append(f"{lang}: untranslated ({where}): {name!r}")
            elif entry.fuzzy:
                found.append(f"{lang}: fuzzy, check the translation ({where}): {name!r}")
            else:
                ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
                wanted = {p for i in ids for p in _PLACEHOLDER.findall(i)}
                for text in strings:
                    if set(_PLACEHOLDER.findall(text)) != wanted:
                        found.append(f"{lang}: placeholders differ ({where}): {name!r}")
                        break
        mo = path.with_suffix(".mo")
        if not mo.is_file():
            found.append(f"{mo} is missing: run python -m warning.i18n compile")
            continue
        with open(mo, "rb") as handle:
            shipped = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        fresh = gettext.GNUTranslations(io.BytesIO(_mo_bytes(catalog)))._catalog  # type: ignore[attr-defined]
        if shipped != fresh:
            found.append(f"{mo} is not what {path.name} compiles to: run python -m "
                         f"warning.i18n compile")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warning.i18n", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("update", "compile", "check"))
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "compile":
        compile_all()
    else:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        if found:
            return 1
        print("catalogues complete and compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
