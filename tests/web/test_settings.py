"""Settings come from the environment and refuse unsafe combinations."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    full.pop("DATABASE_URL", None)
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_debug_off_with_dev_key_refuses_to_start():
    result = run_check(DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is the development key" in result.stderr


def test_debug_off_with_real_key_starts():
    result = run_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr


def test_database_url_selects_postgres_with_psycopg3():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='workbench.settings';"
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    )
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.stdout.strip() == "django.db.backends.postgresql"
    import psycopg  # the driver Django will use for it

    assert psycopg.__version__.startswith("3.")


def test_admin_lists_every_model(admin_client):
    from django.apps import apps

    for model in apps.get_app_config("annotations").get_models():
        url = f"/admin/annotations/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url


def _db_setting(key: str, **extra) -> str:
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='workbench.settings';"
        f"from django.conf import settings; print(settings.DATABASES['default'][{key!r}])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    return out.stdout.strip()


def test_postgres_connections_persist_with_health_checks():
    url = "postgres://postgres@127.0.0.1:5432/x"
    assert _db_setting("CONN_MAX_AGE", DATABASE_URL=url) == "60"
    assert _db_setting("CONN_HEALTH_CHECKS", DATABASE_URL=url) == "True"
    assert _db_setting("CONN_MAX_AGE", DATABASE_URL=url, DJANGO_CONN_MAX_AGE="0") == "0"
