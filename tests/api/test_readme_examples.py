"""The README's API examples run against a live server and fetch the segments."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from annotations.services.coding import segment_create

README = Path(__file__).resolve().parents[2] / "README.md"


def example(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- example: {name} -->\n```\w+\n(.*?)```", text, re.S)
    assert match, f"example {name} not found in the README"
    return match.group(1)


@pytest.fixture
def served(live_server, study, transactional_db):
    for coder in (study.coder1, study.coder2):
        doc = study.documents[3]  # the one with emoji and Arabic
        start = doc.text.index("قناة")
        segment_create(
            document=doc, coder=coder, code=study.codes["law_enforcement"],
            start=start, end=start + 4, quote=doc.text[start : start + 4],
        )  # fmt: skip
    env = {
        **os.environ,
        "WORKBENCH_URL": live_server.url,
        "WORKBENCH_TOKEN": Token.objects.create(user=study.pi).key,
        "WORKBENCH_PROJECT": "takedowns",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_python_example(served, tmp_path):
    script = tmp_path / "fetch.py"
    script.write_text(example("api-python") + "\nprint(segments[0]['code_path'])\n")
    result = subprocess.run(
        [sys.executable, str(script)],
        env=served,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "2 segments by 2 coders" in result.stdout
    assert "actor/law_enforcement" in result.stdout


def _r_ready() -> bool:
    if not shutil.which("Rscript"):
        return False
    check = subprocess.run(
        ["Rscript", "-e", "library(httr2); library(jsonlite)"],
        capture_output=True,
        timeout=60,
    )
    return check.returncode == 0


@pytest.mark.skipif(
    not _r_ready(), reason="Rscript with httr2 and jsonlite is not installed"
)
def test_r_example(served, tmp_path):
    script = tmp_path / "fetch.R"
    script.write_text(
        example("api-r")
        + 'cat(segments$code_path[1], "\\n")\n'
        # The offsets work with R's substr on the document's text (code points).
        + "one <- req_perform(req_auth_bearer_token(request(paste0(base, '/api/projects/', "
        + "project, '/documents/', segments$document[1], '/')), token))\n"
        + "text <- jsonlite::fromJSON(resp_body_string(one))$text\n"
        + "stopifnot(substr(text, segments$start[1] + 1, segments$end[1]) == segments$quote[1])\n"
        + 'cat("substr ok\\n")\n'
    )
    result = subprocess.run(
        ["Rscript", str(script)],
        env=served,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "2 segments by 2 coders" in result.stdout
    assert "actor/law_enforcement" in result.stdout
    assert "substr ok" in result.stdout
