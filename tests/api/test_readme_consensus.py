"""The README's consensus, adjudication and history examples run against a
live server: curl (always) and R (when Rscript with httr2 is installed)."""

import json
import os
import shutil
import subprocess

import pytest
from rest_framework.authtoken.models import Token

from annotations.models import HistoryEvent
from annotations.services.adjudication import adjudication_mark

from .adjudicated import build
from .test_readme_examples import _r_ready, example


@pytest.fixture
def served(live_server, study, transactional_db):
    adjudicated = build(study)
    adjudication_mark(document=adjudicated.doc, actor=study.pi)
    env = {
        **os.environ,
        "WORKBENCH_URL": live_server.url,
        "WORKBENCH_TOKEN": Token.objects.create(user=study.pi).key,
        "WORKBENCH_PROJECT": "takedowns",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return adjudicated, env


def _json_values(text: str) -> list:
    """The JSON documents curl printed one after the other."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while i < len(text):
        value, i = decoder.raw_decode(text, i)
        values.append(value)
        while i < len(text) and text[i].isspace():
            i += 1
    return values


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_curl_example(served):
    adjudicated, env = served
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example("api-curl")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    consensus, adjudication, history = _json_values(result.stdout)
    assert [r["quote"] for r in consensus["results"]] == [
        "Telegram",
        "قناة مغلقة",
        "café\u0301",
    ]
    assert [r["external_id"] for r in adjudication["results"]] == ["unicode"]
    assert adjudication["results"][0]["open"] == 0
    assert [r["id"] for r in history["results"]] == list(
        HistoryEvent.objects.filter(entity="consensus")
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


@pytest.mark.skipif(
    not _r_ready(), reason="Rscript with httr2 and jsonlite is not installed"
)
def test_r_example(served, tmp_path):
    _, env = served
    script = tmp_path / "consensus.R"
    script.write_text(example("api-r") + example("api-r-consensus"))
    result = subprocess.run(
        ["Rscript", str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "3 consensus segments in 1 documents" in result.stdout
    assert "3 changes to the consensus, the last by pi" in result.stdout
