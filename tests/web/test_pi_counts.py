"""The numbers on the PI's pages (Progress, dashboard, Team, Codebook,
Export) come from cached tallies (annotations/selectors/tallies.py): they
must equal a direct count of the data, change on the next request after a
change made through the services, cost a bounded number of queries once
cached, and never mix two projects up."""

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.models import Assignment, Code, Document, Membership, Project, Segment
from annotations.selectors import cached, tallies
from annotations.selectors.progress import segments_per_day
from annotations.selectors.tallies import daily_since, project_tallies
from annotations.services.coding import (
    assignment_set_status,
    segment_create,
    segment_delete,
    segment_restore,
)
from tests import factories

pytestmark = pytest.mark.django_db
PAGES = ["progress", "project_detail", "team", "codebook", "export_page"]


@dataclass
class Busy:
    project: Project
    pi: object
    coders: dict[str, object]  # a, b: assigned; idle: a member with nothing
    codes: dict[str, Code]  # actor > police, action
    documents: list[Document]


def _segment(doc, coder, code, *, days_ago=0, hours_ago=0, deleted=False, start=0):
    """A segment made (and deleted) that long ago; factories write no history,
    so pages must be read after the whole set-up (a test's first request)."""
    seg = factories.SegmentFactory(
        document=doc, coder=coder, code=code, start=start, end=start + 7
    )
    when = timezone.now() - dt.timedelta(days=days_ago, hours=hours_ago)
    Segment.objects.filter(pk=seg.pk).update(
        created_at=when, deleted_at=when if deleted else None
    )
    return seg


def build(slug: str, users: dict, *, extra: int) -> Busy:
    """A project with live and deleted segments, today, in the last days and
    long ago, a former coder with deleted segments only, assignments in
    every status; ``extra`` more live segments for coder b, so that two
    projects of the same shape have different numbers."""
    project = factories.ProjectFactory(slug=slug, name=slug)
    factories.MembershipFactory(project=project, user=users["pi"], role="pi")
    for name in ("a", "b", "idle"):
        factories.MembershipFactory(project=project, user=users[name])
    actor = factories.CodeFactory(project=project, name="actor")
    codes = {
        "actor": actor,
        "police": factories.CodeFactory(project=project, name="police", parent=actor),
        "action": factories.CodeFactory(project=project, name="action"),
    }
    docs = [factories.DocumentFactory(project=project) for _ in range(3)]
    a, b = users["a"], users["b"]
    for doc, status in zip(docs, ["done", "in_progress", "todo"], strict=True):
        factories.AssignmentFactory(document=doc, coder=a, status=status)
    for doc, status in zip(docs[:2], ["todo", "done"], strict=True):
        factories.AssignmentFactory(document=doc, coder=b, status=status)
    for code in codes.values():
        _segment(docs[0], a, code)
    _segment(docs[0], a, codes["action"], deleted=True, start=9)
    _segment(docs[0], a, codes["police"], days_ago=3, start=20)
    _segment(docs[1], a, codes["police"], days_ago=3, start=20)
    _segment(docs[0], a, codes["actor"], days_ago=20, start=30)
    for i in range(extra):
        _segment(docs[1], b, codes["action"], days_ago=1, start=i)
    _segment(docs[1], b, codes["actor"], days_ago=2, deleted=True)
    _segment(docs[2], users["former"], codes["actor"], deleted=True)
    coders = {n: users[n] for n in ("a", "b", "idle")}
    return Busy(project, users["pi"], coders, codes, docs)


@pytest.fixture
def users(db) -> dict:
    return {
        name: factories.UserFactory(username=f"u-{name}")
        for name in ("pi", "a", "b", "idle", "former")
    }


@pytest.fixture
def busy(users) -> Busy:
    return build("busy", users, extra=4)


@pytest.fixture
def pi_client(client, busy):
    client.force_login(busy.pi)
    return client


def get(client, name, slug="busy", **params):
    response = client.get(reverse(name, args=[slug]), params)
    assert response.status_code == 200
    return response


# -- the numbers, counted directly ----------------------------------------------


def live(project, **filters) -> int:
    return Segment.objects.filter(
        document__project=project, deleted_at__isnull=True, **filters
    ).count()


def statuses(project, coder) -> tuple[int, int, int]:
    mine = Assignment.objects.filter(document__project=project, coder=coder)
    return tuple(mine.filter(status=s).count() for s in ("done", "in_progress", "todo"))


def daily_direct(project, first: dt.date) -> dict[tuple[str, dt.date], int]:
    """The chart's definition: live segments created per coder and day."""
    rows = (
        Segment.objects.filter(
            document__project=project,
            deleted_at__isnull=True,
            created_at__date__gte=first,
        )
        .annotate(day=TruncDate("created_at"))
        .values("coder__username", "day")
        .annotate(n=Count("pk"))
    )
    return {(r["coder__username"], r["day"]): r["n"] for r in rows}


def check_pages(client, b: Busy) -> None:
    """Every page's numbers equal the direct counts."""
    p, slug = b.project, b.project.slug
    progress = get(client, "progress", slug)
    html = progress.content.decode()
    coders = {c.username: c for c in progress.context["coders"]}
    assert set(coders) == {"u-a", "u-b", "u-idle"}
    for name, c in coders.items():
        user = c.user_id
        assert (c.done, c.in_progress, c.todo) == statuses(p, user)
        assert c.segments == live(p, coder_id=user)
        row = re.search(rf'data-coder="{name}">(.*?)</tr>', html, re.S).group(1)
        assert f"<td>{c.segments}</td>" in row
    counts = progress.context["counts"]
    assert counts.segments == live(p)
    assigned = Assignment.objects.filter(document__project=p)
    assert (counts.done, counts.in_progress, counts.todo) == tuple(
        assigned.filter(status=s).count() for s in ("done", "in_progress", "todo")
    )
    docs = Document.objects.filter(project=p).annotate(
        n=Count("assignments"),
        n_done=Count("assignments", filter=Q(assignments__status="done")),
    )
    assert counts.documents == docs.count()
    assert counts.unassigned == docs.filter(n=0).count()
    assert counts.done_documents == docs.filter(n__gt=0, n=F("n_done")).count()
    assert counts.sample == docs.filter(n__gte=2).count()
    daily = progress.context["daily"]
    shown = {
        (name, day): n
        for name, values in daily.rows
        for day, n in zip(daily.days, values, strict=True)
        if n
    }
    assert shown == daily_direct(p, daily.days[0])
    assert daily.days[0] == daily_since() and len(daily.days) == 14

    dashboard = get(client, "project_detail", slug).content.decode()
    assert f'<span class="n">{live(p)}</span> coded segments' in dashboard

    team = get(client, "team", slug)
    for membership, progress_row in team.context["rows"]:
        if membership.role == Membership.Role.CODER:
            assert progress_row.segments == live(p, coder=membership.user)

    codebook = get(client, "codebook", slug).content.decode()
    for code in Code.objects.filter(project=p):
        n = live(p, code=code)
        row = re.search(rf'id="code-{code.pk}">(.*?)</span>\s*<span class="tools"',
                        codebook, re.S).group(1)  # fmt: skip
        assert f'<span class="count">{n} segment' in row

    export = get(client, "export_page", slug)
    assert export.context["segment_count"] == live(p)
    assert f"<strong>{live(p)}</strong> segments" in export.content.decode()
    names = [c.name for c in export.context["coders"]]
    assert names == ["u-a", "u-b", "u-former", "u-idle"]  # former: deleted only
    for user in b.coders.values():
        one = get(client, "export_page", slug, who=f"coder:{user.username}")
        assert one.context["segment_count"] == live(p, coder=user)
    since = timezone.now().date() - dt.timedelta(days=2)
    dated = get(client, "export_page", slug, since=since.isoformat())
    assert dated.context["segment_count"] == live(
        p, created_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    )


def test_every_page_shows_the_direct_counts(pi_client, busy):
    check_pages(pi_client, busy)
    check_pages(pi_client, busy)  # from the cache


def test_tallies_equal_direct_counts(busy):
    p = busy.project
    t = project_tallies(p)
    assert t.segments == live(p) == 10
    coders = Segment.objects.filter(document__project=p).values_list("coder_id")
    assert t.segment_coders == {c for (c,) in coders}
    assert t.by_coder == {
        u.pk: live(p, coder=u) for u in busy.coders.values() if live(p, coder=u)
    }
    assert t.by_code == {c.pk: live(p, code=c) for c in busy.codes.values()}
    names = {u.pk: u.username for u in busy.coders.values()}
    assert {(names[c], d): n for (c, d), n in t.by_coder_day.items()} == daily_direct(
        p, daily_since()
    )


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Adak"])
def test_the_chart_keeps_its_days_in_any_time_zone(busy, zone):
    """Days are dates of created_at in the current time zone, as TruncDate
    gives them, from the first day of the chart on."""
    p, a = busy.project, busy.coders["a"]
    for hours in (1, 11, 13, 23, 25, 47, 24 * 13 + 11, 24 * 13 + 13, 24 * 14 + 1):
        _segment(busy.documents[2], a, busy.codes["action"], hours_ago=hours)
    with timezone.override(zone):
        today = timezone.localdate()
        for days in (1, 7, 14):
            chart = segments_per_day(p, days=days, today=today)
            shown = {
                (name, day): n
                for name, values in chart.rows
                for day, n in zip(chart.days, values, strict=True)
                if n
            }
            assert shown == daily_direct(p, chart.days[0]), (zone, days)


def test_counts_change_after_a_segment_is_created_deleted_restored(pi_client, busy):
    a = busy.coders["a"]
    check_pages(pi_client, busy)  # cached now
    doc, code = busy.documents[2], busy.codes["action"]
    segment, _ = segment_create(
        document=doc, coder=a, code=code, start=40, end=47, quote=doc.text[40:47]
    )
    check_pages(pi_client, busy)
    assert get(pi_client, "export_page").context["segment_count"] == 11
    segment_delete(segment=segment, actor=a)
    check_pages(pi_client, busy)
    assert get(pi_client, "export_page").context["segment_count"] == 10
    segment_restore(segment=segment, actor=a)
    page = get(pi_client, "project_detail").content.decode()
    assert '<span class="n">11</span> coded segments' in page
    check_pages(pi_client, busy)


def test_counts_change_after_marking_done(pi_client, busy):
    a = busy.coders["a"]
    before = get(pi_client, "progress").context["counts"]
    assignment = Assignment.objects.get(document=busy.documents[1], coder=a)
    assignment_set_status(assignment=assignment, status="done", actor=a)
    after = get(pi_client, "progress").context["counts"]
    assert (after.done, after.in_progress) == (before.done + 1, before.in_progress - 1)
    assert after.done_documents == before.done_documents + 1  # b's is done too
    team = get(pi_client, "team").context["rows"]
    assert {m.user.username: p.done for m, p in team if p}["u-a"] == 2
    dashboard = get(pi_client, "project_detail").content.decode()
    assert '<span class="n">60%</span> of 5 assignments done' in dashboard
    check_pages(pi_client, busy)


def test_a_code_merge_moves_the_counts(pi_client, busy):
    police, actor = busy.codes["police"], busy.codes["actor"]
    get(pi_client, "codebook")
    response = pi_client.post(
        reverse("code_merge", args=["busy", police.pk]), {"into": actor.pk}
    )
    assert response.status_code == 302
    tree = get(pi_client, "codebook").context["tree"]
    assert tree[0].code == actor and tree[0].segments == live(busy.project, code=actor)
    check_pages(pi_client, busy)


def test_the_cache_never_mixes_projects(client, busy, users, monkeypatch):
    """Two projects of the same shape and the same coders, different numbers;
    even when their data's fingerprints are equal (forced here), each page
    shows its own project's."""
    twin = build("twin", users, extra=1)
    client.force_login(users["pi"])
    for b in (busy, twin, busy, twin):
        check_pages(client, b)
    monkeypatch.setattr(cached, "agreement_fingerprint", lambda project: "same")
    for b in (busy, twin, busy, twin):
        check_pages(client, b)
    assert project_tallies(busy.project).segments == 10
    assert project_tallies(twin.project).segments == 7


@pytest.mark.parametrize("runs", [1, 3, tallies.MAX_RUNS + 1])
def test_projects_whose_documents_interleave(client, busy, users, runs):
    """Documents uploaded to two projects in turn: each project's counts are
    still its own, read by ranges of document ids while they are few, else
    by joining the documents."""
    twin = build("twin", users, extra=1)
    for _ in range(runs - 1):
        for b in (busy, twin):
            doc = factories.DocumentFactory(project=b.project)
            factories.AssignmentFactory(document=doc, coder=users["b"])
            _segment(doc, users["b"], b.codes["police"], days_ago=1)
    client.force_login(users["pi"])
    for b in (busy, twin):
        with CaptureQueriesContext(connection) as queries:
            check_pages(client, b)
        sql = next(
            q["sql"] for q in queries if "COUNT" in q["sql"] and "day" in q["sql"]
        )
        joined = '"annotations_document"' in sql
        assert joined == (runs > tallies.MAX_RUNS)


@pytest.mark.parametrize(
    "name, warm",
    [
        # session, user, project; the data's fingerprint (6); the page's own
        # small reads: members and names, codes, consensus count, ...
        ("progress", 14),
        ("project_detail", 11),
        ("team", 12),
        ("codebook", 11),
        ("export_page", 12),
    ],
)
def test_queries_are_bounded(
    pi_client, busy, name, warm, django_assert_max_num_queries
):
    # on a miss: + the documents' ids, one pass over the segments and two
    # over the assignments
    with django_assert_max_num_queries(warm + 4):
        get(pi_client, name)
    with django_assert_max_num_queries(warm):
        get(pi_client, name)
    # more coders, documents and segments: the same number of queries
    for i in range(5):
        doc = factories.DocumentFactory(project=busy.project)
        coder = factories.UserFactory(username=f"extra{i}")
        factories.MembershipFactory(project=busy.project, user=coder)
        factories.AssignmentFactory(document=doc, coder=coder)
        for code in busy.codes.values():
            _segment(doc, coder, code, days_ago=i)
    get(pi_client, name)
    with django_assert_max_num_queries(warm):
        get(pi_client, name)
