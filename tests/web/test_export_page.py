"""The Export page and its downloads: PIs only (404 for coders and
outsiders), a link per format carrying the filter, streamed CSV, files for
the binary formats, clear 400s for bad requests."""

import io
import zipfile

import pandas as pd
import pytest
from django.urls import reverse
from django.utils.html import escape

from annotations.services import exports
from tests.exports.conftest import make_coded


@pytest.fixture
def coded(study):
    return make_coded(study)


def page(client, slug="takedowns", **params):
    return client.get(reverse("export_page", args=[slug]), params)


def test_page_lists_every_format_for_the_pi(client, coded):
    client.force_login(coded.study.pi)
    response = page(client)
    assert response.status_code == 200
    html = response.content.decode()
    for name in exports.FORMATS:
        assert reverse("export_download", args=["takedowns", name]) in html
        assert escape(exports.FORMATS[name].purpose) in html
    assert f"<strong>{coded.live_count}</strong> segments" in html
    assert 'aria-current="page">Exports' in html


@pytest.mark.parametrize("who", ["coder1", "outsider"])
def test_page_and_downloads_are_404_for_non_pis(client, coded, who):
    client.force_login(getattr(coded.study, who))
    assert page(client).status_code == 404
    url = reverse("export_download", args=["takedowns", "segments.csv"])
    assert client.get(url).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, coded):
    response = page(client)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_filter_changes_the_links_and_the_count(client, coded):
    client.force_login(coded.study.pi)
    response = page(client, who="coder:coder2", since="2000-01-01")
    html = response.content.decode()
    assert "segments.csv?coder=coder2&amp;since=2000-01-01" in html
    assert "<strong>5</strong> segments from coder2" in html
    assert "--coder coder2 --since 2000-01-01" in html
    consensus = page(client, who="consensus").content.decode()
    assert "<strong>2</strong> segments from the consensus" in consensus


def test_htmx_filter_returns_the_fragment(client, coded):
    client.force_login(coded.study.pi)
    response = client.get(
        reverse("export_page", args=["takedowns"]), {"who": "consensus"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="formats"' in html


def test_bad_filter_on_the_page_is_a_400_with_a_message(client, coded):
    client.force_login(coded.study.pi)
    response = page(client, since="2024-05-02", until="2024-05-01")
    assert response.status_code == 400
    assert "after until" in response.content.decode()


def test_csv_download_streams(client, coded):
    client.force_login(coded.study.pi)
    url = reverse("export_download", args=["takedowns", "segments.csv"])
    response = client.get(url, {"coder": "coder1"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="takedowns-segments.csv"' in response["Content-Disposition"]
    df = pd.read_csv(io.BytesIO(b"".join(response.streaming_content)))
    assert set(df.coder) == {"coder1"} and len(df) == 4


@pytest.mark.parametrize(
    "name", ["segments.dta", "project.qdpx", "bundle.zip", "r_bundle.zip"]
)
def test_binary_downloads(client, coded, name):
    client.force_login(coded.study.pi)
    response = client.get(reverse("export_download", args=["takedowns", name]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    if name.endswith(".dta"):
        assert len(pd.read_stata(io.BytesIO(body))) == coded.live_count
    else:
        assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("segments.xlsx", {}, "Unknown export format"),
        ("segments.csv", {"coder": "outsider"}, "not a member"),
        ("segments.csv", {"since": "last week"}, "must be a date"),
    ],
)
def test_bad_downloads_are_400(client, coded, name, params, message):
    client.force_login(coded.study.pi)
    response = client.get(reverse("export_download", args=["takedowns", name]), params)
    assert response.status_code == 400
    assert message in response.content.decode()
