import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from serve.auth import KeyStore, key_id
from serve.limits import RateLimiter
from serve.settings import ServeSettings, SettingsError, get_settings
from warning.cli import main


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("WARNING_API_KEYS", "WARNING_API_KEYS_FILE", "WARNING_OPEN_ACCESS",
                 "WARNING_SETTINGS_FILE", "WARNING_MAX_TEXTS", "WARNING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_app_refuses_to_start_without_keys(clean_env) -> None:
    with pytest.raises(SettingsError, match=r"WARNING_API_KEYS.*WARNING_OPEN_ACCESS=1"):
        create_app()


def test_app_open_access_needs_no_key(make_app) -> None:
    client = TestClient(make_app(api_keys="", open_access=True))
    assert client.post("/v1/score", json={"texts": "hi"}).status_code == 200


def test_settings_from_environment_key_file_and_settings_file(clean_env, tmp_path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# moderators of org A\nfile-key-1111111111\n\nfile-key-2222222222\n")
    env = tmp_path / "serve.env"
    env.write_text(f"WARNING_API_KEYS_FILE={keys}\nWARNING_MAX_TEXTS=7\n")
    clean_env.setenv("WARNING_SETTINGS_FILE", str(env))
    clean_env.setenv("WARNING_API_KEYS", "env-key-333333333, env-key-444444444")
    clean_env.setenv("WARNING_MAX_TEXTS", "5")  # the environment wins over the file
    settings = get_settings()
    assert settings.max_texts == 5
    assert settings.keys() == ["env-key-333333333", "env-key-444444444",
                               "file-key-1111111111", "file-key-2222222222"]
    assert "env-key" not in repr(settings)  # the keys are secret in reprs


def test_settings_missing_files_are_clear_errors(clean_env, tmp_path) -> None:
    clean_env.setenv("WARNING_SETTINGS_FILE", str(tmp_path / "none.env"))
    with pytest.raises(SettingsError, match=r"none\.env not found"):
        get_settings()
    with pytest.raises(SettingsError, match="cannot be read"):
        ServeSettings(api_keys_file=tmp_path / "none.txt").keys()


def test_app_keeps_no_plain_key(make_app, key) -> None:
    app = make_app()
    assert app.state.settings.api_keys.get_secret_value() == ""
    assert key not in repr(vars(app.state))


def test_auth_keys_are_kept_hashed() -> None:
    store = KeyStore(["alpha-key-000000000", "beta-key-0000000000"])
    assert store.check("beta-key-0000000000") == key_id("beta-key-0000000000")
    assert store.check("beta-key-000000000") is None and store.check("") is None
    assert "alpha" not in repr(vars(store))


def test_limits_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=30, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("k") for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("k") == pytest.approx(2.0)  # one token every 2 s
    now[0] = 2.0
    assert limiter.acquire("k") == 0.0 and limiter.acquire("other") == 0.0
    assert RateLimiter.retry_after(0.2) == "1"


def test_limits_forget_refilled_buckets(monkeypatch) -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: now[0])
    monkeypatch.setattr(limiter, "max_buckets", 2)
    for client in ("a", "b", "c"):
        limiter.acquire(client)
    now[0] = 0.5
    limiter.acquire("d")  # a, b, c have not refilled yet: all kept
    assert len(limiter._buckets) == 4
    now[0] = 5.0
    limiter.acquire("e")
    assert set(limiter._buckets) == {"e"}


def test_cli_serve_refuses_to_start_without_keys(clean_env, capsys) -> None:
    assert main(["serve", "--port", "1"]) == 2
    assert "no API key is set" in capsys.readouterr().err


def test_cli_serve_reports_a_bad_setting(clean_env, capsys) -> None:
    clean_env.setenv("WARNING_MAX_TEXTS", "many")
    assert main(["serve"]) == 2
    assert "WARNING_MAX_TEXTS" in capsys.readouterr().err


def test_short_keys_refuse_to_start_naming_the_rule_not_the_key(make_app) -> None:
    with pytest.raises(SettingsError, match="at least 16 characters") as info:
        make_app(api_keys="long-enough-key-00000,short-key-123")
    assert "short-key-123" not in str(info.value) and "key number 2" in str(info.value)
    make_app(api_keys="x" * 16)  # exactly 16 is enough


def test_key_id_is_salted_not_a_plain_hash_prefix() -> None:
    import hashlib

    key = "a-long-enough-secret-key"
    assert key_id(key) == key_id(key) and len(key_id(key)) == 8
    assert key_id(key) != hashlib.sha256(key.encode()).hexdigest()[:8]


def test_settings_feedback_db_is_the_file_the_cli_reads(clean_env, tmp_path) -> None:
    """The server and 'warning feedback' must open the same database: the CLI expands '~' and
    strips spaces in WARNING_FEEDBACK_DB, so the server must too (a settings file or a systemd
    unit does not expand '~'; the server would make a folder named '~' in its working dir)."""
    from pathlib import Path

    from warning.settings import feedback_db

    clean_env.setenv("HOME", str(tmp_path))
    for value in ("~/feedback.db", " ~/feedback.db "):
        clean_env.setenv("WARNING_FEEDBACK_DB", value)
        assert get_settings().feedback_db == feedback_db() == str(Path(tmp_path) / "feedback.db")
    url = "postgresql+psycopg://moderation@db.internal:5432/feedback"
    clean_env.setenv("WARNING_FEEDBACK_DB", f" {url} ")  # a URL is kept, '~' or not
    assert get_settings().feedback_db == feedback_db() == url
    clean_env.setenv("WARNING_FEEDBACK_DB", "  ")
    assert get_settings().feedback_db is None and feedback_db() is None


@pytest.mark.parametrize("name", ["WARNING_BATCH_MAX_WAIT_MS", "WARNING_RESPONSE_MEMORY_SECONDS"])
def test_settings_refuse_infinite_waits(clean_env, name) -> None:
    """'inf' parses as a float: an infinite batch wait leaves a lone request waiting for
    others that never come (the batcher is woken only by new requests)."""
    from pydantic import ValidationError

    clean_env.setenv(name, "inf")
    with pytest.raises(ValidationError, match=name.removeprefix("WARNING_").lower()):
        get_settings()
