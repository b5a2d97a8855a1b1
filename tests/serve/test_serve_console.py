"""The moderators' console without a browser: its pages, headers and languages, the routes it
reads (``/v1/whoami``, ``/v1/review/queue``, ``/v1/review/export``) and Perspective's
``comments:suggestscore``, whose suggestions reach the review queue. The browser test is
``test_serve_console_browser.py``."""

from __future__ import annotations

import json
import re
import time

import pytest
from fastapi.testclient import TestClient

from serve.console import CSP, PAGES, render_page
from serve.console.messages import MESSAGES
from warning.i18n import translations

KEY = "test-key-5f0c1d2e3a4b"  # the key of tests/serve/conftest.py
REVIEWER = "reviewer-key-0a1b2c3d4e5f"
MODERATOR = "moderator-key-9f8e7d6c5b4a"


@pytest.fixture
def fb_app(make_app, tmp_path):
    return make_app(api_keys=f"{KEY},review:{REVIEWER},submit:{MODERATOR}",
                    feedback_db=str(tmp_path / "feedback.db"))


@pytest.fixture
def app(fb_app):
    """The app of ``live_server``: the one with feedback on."""
    return fb_app


def _client(app, key: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return TestClient(app, headers=headers)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_serve_console_pages_need_no_key_and_carry_a_strict_csp(fb_app, lang, page) -> None:
    response = _client(fb_app, None).get(f"/console/{lang}/{page}")
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "require-trusted-types-for 'script'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert f'<html lang="{lang}">' in html
    # no script but the package's own file, nothing from another server
    assert re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html) == ["/console/static/console.js"]
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    for script in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html):
        assert 'type="application/json"' in script  # data, never an inline script
    assert re.search(r"<label for=\"key\">", html)


def test_serve_console_static_files_are_the_packaged_ones_only(fb_app) -> None:
    client = _client(fb_app, None)
    script = client.get("/console/static/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript")
    assert "innerHTML" not in script.text and "localStorage." not in script.text
    assert "sessionStorage.setItem" in script.text
    assert client.get("/console/static/console.css").status_code == 200
    assert client.get("/console/static/..%2Fmessages.py").status_code == 404
    assert client.get("/console/static/messages.py").status_code == 404
    assert client.get("/console/de/check").status_code == 404
    assert client.get("/console/en/nothing").status_code == 404


@pytest.mark.parametrize(("header", "lang"), [("ru-RU,ru;q=0.9,en;q=0.5", "ru"),
                                               ("ky-KG,ky;q=0.9", "ru"), ("de,en;q=0.5", "en"),
                                               ("", "en"), ("en;q=0.2,ru;q=0.8", "ru")])
def test_serve_console_start_follows_the_browser_language(fb_app, header, lang) -> None:
    response = _client(fb_app, None).get("/console", headers={"Accept-Language": header},
                                         follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"/console/{lang}/check"


def test_serve_console_can_be_switched_off(make_app) -> None:
    client = _client(make_app(console=False), KEY)
    assert client.get("/console/en/check").status_code == 404
    assert client.get("/console/static/console.js").status_code == 404


def test_serve_console_russian_pages_are_translated() -> None:
    ru = translations("ru")
    for name, message in MESSAGES.items():
        assert ru.gettext(message) != message, name
    html = render_page("ru", "check")
    assert "Проверка постов" in html and "Кош келиңиз" in html
    # the {% trans %} blocks too (looked up with their whitespace trimmed, as extracted)
    assert "Оценка — это вероятность" in html and "Спрашивается один раз" in html
    assert "Asked once" not in html and "A score is" not in html
    assert "Исправления с других ключей" in render_page("ru", "review")
    assert "Только подтверждённые" in render_page("ru", "export")
    data = re.search(r'id="console-messages">(.*?)</script>', html, re.S)
    assert data is not None
    messages = json.loads(data.group(1))
    assert messages["labels"]["hate"] == ru.gettext("hate") != "hate"
    assert messages["text"]["means_hate"].count("{n}") == 1


def test_serve_console_whoami_names_each_role(fb_app) -> None:
    roles = {key: _client(fb_app, key).get("/v1/whoami").json()
             for key in (KEY, REVIEWER, MODERATOR)}
    assert [roles[k]["role"] for k in (KEY, REVIEWER, MODERATOR)] == ["submit", "review",
                                                                       "submit"]
    assert all(r["feedback"] and r["identity"].startswith("key:") for r in roles.values())
    assert len({r["identity"] for r in roles.values()}) == 3
    assert roles[KEY]["labels"] == ["offensive", "hate", "threat"]
    assert _client(fb_app, None).get("/v1/whoami").status_code == 401


def _submit(client: TestClient, text: str, labels: dict[str, bool], lang: str) -> str:
    response = client.post("/v1/feedback", json={"text": text, "labels": labels, "lang": lang})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_serve_console_queue_shows_others_items_oldest_first_with_filters(fb_app) -> None:
    moderator, reviewer = _client(fb_app, MODERATOR), _client(fb_app, REVIEWER)
    first = _submit(moderator, "Ты тупой идиот", {"offensive": False}, "ru")
    time.sleep(1.1)  # the store keeps times to the second
    second = _submit(moderator, "they are vermin", {"hate": True}, "en")
    own = _submit(reviewer, "Бүгүн Ошко барам", {"hate": False}, "ky")
    queue = reviewer.get("/v1/review/queue").json()
    assert [item["id"] for item in queue["items"]] == [first, second]  # never its own
    assert queue["items"][0]["text"] == "Ты тупой идиот"
    assert (queue["waiting"], queue["own_pending"], queue["matching"]) == (2, 1, 2)
    assert queue["by_lang"] == {"en": 1, "ru": 1}
    assert queue["by_label"] == {"offensive": 1, "hate": 1}
    only = reviewer.get("/v1/review/queue", params={"lang": "en", "label": "hate"}).json()
    assert [item["id"] for item in only["items"]] == [second] and only["waiting"] == 2
    none = reviewer.get("/v1/review/queue", params={"label": "threat"}).json()
    assert none["items"] == [] and none["matching"] == 0
    assert reviewer.get("/v1/review/queue", params={"lang": "xx"}).status_code == 422
    # the moderator's key reviews nothing and sees no queue
    refused = moderator.get("/v1/review/queue")
    assert refused.status_code == 403 and refused.json()["type"].endswith(":role-required")
    seen_by_other = _client(fb_app, KEY)
    assert seen_by_other.get("/v1/review/queue").status_code == 403
    assert own not in {item["id"] for item in queue["items"]}


def test_serve_console_export_holds_confirmed_items_only(fb_app) -> None:
    moderator, reviewer = _client(fb_app, MODERATOR), _client(fb_app, REVIEWER)
    kept = _submit(moderator, "they are vermin", {"hate": True}, "en")
    _submit(moderator, "Ты тупой идиот", {"offensive": False}, "ru")
    assert reviewer.post(f"/v1/feedback/{kept}/review",
                         json={"decision": "confirm"}).status_code == 200
    jsonl = reviewer.get("/v1/review/export")
    assert jsonl.status_code == 200 and jsonl.headers["x-items"] == "1"
    assert jsonl.headers["cache-control"] == "no-store"
    assert "attachment" in jsonl.headers["content-disposition"]
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [(r["id"], r["text"], r["hate"], r["offensive"]) for r in rows] == [
        (kept, "they are vermin", True, None)]
    csv_text = reviewer.get("/v1/review/export", params={"format": "csv"}).text
    assert csv_text.splitlines()[0].startswith("id,text,lang,offensive,hate")
    assert len(csv_text.splitlines()) == 2
    assert moderator.get("/v1/review/export").status_code == 403


def _suggest(client: TestClient, **body: object):
    payload = {"comment": {"text": "Ты тупой идиот"},
               "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.1}}},
               "languages": ["ru"], "clientToken": "c-17", "communityId": "oblast-news"}
    payload.update(body)
    return client.post("/v1alpha1/comments:suggestscore", json=payload)


def test_serve_console_suggestscore_is_answered_as_perspective_and_queued(fb_app) -> None:
    moderator, reviewer = _client(fb_app, MODERATOR), _client(fb_app, REVIEWER)
    response = _suggest(moderator, attributeScores={
        "TOXICITY": {"summaryScore": {"value": 0.2}},
        "INSULT": {"summaryScore": {"value": 0.9, "type": "PROBABILITY"}},
        "THREAT": {"summaryScore": {"value": 0.0}}})
    assert response.status_code == 200, response.text
    assert response.json() == {"clientToken": "c-17", "requestedLanguages": ["ru"],
                               "detectedLanguages": ["ru"]}
    (item,) = reviewer.get("/v1/review/queue").json()["items"]
    assert item["status"] == "pending" and item["text"] == "Ты тупой идиот"
    # TOXICITY and INSULT are both 'offensive': either one applying makes it true
    assert item["labels"] == {"offensive": True, "threat": False}
    assert item["lang"] == "ru" and "oblast-news" in item["note"]
    assert item["scores"]["offensive"] > 0.9 and item["model"] == "fake@0.0.1"
    assert item["submitter"] == moderator.get("/v1/whoami").json()["identity"]


def test_serve_console_suggestscore_takes_the_key_in_the_query(fb_app) -> None:
    client = TestClient(fb_app)
    response = client.post(f"/v1alpha1/comments:suggestscore?key={MODERATOR}", json={
        "comment": {"text": "they are vermin"},
        "attributeScores": {"IDENTITY_ATTACK": {"summaryScore": {"value": 1}}}})
    assert response.status_code == 200, response.text
    assert response.json() == {"requestedLanguages": [], "detectedLanguages": ["en"]}
    (item,) = _client(fb_app, REVIEWER).get("/v1/review/queue").json()["items"]
    assert item["labels"] == {"hate": True} and item["lang"] == "en"


@pytest.mark.parametrize(("body", "error_type"), [
    ({"attributeScores": {"SEVERE_TOXICITY": {"summaryScore": {"value": 1}}}},
     "ATTRIBUTE_NOT_SUPPORTED"),
    ({"attributeScores": {"PROFANITY": {"summaryScore": {"value": 0}},
                          "TOXICITY": {"summaryScore": {"value": 1}}}},
     "ATTRIBUTE_NOT_SUPPORTED"),
    ({"languages": ["de"]}, "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"),
    ({"comment": {"text": "   "}}, "COMMENT_EMPTY"),
])
def test_serve_console_suggestscore_refuses_as_analyze_refuses(fb_app, body, error_type) -> None:
    moderator = _client(fb_app, MODERATOR)
    response = _suggest(moderator, **body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["errorType"] == error_type
    assert _client(fb_app, REVIEWER).get("/v1/review/queue").json()["waiting"] == 0


@pytest.mark.parametrize("body", [
    {"attributeScores": {}},
    {"attributeScores": {"TOXICITY": {"summaryScore": {"value": 1.5}}}},
    {"attributeScores": {"TOXICITY": {"summaryScore": {"value": "yes"}}}},
])
def test_serve_console_suggestscore_refuses_bad_scores_with_400(fb_app, body) -> None:
    response = _suggest(_client(fb_app, MODERATOR), **body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == 400


def test_serve_console_suggestscore_needs_feedback_on(make_app) -> None:
    response = _suggest(_client(make_app(), KEY))
    assert response.status_code == 404
    assert "WARNING_FEEDBACK_DB" in response.json()["error"]["message"]


def test_serve_console_a_published_perspective_client_analyzes_and_suggests(live_server,
                                                                         fb_app) -> None:
    from perspective import PerspectiveAPI

    client = PerspectiveAPI(MODERATOR)
    client.api_client.url = f"{live_server}/v1alpha1/{{endpoint}}"  # instead of Google's
    scored = client.analyze_comment("Ты тупой идиот", requested_attributes={"TOXICITY": {}},
                                    languages=["ru"], do_not_store=True)
    assert scored["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.9
    answer = client.suggest_score(
        "Ты тупой идиот", {"TOXICITY": {"summaryScore": {"value": 0.0}},
                           "THREAT": {"summaryScore": {"value": 0.0},
                                      "spanScores": [{"begin": 0, "end": 2,
                                                      "score": {"value": 0.0}}]}},
        languages=["ru"], client_token="post-123", community_id="oblast-news",
        context=[{"text": "the thread's first post"}])
    assert answer == {"detectedLanguages": ["ru"], "requestedLanguages": ["ru"],
                      "clientToken": "post-123"}
    (item,) = _client(fb_app, REVIEWER).get("/v1/review/queue").json()["items"]
    assert item["labels"] == {"offensive": False, "threat": False}
    assert item["scores"]["offensive"] > 0.9  # the model's view, beside the correction
