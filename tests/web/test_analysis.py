"""The PI's Analysis page and its CSV downloads, on the ``study`` project
(tests/conftest.py) with hand-placed segments whose counts are worked out
below. PI only: coders (blind coding) and other projects' PIs get 404."""

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from annotations.models import ConsensusSegment, Segment
from annotations.services import analysis as service
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    # The tables are cached by the data's fingerprint, which factory-made
    # segments (no history rows) do not change: every test starts cold.
    cache.clear()
    yield
    cache.clear()


def seg(doc, coder, code, start, end, **kw):
    return factories.SegmentFactory(
        document=doc, coder=coder, code=code, start=start, end=end, **kw
    )


@pytest.fixture
def coded(study):
    """Segments (``*`` soft-deleted, never counted); d3 has none:

    d0: coder1 actor [0, 7), action [5, 20) (overlap), platform [20, 30)
        (touches action: no overlap); coder2 actor [0, 7), law_enforcement
        [10, 15); consensus actor [0, 7), action [5, 20) (overlap)
    d1: coder1 law_enforcement [0, 7), action [3, 10) (overlap);
        coder2 platform [0, 10) (overlaps coder1's spans: another coder)
    d2: coder2 action [8, 29), platform* [10, 20) (would overlap)

    Codebook order: actor, actor/law_enforcement, action, platform.
    """
    s, (d0, d1, d2, _) = study, study.documents
    c1, c2, codes = s.coder1, s.coder2, s.codes
    actor, law, action, platform = (
        codes[k] for k in ("actor", "law_enforcement", "action", "platform")
    )
    seg(d0, c1, actor, 0, 7)
    seg(d0, c1, action, 5, 20)
    seg(d0, c1, platform, 20, 30)
    seg(d0, c2, actor, 0, 7)
    seg(d0, c2, law, 10, 15)
    seg(d1, c1, law, 0, 7)
    seg(d1, c1, action, 3, 10)
    seg(d1, c2, platform, 0, 10)
    seg(d2, c2, action, 8, 29)
    seg(d2, c2, platform, 10, 20, deleted_at=timezone.now())
    for code, start, end in ((actor, 0, 7), (action, 5, 20)):
        ConsensusSegment.objects.create(
            document=d0, code=code, start=start, end=end,
            quote=d0.text[start:end], decision="manual",
        )  # fmt: skip
    ConsensusSegment.objects.create(
        document=d1, code=platform, start=0, end=5, quote=d1.text[:5],
        decision="manual", deleted_at=timezone.now(),
    )  # fmt: skip
    return study


@pytest.fixture
def pi_client(client, coded):
    client.force_login(coded.pi)
    return client


def url(name="analysis", *args, slug="takedowns"):
    return reverse(name, args=[slug, *args])


def csv_url(table):
    return url("analysis_csv", table)


def rows_of(html: str, table_id: str) -> dict[str, list[str]]:
    """A table's body rows as {data-code: [cell texts]}."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    out = {}
    for code, body in re.findall(
        r'<tr data-code="([^"]*)"[^>]*>(.*?)</tr>', table, re.S
    ):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        out[code] = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
    return out


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


ORDER = ["actor", "actor/law_enforcement", "action", "platform"]


def test_frequencies_for_all_coders(pi_client):
    response = pi_client.get(url())
    assert response.status_code == 200
    html = response.content.decode()
    rows = rows_of(html, "frequencies")
    # segments own/subtree, documents own/subtree, % own/subtree (of 4
    # documents), coders own/subtree, median length own/subtree
    assert rows == {
        "actor": ["2", "4", "1", "2", "25.0", "50.0", "2", "2", "7", "7"],
        "actor/law_enforcement": ["2", "", "2", "", "50.0", "", "2", "", "6", ""],
        "action": ["3", "", "3", "", "75.0", "", "2", "", "15", ""],
        "platform": ["2", "", "2", "", "50.0", "", "2", "", "10", ""],
    }  # fmt: skip
    assert list(rows) == ORDER
    assert "<strong>9</strong> live segments from all coders" in html
    assert 'aria-current="page">Analysis' in html


def test_code_by_coder_has_the_consensus_column(pi_client):
    html = pi_client.get(url()).content.decode()
    header = re.search(r'<table[^>]*id="code-coder".*?</thead>', html, re.S).group(0)
    columns = re.findall(r'data-coder="([^"]+)"', header)
    assert columns == ["coder1", "coder2", "consensus"]
    rows = rows_of(html, "code-coder")
    assert rows == {
        "actor": ["1", "1", "1"],
        "actor/law_enforcement": ["1", "1", "0"],
        "action": ["2", "1", "1"],
        "platform": ["1", "1", "0"],
    }


def test_cooccurrence_documents_and_overlaps(pi_client):
    html = pi_client.get(url()).content.decode()
    assert 'data-measure="documents"' in html
    assert rows_of(html, "cooccurrence") == {
        "actor": ["1", "1", "1", "1"],
        "actor/law_enforcement": ["1", "2", "2", "2"],
        "action": ["1", "2", "3", "2"],
        "platform": ["1", "2", "2", "2"],
    }
    html = pi_client.get(url(), {"measure": "overlaps"}).content.decode()
    assert 'data-measure="overlaps"' in html
    # Same coder only; touching spans and the deleted segment do not count.
    assert rows_of(html, "cooccurrence") == {
        "actor": ["2", "0", "1", "0"],
        "actor/law_enforcement": ["0", "2", "1", "0"],
        "action": ["1", "1", "3", "0"],
        "platform": ["0", "0", "0", "2"],
    }
    for text in ("Documents with both codes", "Overlapping segments", "only touch"):
        assert text in html


def test_source_filter_one_coder_and_the_consensus(pi_client):
    html = pi_client.get(url(), {"source": "coder:coder1"}).content.decode()
    assert "<strong>5</strong> live segments from coder1" in html
    assert '<option value="coder:coder1" selected>' in html
    freq = rows_of(html, "frequencies")
    # one coder: no coders column
    assert freq["actor"] == ["1", "2", "1", "2", "25.0", "50.0", "7", "7"]
    assert freq["platform"] == ["1", "", "1", "", "25.0", "", "10", ""]
    assert rows_of(html, "cooccurrence")["action"] == ["1", "1", "2", "1"]

    html = pi_client.get(
        url(), {"source": "consensus", "measure": "overlaps"}
    ).content.decode()
    assert "<strong>2</strong> live segments from the consensus" in html
    assert rows_of(html, "cooccurrence")["actor"] == ["1", "0", "1", "0"]
    assert rows_of(html, "frequencies")["platform"][0] == "0"  # deleted one


def test_htmx_swaps_the_results_only(pi_client):
    response = pi_client.get(url(), {"source": "coder:coder2"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="results"' in html
    assert 'id="ana-filters"' not in html


@pytest.mark.parametrize(
    "params",
    [{"source": "coder:nobody"}, {"source": "coder1"}, {"measure": "bogus"},
     {"source": "coder:outsider"}],
)  # fmt: skip
def test_bad_parameters_are_400_with_a_message(pi_client, params):
    response = pi_client.get(url(), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="ana-errors"' in html and "Select a valid choice" in html
    assert 'id="frequencies"' not in html
    download = pi_client.get(csv_url("frequencies"), params)
    assert download.status_code == 400
    assert download["Content-Type"].startswith("text/plain")
    assert "Select a valid choice" in download.content.decode()


def test_unknown_table_is_404(pi_client):
    assert pi_client.get(csv_url("secrets")).status_code == 404


@pytest.mark.parametrize("who", ["coder1", "coder2", "outsider"])
@pytest.mark.parametrize("table", [None, "frequencies", "code-coder", "cooccurrence"])
def test_coders_and_outsiders_get_404(client, coded, who, table):
    client.force_login(getattr(coded, who))
    target = url() if table is None else csv_url(table)
    assert client.get(target).status_code == 404


def test_another_projects_pi_gets_404(client, coded):
    other_pi = factories.UserFactory(username="other-pi")
    other = factories.ProjectFactory(slug="elsewhere")
    factories.MembershipFactory(project=other, user=other_pi, role="pi")
    client.force_login(other_pi)
    assert client.get(url()).status_code == 404
    assert client.get(csv_url("frequencies")).status_code == 404
    assert client.get(url(slug="elsewhere")).status_code == 200


def test_coders_have_no_link_to_it(client, coded):
    client.force_login(coded.coder1)
    html = client.get(reverse("project_detail", args=["takedowns"])).content.decode()
    assert url() not in html


def test_anonymous_users_are_sent_to_log_in(client, coded):
    for target in (url(), csv_url("frequencies")):
        response = client.get(target)
        assert (
            response.status_code == 302 and "/accounts/login/" in response["Location"]
        )


def test_frequencies_csv(pi_client, coded):
    response = pi_client.get(csv_url("frequencies"), {"source": "coder:coder2"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="takedowns-frequencies-coder-coder2.csv"'
    )
    rows = read_csv(response)
    assert [r["code_path"] for r in rows] == ORDER
    actor = rows[0]
    assert actor == {
        "source": "coder:coder2", "code_id": str(coded.codes["actor"].pk),
        "code": "actor", "code_path": "actor", "depth": "0", "retired": "0",
        "n_documents": "4", "segments": "1", "segments_with_subcodes": "2",
        "documents": "1", "documents_with_subcodes": "1",
        "percent_documents": "25.0", "percent_documents_with_subcodes": "25.0",
        "coders": "1", "coders_with_subcodes": "1",
        "median_length": "7.0", "median_length_with_subcodes": "6.0",
    }  # fmt: skip
    law = rows[1]
    assert law["depth"] == "1" and law["median_length"] == "5.0"
    none = read_csv(pi_client.get(csv_url("frequencies"), {"source": "consensus"}))
    assert none[1]["segments"] == "0" and none[1]["median_length"] == ""


def test_code_coder_csv(pi_client):
    response = pi_client.get(csv_url("code-coder"))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="takedowns-code-coder.csv"'
    )
    rows = read_csv(response)
    assert list(rows[0]) == [
        "code_id", "code", "code_path", "coder", "segments", "segments_with_subcodes",
    ]  # fmt: skip
    got = {(r["code_path"], r["coder"]): (r["segments"], r["segments_with_subcodes"])
           for r in rows}  # fmt: skip
    assert len(rows) == 4 * 3
    assert got[("actor", "coder1")] == ("1", "2")
    assert got[("actor", "consensus")] == ("1", "1")
    assert got[("platform", "consensus")] == ("0", "0")


def test_cooccurrence_csv_is_long_with_both_measures(pi_client):
    response = pi_client.get(csv_url("cooccurrence"))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="takedowns-cooccurrence-all.csv"'
    )
    rows = read_csv(response)
    assert list(rows[0]) == [
        "source", "measure", "code_a_id", "code_a", "code_b_id", "code_b", "count",
    ]  # fmt: skip
    assert len(rows) == 2 * 4 * 4
    got = {(r["measure"], r["code_a"], r["code_b"]): int(r["count"]) for r in rows}
    assert got["documents", "action", "platform"] == 2
    assert got["documents", "platform", "platform"] == 2
    assert got["overlaps", "actor", "action"] == 1
    assert got["overlaps", "action", "actor"] == 1
    assert got["overlaps", "action", "platform"] == 0  # touching, deleted
    only = read_csv(pi_client.get(csv_url("cooccurrence"), {"measure": "overlaps"}))
    assert {r["measure"] for r in only} == {"overlaps"} and len(only) == 16


def test_csv_cells_cannot_run_as_formulas(pi_client, coded):
    code = coded.codes["platform"]
    code.name = "=HYPERLINK(1)"
    code.save()
    evil = factories.UserFactory(username="-evil")
    factories.MembershipFactory(project=coded.project, user=evil)
    seg(coded.documents[3], evil, coded.codes["action"], 0, 5)
    cache.clear()
    freq = read_csv(pi_client.get(csv_url("frequencies")))
    assert freq[3]["code"] == "'=HYPERLINK(1)"
    assert freq[3]["code_path"] == "'=HYPERLINK(1)"
    by_coder = read_csv(pi_client.get(csv_url("code-coder")))
    assert {r["coder"] for r in by_coder} == {"'-evil", "coder1", "coder2", "consensus"}
    cooc = read_csv(pi_client.get(csv_url("cooccurrence")))
    assert any(r["code_b"] == "'=HYPERLINK(1)" for r in cooc)
    response = pi_client.get(csv_url("frequencies"), {"source": "coder:-evil"})
    assert response.status_code == 200
    assert "takedowns-frequencies-coder--evil.csv" in response["Content-Disposition"]
    assert read_csv(response)[0]["source"] == "coder:-evil"


def test_deleting_a_segment_changes_the_counts(pi_client, coded):
    """Through the coding service, which writes history: the cached tables
    are recomputed, not served stale."""
    from annotations.services.coding import segment_delete

    before = rows_of(pi_client.get(url()).content.decode(), "frequencies")
    assert before["action"][0] == "3"
    segment = Segment.objects.get(
        document=coded.documents[2], code=coded.codes["action"]
    )
    segment_delete(segment=segment, actor=coded.coder2)
    after = rows_of(pi_client.get(url()).content.decode(), "frequencies")
    assert after["action"][:3] == ["2", "", "2"]


def test_query_count_is_bounded(pi_client, coded, django_assert_max_num_queries):
    # session, user, project; the data's fingerprint (6); on a cache miss
    # segments, consensus, coder names, codebook, document count
    with django_assert_max_num_queries(14):
        cold = pi_client.get(url())
    with django_assert_max_num_queries(9):
        warm = pi_client.get(url(), {"source": "consensus"})
    assert cold.status_code == warm.status_code == 200
    # more coders, documents and segments: the same number of queries
    for i in range(5):
        doc = factories.DocumentFactory(project=coded.project)
        coder = factories.UserFactory(username=f"extra{i}")
        for code in coded.codes.values():
            seg(doc, coder, code, i, i + 9)
    cache.clear()
    with django_assert_max_num_queries(14):
        assert pi_client.get(url(), {"measure": "overlaps"}).status_code == 200


def test_empty_project(client, db):
    project = factories.ProjectFactory(slug="empty")
    pi = factories.UserFactory(username="pi-empty")
    factories.MembershipFactory(project=project, user=pi, role="pi")
    client.force_login(pi)
    html = client.get(url(slug="empty")).content.decode()
    assert "The codebook is empty." in html and "No segments yet." in html
    rows = read_csv(client.get(url("analysis_csv", "frequencies", slug="empty")))
    assert rows == []
    factories.CodeFactory(project=project, name="solo")
    cache.clear()
    html = client.get(url(slug="empty")).content.decode()
    assert rows_of(html, "frequencies") == {
        "solo": ["0", "", "0", "", "—", "", "0", "", "—", ""]
    }


def test_payload_is_cached_until_the_data_changes(pi_client, coded, monkeypatch):
    calls = []
    real = service.analysis_tables

    def counting(rows):
        calls.append(1)
        return real(rows)

    monkeypatch.setattr(service, "analysis_tables", counting)
    pi_client.get(url())
    pi_client.get(url(), {"source": "coder:coder1", "measure": "overlaps"})
    pi_client.get(csv_url("cooccurrence"))
    assert len(calls) == 1
    code = coded.codes["platform"]
    code.name = "platforms"
    code.save()
    html = pi_client.get(url()).content.decode()
    assert len(calls) == 2 and 'data-code="platforms"' in html
