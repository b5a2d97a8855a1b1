"""Operations through the app: liveness, readiness before and after the model loads, Prometheus
metrics after traffic, the offline documentation page, and the micro-batcher behind the routes
(coalescing, error isolation, back-pressure, shutdown)."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import serve.app
from serve.app import create_app
from serve.settings import ServeSettings

SCORE, ANALYZE, MODERATE = "/v1/score", "/v1alpha1/comments:analyze", "/v1/moderations"
SECRET = "SECRET-TEXT-7f3a"
KEY = "ops-test-key-0a1b2c3d4e"


@pytest.fixture
def fake(fake_classifier):
    return fake_classifier


class Wrapped:
    """The keyword-driven fake model of conftest.py, with a behaviour added to ``score``."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def score(self, texts, explain=False):
        return self.inner.score(texts, explain)


def settings(**overrides: object) -> ServeSettings:
    return ServeSettings(**{"api_keys": f"admin:{KEY}", "rate_burst": 10_000, **overrides})


def started(app) -> TestClient:
    """A client that runs the app's lifespan (the batcher starts) when entered."""
    return TestClient(app, headers={"Authorization": f"Bearer {KEY}"})


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class Slow(Wrapped):
    """The fake model, taking a little time per call so that concurrent requests pile up."""

    def __init__(self, inner, seconds: float = 0.02) -> None:
        super().__init__(inner)
        self.seconds = seconds
        self.calls: list[int] = []

    def score(self, texts, explain=False):
        self.calls.append(len(texts))
        time.sleep(self.seconds)
        return super().score(texts, explain)


class FailsOn(Wrapped):
    """The fake model, raising whenever a call contains one particular text."""

    def __init__(self, inner, bad: str) -> None:
        super().__init__(inner)
        self.bad = bad

    def score(self, texts, explain=False):
        time.sleep(0.01)
        if self.bad in texts:
            raise ValueError(f"cannot score {self.bad}")
        return super().score(texts, explain)


class Blocked(Wrapped):
    """The fake model, holding each call until released; says when a call has started."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.entered = threading.Event()
        self.release = threading.Event()

    def score(self, texts, explain=False):
        self.entered.set()
        assert self.release.wait(10), "the test never released the model"
        return super().score(texts, explain)


# -- liveness and readiness ------------------------------------------------------------------

def test_ops_healthz_and_readyz_before_and_after_the_model_loads(monkeypatch, fake) -> None:
    loaded = threading.Event()

    def slow_load(path=None):
        assert loaded.wait(10)
        return fake

    monkeypatch.setattr(serve.app.Classifier, "load", slow_load)
    app = create_app(settings(load_in_background=True))
    with started(app) as client:
        assert TestClient(app).get("/healthz").json() == {"status": "ok"}  # no key needed
        before = TestClient(app).get("/readyz")
        assert before.status_code == 503 and before.headers["retry-after"]
        assert before.json()["reason"] == "the model is loading"
        refused = client.post(SCORE, json={"texts": "hi"})
        assert refused.status_code == 503 and refused.json()["type"].endswith("model-not-loaded")
        loaded.set()
        wait_until(lambda: client.get("/readyz").status_code == 200)
        assert client.get("/readyz").json() == {"status": "ready", "model": fake.name,
                                                "batching": True}
        assert client.post(SCORE, json={"texts": "hi"}).status_code == 200
        assert samples(client)[("warning_requests_rejected_total",
                                (("reason", "not_ready"),))] == 1
    assert app.state.stopping and not app.state.batcher.running


def test_ops_readyz_says_why_the_model_failed_to_load(monkeypatch) -> None:
    def broken(path=None):
        raise FileNotFoundError("no config.json in /models/x")

    monkeypatch.setattr(serve.app.Classifier, "load", broken)
    app = create_app(settings(load_in_background=True))
    with started(app) as client:
        wait_until(lambda: app.state.load_error is not None)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "failed to load (FileNotFoundError)" in response.json()["reason"]
        assert client.get("/healthz").status_code == 200


def test_ops_readyz_needs_the_batcher_running_unless_batching_is_off(fake) -> None:
    app = create_app(settings(), classifier=fake)
    no_lifespan = TestClient(app).get("/readyz")
    assert no_lifespan.status_code == 503
    assert no_lifespan.json()["reason"] == "the micro-batcher is not running"
    with started(app) as client:
        assert client.get("/readyz").status_code == 200
    unbatched = create_app(settings(batching=False), classifier=fake)
    assert TestClient(unbatched).get("/readyz").json()["batching"] is False
    assert TestClient(unbatched).get("/readyz").status_code == 200


# -- metrics ---------------------------------------------------------------------------------

def test_ops_metrics_count_routes_statuses_flags_and_refusals(fake) -> None:
    app = create_app(settings(max_body_bytes=4096), classifier=fake)
    with started(app) as client:
        assert client.post(SCORE, json={"texts": ["you idiot", "I will kill you",
                                                  SECRET]}).status_code == 200
        assert client.post(SCORE, json={"texts": "stupid idea"}).status_code == 200
        assert client.post(ANALYZE, json={"comment": {"text": "hello"},
                                          "requestedAttributes": {"TOXICITY": {}}}
                           ).status_code == 200
        assert client.post(MODERATE, json={"input": "kill"}).status_code == 200
        assert client.post(SCORE, json={"texts": [""]}).status_code == 422
        assert TestClient(app).post(SCORE, json={"texts": SECRET}).status_code == 401
        assert client.post(SCORE, json={"texts": "x" * 5000}).status_code == 413
        text = client.get("/metrics").text
        got = samples(client)

    def value(name: str, **labels: str) -> float:
        return got.get((name, tuple(sorted(labels.items()))), 0.0)

    requests = "warning_http_requests_total"
    assert value(requests, route=SCORE, method="POST", status="200") == 2
    assert value(requests, route=ANALYZE, method="POST", status="200") == 1
    assert value(requests, route=MODERATE, method="POST", status="200") == 1
    assert value(requests, route=SCORE, method="POST", status="422") == 1
    assert value(requests, route=SCORE, method="POST", status="401") == 1
    assert value("warning_http_request_duration_seconds_count", route=SCORE) == 5
    assert value("warning_posts_scored_total") == 6
    assert value("warning_posts_flagged_total", label="offensive") == 2
    assert value("warning_posts_flagged_total", label="threat") == 2
    assert value("warning_posts_flagged_total", label="hate") == 0
    for reason in ("validation", "auth", "too_large"):
        assert value("warning_requests_rejected_total", reason=reason) == 1
    assert value("warning_batch_size_posts_sum") == 6
    assert value("warning_queue_depth_posts") == 0
    # labels are route templates and fixed names: no text, no key, no key id
    assert SECRET not in text and KEY not in text
    assert set(re.findall(r'route="([^"]*)"', text)) <= {SCORE, ANALYZE, MODERATE, "/metrics"}


def test_ops_metrics_count_rate_limited_requests(fake) -> None:
    app = create_app(settings(rate_burst=1, rate_per_minute=1, metrics_public=True),
                     classifier=fake)
    with started(app) as client:
        assert client.post(SCORE, json={"texts": "hi"}).status_code == 200
        assert client.post(SCORE, json={"texts": "hi"}).status_code == 429
        got = samples(client)  # public: not rate limited, no key
    assert got[("warning_requests_rejected_total", (("reason", "rate_limit"),))] == 1


def test_ops_metrics_need_a_key_unless_public(fake) -> None:
    app = create_app(settings(), classifier=fake)
    assert TestClient(app).get("/metrics").status_code == 401
    assert started(app).get("/metrics").status_code == 200
    public = create_app(settings(metrics_public=True), classifier=fake)
    assert TestClient(public).get("/metrics").status_code == 200


def test_ops_each_app_has_its_own_metrics(fake) -> None:
    first = create_app(settings(), classifier=fake)
    second = create_app(settings(), classifier=fake)
    with started(first) as client:
        client.post(SCORE, json={"texts": "hi"})
    with started(second) as client:
        assert ("warning_posts_scored_total", ()) not in samples(client) or \
            samples(client)[("warning_posts_scored_total", ())] == 0


# -- documentation ---------------------------------------------------------------------------

def test_ops_docs_page_works_offline(fake) -> None:
    app = create_app(settings(), classifier=fake)
    client = TestClient(app)  # no key: the docs are public, as /openapi.json is
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert not re.search(r"(https?:)?//[a-z0-9]", page.text, re.IGNORECASE), \
        "the page links something outside this server"
    assert '"validatorUrl": null' in page.text
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert url.startswith("/docs/static/")
        assert client.get(url).status_code == 200, url
    assert client.get("/docs/static/swagger-editor.js").status_code == 404  # not served
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/healthz", "/readyz",
                                                                  "/metrics"}


# -- the micro-batcher behind the routes -----------------------------------------------------

@pytest.mark.parametrize("batching", [True, False])
def test_ops_concurrent_requests_each_get_their_own_results(batching: bool, fake) -> None:
    model = Slow(fake)
    app = create_app(settings(batching=batching, batch_max_wait_ms=20), classifier=model)
    words = ["idiot", "kill", "fine", "vermin"]
    flags = {"idiot": ["offensive"], "kill": ["threat"], "fine": [], "vermin": ["hate"]}

    def texts_of(i: int) -> list[str]:
        # request i: 1-3 texts, in an order of its own
        return [f"post {i} {words[(i + j) % 4]}" for j in range(1 + i % 3)]

    with started(app) as client:
        def send(i: int) -> tuple[int, list[list[str]]]:
            response = client.post(SCORE, json={"texts": texts_of(i)})
            return response.status_code, [r["flagged"] for r in response.json()["results"]]

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(send, range(48)))
        got = samples(client)
    for i, (status, flagged) in enumerate(answers):
        assert status == 200
        assert flagged == [flags[text.split()[-1]] for text in texts_of(i)]
    if batching:
        assert len(model.calls) < 48 and max(model.calls) > 3  # coalesced
    else:
        assert len(model.calls) == 48
    assert got[("warning_batch_size_posts_count", ())] == len(model.calls)


def test_ops_one_bad_text_fails_alone_with_a_clear_error(fake) -> None:
    model = FailsOn(fake, bad="poison pill")
    app = create_app(settings(batch_max_wait_ms=50), classifier=model)
    bodies = [{"texts": ["fine", "you idiot"]}, {"texts": ["ok", "poison pill"]},
              {"texts": "kill"}]
    with started(app) as client, ThreadPoolExecutor(3) as pool:
        good1, bad, good2 = pool.map(lambda body: client.post(SCORE, json=body), bodies)
        got = samples(client)
    assert good1.status_code == 200 and good2.status_code == 200
    assert [r["flagged"] for r in good1.json()["results"]] == [[], ["offensive"]]
    assert bad.status_code == 500
    assert bad.json()["type"].endswith("model-failed") and "poison" not in bad.text
    assert "other requests were not affected" in bad.json()["detail"]
    assert got[("warning_model_failures_total", ())] == 1


@pytest.mark.parametrize("route", [SCORE, ANALYZE, MODERATE])
def test_ops_full_queue_is_a_503_with_retry_after(route: str, fake) -> None:
    model = Blocked(fake)
    app = create_app(settings(batch_max_posts=1, batch_max_wait_ms=0, queue_max_posts=2),
                     classifier=model)
    body = ({"texts": "hi"} if route == SCORE else {"input": "hi"} if route == MODERATE else
            {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}})
    with started(app) as client, ThreadPoolExecutor(3) as pool:
        try:
            in_model = pool.submit(client.post, route, json=body)
            assert model.entered.wait(10)
            queued = [pool.submit(client.post, route, json=body) for _ in range(2)]
            wait_until(lambda: app.state.batcher.depth == 2)
            refused = client.post(route, json=body)
        finally:
            model.release.set()
        assert in_model.result().status_code == 200
        assert [f.result().status_code for f in queued] == [200, 200]
        got = samples(client)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
    if route == ANALYZE:
        assert refused.json()["error"]["status"] == "UNAVAILABLE"
        assert "busy" in refused.json()["error"]["message"]
    else:
        assert refused.json()["type"].endswith("overloaded")
        assert "2 posts are waiting" in refused.json()["detail"]
    assert got[("warning_requests_rejected_total", (("reason", "overloaded"),))] == 1


def test_ops_shutdown_answers_waiting_requests_with_503(fake) -> None:
    """The lifespan's end (after the server's own graceful drain) fails what still waits in
    the queue with 503 and lets the batch in the model finish."""
    import asyncio

    import httpx

    model = Blocked(fake)
    app = create_app(settings(batch_max_posts=1, batch_max_wait_ms=0), classifier=model)

    async def main() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     headers={"Authorization": f"Bearer {KEY}"}) as client:
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            running = asyncio.create_task(client.post(SCORE, json={"texts": "a"}))
            while not model.entered.is_set():
                await asyncio.sleep(0.002)
            waiting = asyncio.create_task(client.post(SCORE, json={"texts": "b"}))
            while app.state.batcher.depth < 1:
                await asyncio.sleep(0.002)
            stopping = asyncio.create_task(lifespan.__aexit__(None, None, None))
            answer = await waiting
            assert not (await client.get("/readyz")).is_success
            model.release.set()
            await stopping
            return await running, answer

    try:
        running, answer = asyncio.run(main())
    finally:
        model.release.set()
    assert running.status_code == 200
    assert answer.status_code == 503 and answer.json()["type"].endswith("shutting-down")
    assert answer.headers["retry-after"]
    assert app.state.stopping and not app.state.batcher.running


@pytest.mark.slow
def test_ops_docs_render_in_chromium_with_every_outside_host_unreachable(live_server, chromium,
                                                                         tmp_path) -> None:
    """Swagger UI draws every route from the server's own files, with name resolution of any
    other host turned off (as on an air-gapped machine)."""
    import subprocess

    result = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-extensions", "--disable-background-networking",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", f"{live_server}/docs"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    paths = set(re.findall(r'data-path="([^"]+)"', dom))
    assert paths >= {SCORE, ANALYZE, MODERATE, "/healthz", "/readyz", "/metrics"}, dom[-2000:]


def test_ops_metrics_method_label_is_bounded(fake) -> None:
    """A client may send any token as the HTTP method (and needs no key to be counted): the
    method label must not grow with what clients invent."""
    app = create_app(settings(), classifier=fake)
    with started(app) as client:
        for i in range(5):
            client.request(f"X-METHOD-{i}", SCORE)
        TestClient(app).request("PROPFIND", "/v1/feedback/fb-1")
        text = client.get("/metrics").text
    methods = set(re.findall(r'method="([^"]*)"', text))
    assert "X-METHOD-0" not in text and "PROPFIND" not in text
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert 'method="other"' in text
