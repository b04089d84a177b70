"""My work with many articles: a bounded, paginated list per project with a
status filter and a title search, working with htmx and without JavaScript,
in a number of queries that does not grow with the assignments."""

import itertools
import re

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Assignment, Document, Membership, text_checksum
from annotations.selectors.mywork import PER_PAGE, ArticlePage, ArticleQuery
from annotations.services import coding as services
from tests import factories

HX = {"HX-Request": "true"}
TEXT = "Europol and Telegram shut channels down."
ROW = re.compile(
    r'<tr class="row-(\w+)">\s*<td dir="auto"><a href="/p/[^/]+/d/(\d+)/">'
)
SEGMENTS = re.compile(
    r'<tr class="row-\w+">\s*<td dir="auto"><a href="/p/[^/]+/d/(\d+)/">.*?'
    r'<td class="num">(\d+)</td>\s*</tr>',
    re.S,
)
IDS = itertools.count()


def articles(project, coder, n, *, status="todo", title="Article {i:03d}"):
    """n documents of the project assigned to coder, with the given status."""
    docs = Document.objects.bulk_create(
        Document(
            project=project, external_id=f"x{next(IDS)}", text=TEXT,
            title=title.format(i=i), length=len(TEXT), checksum=text_checksum(TEXT),
        )
        for i in range(n)
    )  # fmt: skip
    Assignment.objects.bulk_create(
        Assignment(document=d, coder=coder, status=status) for d in docs
    )
    return docs


@pytest.fixture
def project(db):
    return factories.ProjectFactory(name="Big", slug="big")


@pytest.fixture
def coder(client, project):
    user = factories.UserFactory(username="busy")
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.CODER)
    client.force_login(user)
    return user


def rows(body):
    """(status, document id) of the list's rows, in order."""
    return [(status, int(pk)) for status, pk in ROW.findall(body)]


def get(client, **params):
    return client.get("/", params).content.decode()


# ---------------------------------------------------------------- pages


def test_exactly_one_page_has_no_pager(client, project, coder):
    articles(project, coder, PER_PAGE)
    body = get(client)
    assert len(rows(body)) == PER_PAGE
    assert 'class="pager"' not in body
    assert f"Articles 1–{PER_PAGE} of {PER_PAGE}, unfinished first." in body


def test_one_more_article_makes_a_second_page(client, project, coder):
    docs = articles(project, coder, PER_PAGE + 1)
    body = get(client)
    assert len(rows(body)) == PER_PAGE
    assert '<nav class="pager" aria-label="Pages of your articles in Big"' in body
    # Plain links (no JavaScript needed) and htmx attributes on the same link.
    assert (
        f'id="list-{project.pk}-next" rel="next" href="/?project=big&amp;page=2'
        f'#articles-{project.pk}" hx-get="/?project=big&amp;page=2">Next</a>'
    ) in body
    assert re.search(r'page-1"[^>]*aria-current="page"', body)
    assert f"list-{project.pk}-prev" not in body
    second = get(client, project="big", page="2")
    assert rows(second) == [("todo", docs[-1].pk)]
    assert f"Articles {PER_PAGE + 1}–{PER_PAGE + 1} of {PER_PAGE + 1}" in second
    assert re.search(r'page-2"[^>]*aria-current="page"', second)
    assert 'rel="prev" href="/?project=big&amp;page=1' in second
    assert f"list-{project.pk}-next" not in second


def test_in_progress_then_to_do_then_done_as_next_uses(client, project, coder):
    done = articles(project, coder, 30, status="done", title="Done {i}")
    todo = articles(project, coder, 30, status="todo", title="Todo {i}")
    started = articles(project, coder, 30, status="in_progress", title="Started {i}")
    expected = (
        [("in_progress", d.pk) for d in started]
        + [("todo", d.pk) for d in todo]
        + [("done", d.pk) for d in done]
    )
    first, second = get(client), get(client, project="big", page="2")
    assert rows(first) + rows(second) == expected
    # "Open next" is the first row, and the /next/ redirect agrees.
    assert f'href="/p/big/d/{started[0].pk}/">Open next unfinished article' in first
    assert client.get("/p/big/next/")["Location"] == f"/p/big/d/{started[0].pk}/"
    assert "30 of 90 done, 30 in progress" in first


def test_page_window_marks_gaps():
    def links(number, count):
        page = Paginator(range(count), PER_PAGE).page(number)
        return ArticlePage(
            rows=[], query=ArticleQuery(), page=page, slug="x"
        ).page_links

    assert links(1, 50) == [1]
    assert links(1, 51) == [1, 2]
    assert links(5, 500) == [1, 2, 3, 4, 5, 6, 7, None, 10]
    assert links(10, 500) == [1, None, 8, 9, 10]
    assert links(6, 20 * 50) == [1, None, 4, 5, 6, 7, 8, None, 20]


# ---------------------------------------------------------------- filter, search


def test_status_filter(client, project, coder):
    done = articles(project, coder, 3, status="done", title="Done {i}")
    articles(project, coder, 2, status="todo")
    body = get(client, project="big", status="done")
    assert rows(body) == [("done", d.pk) for d in done]
    assert "Articles 1–3 of 3 done." in body
    assert '<option value="done" selected>Done (3)</option>' in body
    assert "Show all your articles" in body
    body = get(client, project="big", status="in_progress")
    assert rows(body) == [] and "No article is in progress." in body
    # The summary is the project's, whatever the filter.
    assert "3 of 5 done" in body


def test_search_titles_case_insensitively_in_any_script(client, project, coder):
    europol, arabic, accented, _ = (
        articles(project, coder, 1, title="Europol takes down channels")
        + articles(project, coder, 1, title="إغلاق قناة على تيليغرام")
        + articles(project, coder, 1, title="École de police")
        + articles(project, coder, 1, title="Something else 100%")
    )
    cases = {
        "EUROPOL": [europol], "قناة": [arabic], "école": [accented],
        "ÉCOLE": [accented], "police": [accented], "100%": [_],
        # Characters LIKE and regular expressions treat specially match as text.
        "%": [_], "_": [], "(": [], ".*": [], "\\": [],
    }  # fmt: skip
    for q, expected in cases.items():
        body = get(client, project="big", q=q)
        assert [pk for _, pk in rows(body)] == [d.pk for d in expected], q
    body = get(client, project="big", q="nothing like it")
    assert "No article has “nothing like it” in its title." in body


def test_search_with_status_and_pages(client, project, coder):
    articles(project, coder, PER_PAGE + 2, status="done", title="Police raid {i}")
    articles(project, coder, 5, status="todo", title="Police raid todo {i}")
    articles(project, coder, 5, status="done", title="Other {i}")
    body = get(client, project="big", q="police", status="done")
    assert len(rows(body)) == PER_PAGE
    assert f"of {PER_PAGE + 2} done with “police” in the title" in body
    assert 'href="/?project=big&amp;status=done&amp;q=police&amp;page=2' in body
    second = get(client, project="big", q="police", status="done", page="2")
    assert len(rows(second)) == 2 and {s for s, _ in rows(second)} == {"done"}


def test_search_form_works_without_javascript(client, project, coder):
    articles(project, coder, 1)
    body = get(client)
    form = body[body.index('<form class="work-filter"') :]
    form = form[: form.index("</form>")]
    assert f'method="get" action="/#articles-{project.pk}"' in form
    assert 'type="hidden" name="project" value="big"' in form
    assert 'type="search" name="q"' in form and '<select id="status-' in form
    assert '<button type="submit">Show</button>' in form


def test_params_apply_to_the_named_project_only(client, project, coder):
    other = factories.ProjectFactory(name="Another", slug="another")
    factories.MembershipFactory(project=other, user=coder)
    articles(project, coder, PER_PAGE + 1)
    mine = articles(other, coder, PER_PAGE + 1, title="Other {i}")
    body = get(client, project="another", page="2")
    # Another (listed first, by name): its page 2; Big: its page 1.
    assert rows(body)[0] == ("todo", mine[-1].pk)
    assert len(rows(body)) == 1 + PER_PAGE
    assert re.search(rf'list-{project.pk}-page-1"[^>]*aria-current', body)


# ---------------------------------------------------------------- blind counts


def test_counts_are_the_coders_own(client, study):
    doc0, doc1 = study.documents[:2]
    actor = study.codes["actor"]
    for coder, start in ((study.coder1, 0), (study.coder2, 0), (study.coder2, 8)):
        services.segment_create(document=doc1, coder=coder, code=actor, start=start,
                                end=start + 7, quote=doc1.text[start : start + 7])  # fmt: skip
    gone, _ = services.segment_create(document=doc0, coder=study.coder1, code=actor,
                                      start=0, end=7, quote=doc0.text[:7])  # fmt: skip
    services.segment_delete(segment=gone, actor=study.coder1)
    client.force_login(study.coder1)
    body = get(client)
    assert "1 segment coded by you" in body
    counts = {int(pk): int(n) for pk, n in SEGMENTS.findall(body)}
    assert counts == {d.pk: int(d == doc1) for d in study.documents}
    client.force_login(study.coder2)
    body = get(client)
    assert "2 segments coded by you" in body
    counts = {int(pk): int(n) for pk, n in SEGMENTS.findall(body)}
    assert counts == {d.pk: 2 * int(d == doc1) for d in study.documents}


# ---------------------------------------------------------------- htmx


def test_htmx_gets_only_the_list(client, project, coder):
    docs = articles(project, coder, PER_PAGE + 1)
    response = client.get("/", {"project": "big", "page": "2"}, headers=HX)
    body = response.content.decode()
    assert "<html" not in body and "<h1>" not in body and "<form" not in body
    assert body.lstrip().startswith(f'<div id="list-{project.pk}" class="work-list">')
    assert rows(body) == [("todo", docs[-1].pk)]
    assert "HX-Request" in response["Vary"]
    # The search answers with the list too.
    body = client.get("/", {"project": "big", "q": "050"}, headers=HX).content.decode()
    assert rows(body) == [("todo", docs[50].pk)] and "<form" not in body


def test_history_restore_gets_the_whole_page(client, project, coder):
    articles(project, coder, 2)
    headers = {**HX, "HX-History-Restore-Request": "true"}
    body = client.get("/", {"project": "big"}, headers=headers).content.decode()
    assert "<html" in body and "<h1>My work</h1>" in body


def test_htmx_without_a_project_gets_the_whole_page(client, project, coder):
    articles(project, coder, 2)
    body = client.get("/", headers=HX).content.decode()
    assert "<html" in body and "<h1>My work</h1>" in body


def test_htmx_for_a_project_not_yours_is_404(client, project, coder):
    stranger = factories.ProjectFactory(slug="stranger")
    articles(stranger, factories.UserFactory(), 2)
    for slug in ("stranger", "missing", ""):
        assert client.get("/", {"project": slug}, headers=HX).status_code == 404


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "1e3"},
        {"page": "3"}, {"page": "9" * 30}, {"page": "9" * 5000}, {"page": "²"},
        {"page": ""}, {"status": "bogus"}, {"status": ""}, {"q": "\x00"},
        {"q": "  "}, {"project": "missing"}, {"project": "bad slug\x00"},
        {"project": "stranger", "page": "2"},
    ],
)  # fmt: skip
def test_bad_values_answer_the_first_page(client, project, coder, params):
    docs = articles(project, coder, PER_PAGE + 1)
    factories.ProjectFactory(slug="stranger")
    params = {"project": "big", **params}
    response = client.get("/", params)
    assert response.status_code == 200
    body = response.content.decode()
    assert rows(body)[0] == ("todo", docs[0].pk) and len(rows(body)) == PER_PAGE
    htmx = client.get("/", params, headers=HX)
    if params["project"] == "big":
        assert htmx.status_code == 200 and rows(htmx.content.decode()) == rows(body)
    else:
        assert htmx.status_code == 404


def test_a_long_search_is_cut(client, project, coder):
    articles(project, coder, 1, title="x" * 300)
    body = get(client, project="big", q="x" * 1000)
    assert 'value="' + "x" * 200 + '"' in body and len(rows(body)) == 1


def test_only_get_and_head(client, coder):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200


# ---------------------------------------------------------------- bounded


def queries(client, params, headers=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/", params, headers=headers or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "params, headers",
    [
        ({}, None),
        ({"project": "big", "page": "3"}, None),
        ({"project": "big", "status": "done"}, None),
        ({"project": "big", "q": "article"}, None),
        ({"project": "big", "page": "2"}, HX),
        ({"project": "big", "q": "article"}, HX),
    ],
)
def test_queries_do_not_grow_with_assignments(client, project, coder, params, headers):
    actor = factories.CodeFactory(project=project, name="actor")
    counts = []
    for n in (20, 200):
        docs = articles(project, coder, n // 2, title=f"Article {n}-{{i}}")
        docs += articles(project, coder, n // 2, status="done", title="Done {i}")
        for doc in docs[:: max(1, n // 20)]:
            factories.SegmentFactory(document=doc, coder=coder, code=actor)
        counts.append(queries(client, params, headers))
        Assignment.objects.filter(coder=coder).delete()
    assert counts[0] == counts[1], counts
    # session, user, memberships, summary, segment totals, page (+ count
    # when searching); htmx: no segment totals.
    assert counts[1] <= 7


def test_the_page_stays_small(client, project, coder):
    articles(project, coder, 500, title="A rather long article title number {i}")
    response = client.get("/")
    assert len(rows(response.content.decode())) == PER_PAGE
    assert len(response.content) < 40_000
