"""What the project shows people, in their language: gettext catalogues made with Babel.

Messages are marked where they are written: ``_("...")`` and ``ngettext(...)`` in Python,
``{{ _("...") }}`` and ``{% trans %}`` in Jinja2 templates, and ``N_("...")`` for a name kept in
a table and translated when shown. English is the source language; Russian (``ru``) has a
catalogue, for staff who read Russian first. Numbers, percentages and dates are formatted for
the language by Babel (CLDR): ``1 234,5`` and ``64,5%`` in Russian, ``1,234.5`` and ``64.5%`` in
English.

The catalogue lives here, beside the code that uses it, so that every part of ``warning`` (the
report, the alerts' plain words, later a browser console) shares it::

    warning/i18n/locale/warning.pot                   the messages, extracted from the code
    warning/i18n/locale/ru/LC_MESSAGES/warning.po     their Russian translations
    warning/i18n/locale/ru/LC_MESSAGES/warning.mo     compiled: what the program reads

``python -m warning.i18n update`` extracts the messages and merges them into the ``.po``;
``python -m warning.i18n compile`` writes the ``.mo`` (it is committed, so an install needs no
build step); ``python -m warning.i18n check`` fails when a message is untranslated or fuzzy, or
when the ``.mo`` is not what the ``.po`` compiles to (``tests/warning/test_i18n.py`` runs it).

Example:
    >>> ru = Lang("ru")
    >>> ru.gettext("hate"), ru.number(1234.5, 1), ru.percent(0.641)
    ('ненависть', '1\\xa0234,5', '64%')
    >>> Lang("en").number(1234.5, 1)
    '1,234.5'
"""

from __future__ import annotations

import functools
import gettext as _gettext
from datetime import date
from pathlib import Path

__all__ = ["DOMAIN", "GROUP_NAMES", "LABEL_NAMES", "LANGUAGES", "LOCALE_DIR", "N_",
           "RISK_NAMES", "CatalogueError", "Lang", "Message", "translations"]

#: Languages of the catalogue; English is the source.
LANGUAGES = ("en", "ru")
DOMAIN = "warning"
LOCALE_DIR = Path(__file__).with_name("locale")
_DATE_PATTERNS = {"en": "yyyy-MM-dd", "ru": "dd.MM.yyyy"}


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it (translated when shown)."""
    return message


#: Label names as shown to people (translated when shown).
LABEL_NAMES = {"offensive": N_("offensive"), "hate": N_("hate"), "threat": N_("threat"),
               "extremism": N_("extremism")}
#: Identity groups as shown to people (translated when shown).
GROUP_NAMES = {
    "kyrgyz": N_("kyrgyz"), "uzbek": N_("uzbek"), "tajik": N_("tajik"),
    "russian": N_("russian"), "dungan": N_("dungan"), "uyghur": N_("uyghur"),
    "chinese": N_("chinese"), "kazakh": N_("kazakh"), "muslim": N_("muslim"),
    "christian": N_("christian"), "jewish": N_("jewish"), "women": N_("women"),
    "lgbt": N_("lgbt"), "migrant": N_("migrant"), "disabled": N_("disabled")}
#: Risk levels as shown to people.
RISK_NAMES = {"none": N_("none"), "low": N_("low"), "medium": N_("medium"), "high": N_("high")}


class Message(str):
    """A message written in English now and shown in another language later: it is its English
    text (what files and logs get), and remembers its catalogue id and values, so that
    :meth:`translate` can render it in the reader's language. Values that are messages are
    translated too.

    Example:
        >>> note = Message(N_("{n} post(s) without a time were left out"), n=3)
        >>> str(note), note.translate(Lang("ru"))
        ('3 post(s) without a time were left out', 'без времени пропущено постов: 3')
    """

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, **values: object) -> Message:
        made = super().__new__(cls, msgid.format(**values))
        made.msgid, made.values = msgid, values
        return made

    def translate(self, tr: Lang) -> str:
        values = {k: v.translate(tr) if isinstance(v, Message) else v
                  for k, v in self.values.items()}
        return tr.gettext(self.msgid).format(**values)


class CatalogueError(RuntimeError):
    """A language's compiled catalogue is missing."""


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the messages as written).

    Raises:
        ValueError: ``lang`` is not among :data:`LANGUAGES`.
        CatalogueError: Its ``.mo`` file is missing (``python -m warning.i18n compile``).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
    if lang == "en":
        return _gettext.NullTranslations()
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        raise CatalogueError(f"the {lang} catalogue is not compiled ({path} is missing); run: "
                             f"python -m warning.i18n compile")
    with open(path, "rb") as handle:
        return _gettext.GNUTranslations(handle)


class Lang:
    """One language's messages and number formats.

    Args:
        code: ``en`` or ``ru``; None: ``WARNING_REPORT_LANG``.
    """

    def __init__(self, code: str | None = None) -> None:
        if code is None:
            from warning.settings import report_language

            code = report_language()
        self.code = code
        self.translations = translations(code)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def number(self, value: float, digits: int = 0) -> str:
        """``value`` with the language's digit grouping and decimal sign, ``digits`` decimals
        (a whole number shows none)."""
        from babel.numbers import format_decimal

        value = float(value)
        pattern = "#,##0" if digits == 0 or value.is_integer() else "#,##0." + "0" * digits
        return format_decimal(value, format=pattern, locale=self.code)

    def percent(self, share: float, digits: int = 0) -> str:
        """``share`` (0-1) as a percentage with ``digits`` decimals."""
        from babel.numbers import format_percent

        pattern = "#,##0%" if digits == 0 else "#,##0." + "0" * digits + "%"
        return format_percent(share, format=pattern, locale=self.code)

    def small(self, value: float) -> str:
        """A probability such as a q-value: two significant digits, in scientific notation
        under 0.001 (``1.9E-10`` / ``1,9E-10``)."""
        from babel.numbers import format_decimal, format_scientific

        if value == 0 or value >= 0.001:
            return format_decimal(value, format="0.###", locale=self.code)
        return format_scientific(value, format="0.#E0", locale=self.code)

    def date(self, day: date | str) -> str:
        """A day: ``2025-10-13`` in English, ``13.10.2025`` in Russian."""
        from babel.dates import format_date

        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return format_date(day, format=_DATE_PATTERNS[self.code], locale=self.code)

    def month_day(self, day: date) -> str:
        """A short axis label: ``13 Oct`` / ``13 окт.``."""
        from babel.dates import format_date

        return format_date(day, format="d MMM", locale=self.code)

    def label(self, name: str) -> str:
        return self.gettext(LABEL_NAMES.get(name, name))

    def group(self, name: str) -> str:
        return self.gettext(GROUP_NAMES[name]) if name in GROUP_NAMES else name

    def risk(self, name: str) -> str:
        return self.gettext(RISK_NAMES[name]) if name in RISK_NAMES else name

    def note(self, message: str) -> str:
        """A note in this language when it is a :class:`Message`, else as it is."""
        return message.translate(self) if isinstance(message, Message) else message
