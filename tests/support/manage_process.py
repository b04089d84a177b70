"""``manage.py`` as a real process, for tests of what a shell user sees (the
exit status and the one line on stderr), not what ``call_command`` raises."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from django.conf import settings


def fresh_project_manage(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """A ``manage(*args)`` running against a new SQLite database in
    ``tmp_path``, migrated and holding one empty project ``p``."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR,
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip

    assert manage("migrate", "-v", "0").returncode == 0
    assert manage("create_project", "p", "--name", "P").returncode == 0
    return manage
