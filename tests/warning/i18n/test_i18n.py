"""The catalogue: every message of the code and templates translated, the compiled catalogue
what its .po compiles to, numbers and dates in the reader's language."""

import shutil
from datetime import date

import pytest
from babel.messages.pofile import read_po, write_po

import warning.i18n.__main__ as catalogue
from warning.i18n import LOCALE_DIR, N_, CatalogueError, Lang, Message, translations


def test_i18n_catalogue_is_complete_and_compiled() -> None:
    """What `python -m warning.i18n check` checks: no message untranslated, fuzzy or missing,
    placeholders kept, the shipped .mo up to date with the .po."""
    assert catalogue.problems() == []
    extracted = {m.id for m in catalogue.extract() if m.id}
    # messages of the template, the alerts' sentences and the group names are all extracted
    assert {"Early-warning report", "Coordinated posting", "tajik", "hate"} <= extracted
    assert any(isinstance(i, str) and i.startswith("{label} {channel}, {target}")
               for i in extracted)
    assert catalogue.main(["check"]) == 0


@pytest.fixture
def copy(tmp_path, monkeypatch):
    folder = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, folder)
    monkeypatch.setattr(catalogue, "LOCALE_DIR", folder)
    return folder / "ru" / "LC_MESSAGES" / "warning.po"


def _edit(path, msgid, value, fuzzy=False):
    with open(path, "rb") as handle:
        po = read_po(handle, locale="ru")
    po[msgid].string = value
    if fuzzy:
        po[msgid].flags.add("fuzzy")
    with open(path, "wb") as handle:
        write_po(handle, po, width=100)


@pytest.mark.parametrize(("value", "fuzzy", "problem"), [
    ("", False, "untranslated"),
    ("Сводка", True, "fuzzy"),
    ("отмечено {label}", False, "placeholders differ"),
    ("Итоги", False, "is not what warning.po compiles to"),
])
def test_i18n_check_names_each_problem(copy, capsys, value, fuzzy, problem) -> None:
    msgid = "flagged {label} ({share})" if "placeholders" in problem else "Summary"
    _edit(copy, msgid, value, fuzzy)
    found = catalogue.problems()
    assert found and any(problem in line for line in found), found
    assert catalogue.main(["check"]) == 1 and problem in capsys.readouterr().err


def test_i18n_compile_brings_the_mo_up_to_date(copy) -> None:
    _edit(copy, "Summary", "Итоги")
    catalogue.compile_all()
    assert catalogue.problems() == []


def test_i18n_formats_numbers_and_dates_per_language() -> None:
    ru, en = Lang("ru"), Lang("en")
    assert ru.number(1234567) == "1\xa0234\xa0567" and en.number(1234567) == "1,234,567"
    assert ru.number(0.5, 2) == "0,50" and en.number(3.0, 1) == "3"
    assert ru.percent(0.0512, 1) == "5,1%" and en.percent(0.0512, 1) == "5.1%"
    assert ru.small(1.93e-10) == "1,9E-10" and en.small(0.0123) == "0.012"
    assert ru.date(date(2025, 10, 13)) == "13.10.2025" and en.date("2025-10-13") == "2025-10-13"
    assert ru.group("tajik") == "таджики" and en.group("tajik") == "tajik"
    assert ru.group("no-such-group") == "no-such-group" and ru.label("threat") == "угроза"


def test_i18n_messages_keep_english_and_translate_later() -> None:
    note = Message(N_("{n} post(s) without a time were left out"), n=7)
    assert note == "7 post(s) without a time were left out"
    assert Lang("ru").note(note) == "без времени пропущено постов: 7"
    assert Lang("ru").note("plain text") == "plain text"


def test_i18n_refuses_unknown_languages_and_missing_catalogues(monkeypatch, tmp_path) -> None:
    with pytest.raises(ValueError, match="one of"):
        Lang("fr")
    import warning.i18n as i18n

    translations.cache_clear()
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    try:
        with pytest.raises(CatalogueError, match=r"python -m warning\.i18n compile"):
            Lang("ru")
    finally:
        translations.cache_clear()
