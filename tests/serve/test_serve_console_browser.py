"""The moderators' console in a real browser: Debian's chromium, driven by Selenium through
Debian's chromium-driver (nothing downloaded), against a live server (uvicorn on a loopback
port, the keyword-driven fake classifier of ``conftest.py``, feedback in a SQLite file).

A moderator checks posts and corrects one, a second key confirms it, and the export holds it,
in English and in Russian, by keyboard; a key with the submit role cannot review; a key
revoked, or one whose role no longer allows a page, while the page is open makes the page
remove what it showed and say why; a post's text with markup cannot run script; the pages fit
a 360-pixel-wide phone; every field has a label. With ``WARNING_CONSOLE_SCREENSHOTS=1`` the
English run saves the three pages as ``docs/moderators/img/console-*.png`` (the pictures in the
docs are made so).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

MODERATOR = "moderator-key-9f8e7d6c5b4a"
POST = "Ты идиот, и все это знают"  # offensive (the fake model's word), Russian
REVIEWER = "reviewer-key-0a1b2c3d4e5f"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "moderators" / "img"
ATTACK = ('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
          '<b>bold</b> ты идиот')

pytestmark = pytest.mark.slow


@pytest.fixture
def app(make_app, tmp_path, request):
    """The live server's app: two keys with their roles, feedback on (parametrised: how many
    responses the server remembers)."""
    return make_app(api_keys=f"submit:{MODERATOR},review:{REVIEWER}",
                    feedback_db=str(tmp_path / "feedback.db"),
                    response_memory=getattr(request, "param", 1000))


@pytest.fixture
def browser(chromium, chromedriver, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--window-size=900,1000",
                     f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    # the driver's path is given: Selenium Manager (which would download one) never runs
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


# ---- helpers --------------------------------------------------------------------------------


def _wait(driver, condition, timeout: float = 10.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _by_id(driver, element_id: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def _all(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _press(element) -> None:
    """Activate a control from the keyboard (Enter), as a keyboard-only user does."""
    from selenium.webdriver.common.keys import Keys

    element.send_keys(Keys.ENTER)


def _choose(driver, select_id: str, value: str) -> None:
    """Pick an option of a list box by typing its name into it, as from the keyboard."""
    select = _by_id(driver, select_id)
    option = select.find_element("css selector", f'option[value="{value}"]')
    select.send_keys(option.text)
    assert select.get_attribute("value") == value


def _no_errors(driver) -> None:
    """The browser logged no error: no refused script or style (CSP), no failed request."""
    severe = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE"]
    assert severe == []


def _sign_in(driver, key: str) -> None:
    from selenium.webdriver.common.keys import Keys

    _wait(driver, lambda d: _by_id(d, "key").is_displayed() or _by_id(d, "app").is_displayed())
    if _by_id(driver, "app").is_displayed():
        _press(_by_id(driver, "forget"))
    field = _by_id(driver, "key")
    field.send_keys(key + Keys.ENTER)
    _wait(driver, lambda d: _by_id(d, "app").is_displayed())
    assert key not in driver.current_url
    assert driver.execute_script("return window.localStorage.length") == 0
    assert driver.execute_script("return Object.keys(window.sessionStorage)") == [
        "warning-console-key"]


def _go(driver, page: str) -> None:
    """Follow the navigation link to ``page`` (the key comes from the tab's session)."""
    from selenium.webdriver.common.by import By

    link = driver.find_element(By.CSS_SELECTOR, f'#nav li[data-page="{page}"] a')
    _press(link)
    _wait(driver, lambda d: d.current_url.endswith(f"/{page}")
          and _by_id(d, "app").is_displayed())


def _fits_a_phone(driver) -> None:
    """No sideways scrolling on a 360-pixel-wide phone, and every field has a label."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    try:
        _wait(driver, lambda d: d.execute_script("return window.innerWidth") == 360)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a 360 px screen"
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    unlabelled = driver.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')]"
        ".filter(e => e.type !== 'hidden' && e.labels.length === 0"
        " && !e.getAttribute('aria-label')).map(e => e.id || e.name)")
    assert unlabelled == []


def _change_keys(app, entries: str) -> None:
    """Give the running server other keys, as a restart with a new key list would (a key
    revoked, a role changed): its KeyStore, made again from ``entries`` (``ROLE:KEY,...``)."""
    from serve.auth import split_role
    from serve.middleware import ApiMiddleware

    (store,) = [m.kwargs["keys"] for m in app.user_middleware if m.cls is ApiMiddleware]
    store.__init__([(key, role) for role, key in map(split_role, entries.split(","))])


def _screenshot(driver, name: str) -> None:
    """The whole page, 900 px wide, as the docs show it (only when asked for)."""
    if os.environ.get("WARNING_CONSOLE_SCREENSHOTS") != "1":
        return
    import base64

    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 900, "height": min(height, 1600), "scale": 1}})
    png = base64.b64decode(shot["data"])
    try:  # a palette of 64 colours: a third of the size, the same to the eye
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64).save(
            buffer, format="PNG", optimize=True)
        png = buffer.getvalue()
    except ImportError:
        pass
    (DOCS_IMAGES / f"console-{name}.png").write_bytes(png)


# ---- the tests --------------------------------------------------------------------------------


WORDS = {
    "en": {"sent": "Sent for review", "means": "in 100 posts with this score",
           "confirmed": "Confirmed", "is_not": "It is not", "nothing": "Nothing waits"},
    "ru": {"sent": "Отправлено на проверку", "means": "из 100 постов с такой оценкой",
           "confirmed": "Подтверждено", "is_not": "Это не", "nothing": "проверять нечего"},
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_serve_console_check_correct_confirm_export(browser, live_server, lang) -> None:
    from selenium.webdriver.common.keys import Keys

    words = WORDS[lang]
    browser.get(f"{live_server}/console/{lang}/check")
    assert browser.find_element("css selector", "html").get_attribute("lang") == lang
    _sign_in(browser, MODERATOR)
    hidden = [li.get_attribute("data-page") for li in _all(browser, "#nav li[data-page]")
              if not li.is_displayed()]
    assert hidden == ["review", "export"]  # a moderator's key: Check only

    # Check: two posts, typed and sent by keyboard only
    posts = _by_id(browser, "posts")
    posts.send_keys(POST)
    posts.send_keys(Keys.ENTER, Keys.ENTER)
    posts.send_keys("Kyrgyz people are vermin")
    posts.send_keys(Keys.TAB)
    button = browser.switch_to.active_element
    assert button.get_attribute("type") == "submit"
    _press(button)
    _wait(browser, lambda d: len(_all(d, "#result-list > li")) == 2)
    assert browser.switch_to.active_element.get_attribute("id") == "results-heading"
    first, second = _all(browser, "#result-list > li")
    assert [m.text for m in first.find_elements("css selector", ".post mark")] == ["идиот"]
    assert words["means"] in first.text
    groups = browser.execute_script("return JSON.parse(document.getElementById("
                                    "'console-messages').textContent).groups.kyrgyz")
    assert groups in second.text
    assert [m.text for m in second.find_elements("css selector", ".post mark")] == ["vermin"]
    _fits_a_phone(browser)
    if lang == "en":
        _screenshot(browser, "check")

    # Correct: the model flagged the first post offensive; the moderator says it is not
    note = first.find_element("css selector", "input[type=text]")
    note.send_keys("a quote from a film")
    correct = first.find_element("css selector", 'button[data-label="offensive"]')
    assert correct.text.startswith(words["is_not"])
    _press(correct)
    _wait(browser, lambda d: words["sent"] in first.find_element(
        "css selector", ".correct [role=status]").text)
    # the keyboard's place is the message, not the now disabled button
    assert browser.switch_to.active_element.get_attribute("role") == "status"

    # Review: another key, in the same tab, sees it beside the model's scores and confirms
    _sign_in(browser, REVIEWER)
    _go(browser, "review")
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    (card,) = _all(browser, "#queue > li.card")
    assert POST in card.text and "a quote from a film" in card.text
    sections = card.find_elements("css selector", ".side > section")
    assert len(sections) == 3 and sections[1].find_elements("css selector", "li")
    counts = _by_id(browser, "counts").text
    assert "1" in counts
    # the filters: a label nothing corrects shows nothing, then back to all
    _choose(browser, "filter-label", "threat")
    _press(browser.find_element("css selector", "#review-filters button"))
    _wait(browser, lambda d: words["nothing"] in _by_id(d, "queue").text)
    _choose(browser, "filter-label", "")
    _choose(browser, "filter-lang", "ru")
    _press(browser.find_element("css selector", "#review-filters button"))
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    _fits_a_phone(browser)
    if lang == "en":
        _screenshot(browser, "review")
    (card,) = _all(browser, "#queue > li.card")
    _press(card.find_element("css selector", 'button[data-decision="confirm"]'))
    _wait(browser, lambda d: words["confirmed"] in card.text)

    # Export: the confirmed item is in it, and in the downloaded file
    _go(browser, "export")
    _wait(browser, lambda d: len(_all(d, "#export-rows > tr")) == 1)
    assert POST in _by_id(browser, "export-rows").text
    _fits_a_phone(browser)
    if lang == "en":
        _screenshot(browser, "export")
    _press(_by_id(browser, "download-jsonl"))
    target = browser.downloads / "feedback-confirmed.jsonl"
    _wait(browser, lambda d: target.is_file() and target.stat().st_size > 0)
    (row,) = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert (row["text"], row["offensive"], row["lang"]) == (POST, False, "ru")
    _no_errors(browser)


def test_serve_console_submit_key_cannot_review(browser, live_server) -> None:
    browser.get(f"{live_server}/console/en/check")
    _sign_in(browser, MODERATOR)
    browser.get(f"{live_server}/console/en/review")  # typed into the address bar
    _wait(browser, lambda d: _by_id(d, "review-denied").is_displayed())
    assert "review or admin" in _by_id(browser, "review-denied").text
    assert not _by_id(browser, "review-main").is_displayed()
    assert _all(browser, "#queue > li") == []
    # and the API behind the page refuses the key, whatever the page shows
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/v1/review/queue', {headers: {Authorization: 'Bearer ' +"
        " sessionStorage.getItem('warning-console-key')}}).then(r => done(r.status));")
    assert status == 403
    browser.get(f"{live_server}/console/en/export")
    _wait(browser, lambda d: _by_id(d, "export-denied").is_displayed())


def test_serve_console_markup_in_a_post_cannot_run_script(browser, live_server) -> None:
    browser.get(f"{live_server}/console/en/check")
    _sign_in(browser, MODERATOR)
    _by_id(browser, "posts").send_keys(ATTACK)
    _press(browser.find_element("css selector", "#check-form button"))
    _wait(browser, lambda d: len(_all(d, "#result-list > li")) == 1)
    post = browser.find_element("css selector", "#result-list .post")
    assert post.get_attribute("textContent") == ATTACK  # shown as text, marks aside
    assert post.find_elements("css selector", "img, script, b") == []
    # the correction reaches the review page, where the text is shown as text again
    _press(browser.find_element("css selector", '#result-list button[data-label="offensive"]'))
    _wait(browser, lambda d: d.find_element("css selector", ".correct [role=status]").text)
    _sign_in(browser, REVIEWER)
    _go(browser, "review")
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    shown = browser.find_element("css selector", "#queue .post")
    assert shown.get_attribute("textContent") == ATTACK
    assert shown.find_elements("css selector", "img, script, b") == []
    time.sleep(0.3)  # an onerror handler would have run by now
    assert browser.execute_script("return window.pwned === undefined")
    _no_errors(browser)
    # and the policy forbids markup from strings outright (Trusted Types, no policy)
    refused = browser.execute_script(
        "try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return false; }"
        " catch (e) { return e instanceof TypeError; }")
    assert refused


@pytest.mark.parametrize("app", [0], indirect=True)
def test_serve_console_corrects_by_text_when_the_server_keeps_no_responses(browser,
                                                                          live_server) -> None:
    browser.get(f"{live_server}/console/en/check")
    _sign_in(browser, MODERATOR)
    _by_id(browser, "posts").send_keys("they are vermin")
    _press(browser.find_element("css selector", "#check-form button"))
    _wait(browser, lambda d: len(_all(d, "#result-list > li")) == 1)
    _press(browser.find_element("css selector", '#result-list button[data-label="hate"]'))
    _wait(browser, lambda d: "Sent for review" in d.find_element(
        "css selector", ".correct [role=status]").text)
    _sign_in(browser, REVIEWER)
    _go(browser, "review")
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    card = browser.find_element("css selector", "#queue > li.card")
    assert "they are vermin" in card.text and "hate: should not be flagged" in card.text


def test_serve_console_review_shows_a_perspective_suggestion(browser, live_server) -> None:
    import httpx

    answer = httpx.post(f"{live_server}/v1alpha1/comments:suggestscore?key={MODERATOR}", json={
        "comment": {"text": "they are vermin"}, "languages": ["en"],
        "attributeScores": {"IDENTITY_ATTACK": {"summaryScore": {"value": 0.0}}},
        "communityId": "oblast-news"}, timeout=10)
    assert answer.status_code == 200, answer.text
    browser.get(f"{live_server}/console/en/review")
    _sign_in(browser, REVIEWER)
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    card = browser.find_element("css selector", "#queue > li.card")
    assert "they are vermin" in card.text and "hate: should not be flagged" in card.text
    assert "oblast-news" in card.text and "hate: 0.98" in card.text  # the model's score


def _feedback(live_server: str, key: str, path: str, body: dict) -> dict:
    import httpx

    answer = httpx.post(f"{live_server}{path}", json=body, timeout=10,
                        headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_serve_console_review_removes_the_queue_when_the_key_is_revoked(browser, live_server,
                                                                       app) -> None:
    _feedback(live_server, MODERATOR, "/v1/feedback",
              {"text": POST, "labels": {"offensive": False}, "lang": "ru"})
    browser.get(f"{live_server}/console/en/review")
    _sign_in(browser, REVIEWER)
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    _change_keys(app, f"submit:{MODERATOR}")  # the reviewer's key revoked
    _press(browser.find_element("css selector", "#review-filters button"))
    _wait(browser, lambda d: _by_id(d, "review-denied").is_displayed())
    assert "no longer accepts this key" in _by_id(browser, "review-denied").text
    assert not _by_id(browser, "review-main").is_displayed()
    assert _all(browser, "#queue > li") == [] and _all(browser, "#counts > li") == []
    assert POST not in browser.page_source  # removed, not only hidden
    # the key given back: signed in again in the same tab, the page shows the queue again
    _change_keys(app, f"submit:{MODERATOR},review:{REVIEWER}")
    _sign_in(browser, REVIEWER)
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    assert not _by_id(browser, "review-denied").is_displayed()


def test_serve_console_export_removes_its_rows_when_the_key_loses_its_role(browser,
                                                                          live_server,
                                                                          app) -> None:
    item = _feedback(live_server, MODERATOR, "/v1/feedback",
                     {"text": POST, "labels": {"offensive": False}, "lang": "ru"})
    _feedback(live_server, REVIEWER, f"/v1/feedback/{item['id']}/review",
              {"decision": "confirm"})
    browser.get(f"{live_server}/console/en/export")
    _sign_in(browser, REVIEWER)
    _wait(browser, lambda d: len(_all(d, "#export-rows > tr")) == 1)
    _change_keys(app, f"submit:{MODERATOR},submit:{REVIEWER}")  # review taken away: 403
    _press(_by_id(browser, "download-csv"))
    _wait(browser, lambda d: _by_id(d, "export-denied").is_displayed())
    message = _by_id(browser, "export-denied").text
    assert "not allowed to see this" in message and "'review'" in message  # the server's words
    assert not _by_id(browser, "export-main").is_displayed()
    assert _all(browser, "#export-rows > tr") == [] and POST not in browser.page_source
    assert not list(browser.downloads.iterdir())


def test_serve_console_check_removes_its_results_when_the_key_is_revoked(browser, live_server,
                                                                        app) -> None:
    browser.get(f"{live_server}/console/ru/check")
    _sign_in(browser, MODERATOR)
    _by_id(browser, "posts").send_keys(POST)
    _press(browser.find_element("css selector", "#check-form button"))
    _wait(browser, lambda d: len(_all(d, "#result-list > li")) == 1)
    _change_keys(app, f"review:{REVIEWER}")  # the moderator's key revoked
    _press(browser.find_element("css selector", '#result-list button[data-label="offensive"]'))
    _wait(browser, lambda d: "больше не принимает этот ключ" in _by_id(d, "check-status").text)
    assert _all(browser, "#result-list > li") == []
    assert not _by_id(browser, "results").is_displayed()
    # and a check sent with it is refused the same way, with nothing shown
    _press(browser.find_element("css selector", "#check-form button"))
    _wait(browser, lambda d: "больше не принимает" in _by_id(d, "check-status").text)
    assert _all(browser, "#result-list > li") == []


def test_serve_console_a_refused_review_of_ones_own_item_keeps_the_queue(browser, live_server,
                                                                        app, tmp_path) -> None:
    # four eyes: the server refuses a key its own item whatever the spelling of its name
    # (403 same-person), while the queue leaves out only the exact one. That refuses one
    # action, not the key: the card says why and the queue stays (it was all removed)
    from warning.feedback import FeedbackStore

    with FeedbackStore(tmp_path / "feedback.db") as store:
        store.submit(POST, {"offensive": False}, lang="ru",
                     submitter=store.identity(REVIEWER).upper())
    browser.get(f"{live_server}/console/en/review")
    _sign_in(browser, REVIEWER)
    _wait(browser, lambda d: len(_all(d, "#queue > li.card")) == 1)
    card = browser.find_element("css selector", "#queue > li.card")
    _press(card.find_element("css selector", 'button[data-decision="confirm"]'))
    _wait(browser, lambda d: "another person" in d.find_element("id", "queue").text)
    assert _by_id(browser, "review-main").is_displayed()
    assert not _by_id(browser, "review-denied").is_displayed()
    assert len(_all(browser, "#queue > li.card")) == 1 and POST in card.text
