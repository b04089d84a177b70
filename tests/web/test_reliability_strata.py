"""The stratified reliability sample on the Assignments page, through the
service and in the API: drawn per outlet, year or metadata value, recorded,
shown per stratum; refused with a message and nothing written."""

import datetime as dt
import re
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotations.models import Assignment, HistoryEvent, Membership, Project
from annotations.services.reliability_sample import reliability_sample_draw
from tests import factories

pytestmark = pytest.mark.django_db

# Outlet, articles, year, language (None: no such metadata key).
OUTLETS = [("Guardian", 10, 2019, "en"), ("Le Monde", 20, 2020, "fr"),
           ("Times", 70, 2021, "en"), ("", 5, None, None)]  # fmt: skip


@pytest.fixture
def news(db) -> Project:
    project = factories.ProjectFactory(slug="news", name="News")
    pi = factories.UserFactory(username="lead")
    factories.MembershipFactory(project=project, user=pi, role=Membership.Role.PI)
    for name in ("ra1", "ra2", "ra3"):
        factories.MembershipFactory(
            project=project, user=factories.UserFactory(username=name)
        )
    n = 0
    for source, count, year, lang in OUTLETS:
        for _ in range(count):
            factories.DocumentFactory(
                project=project, external_id=f"n{n:03d}", source=source,
                published=dt.date(year, 3, 1) if year else None,
                metadata={"lang": lang, "wave": n % 2} if lang else {"wave": n % 2},
            )  # fmt: skip
            n += 1
    return project


def _coders(project: Project) -> list[int]:
    return list(
        project.memberships.filter(role="coder")
        .order_by("user__username")
        .values_list("user_id", flat=True)
    )


def _form(project: Project, **extra) -> dict:
    return {"share": 20, "per_document": 2, "seed": 7,
            "coders": _coders(project), **extra}  # fmt: skip


def _sampled_by_source() -> dict[str, int]:
    per_doc = Counter(Assignment.objects.values_list("document_id", flat=True))
    sampled = [d for d, k in per_doc.items() if k == 2]
    sources = Assignment.objects.filter(document_id__in=sampled).values_list(
        "document_id", "document__source"
    )
    return dict(Counter(source for _, source in set(sources)))


def _nothing_written(project: Project) -> None:
    assert not Assignment.objects.exists()
    assert not HistoryEvent.objects.filter(entity="project").exists()
    project.refresh_from_db()
    assert (project.reliability_share, project.reliability_seed,
            project.reliability_stratify) == (None, None, "")  # fmt: skip


@pytest.fixture
def lead(client, news):
    client.force_login(news.memberships.get(role="pi").user)
    return client


def test_the_form_offers_the_strata_found_in_the_documents(lead, news):
    page = lead.get(reverse("assignments", args=["news"])).content.decode()
    select = re.search(r'<select name="stratify".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', select) == [
        "", "source", "published_year", "metadata.lang", "metadata.wave",
    ]  # fmt: skip
    assert "outlet (source)" in select and "none: one draw" in select


def test_drawn_by_outlet_recorded_and_shown_per_stratum(lead, news):
    response = lead.post(
        reverse("assignments_sample", args=["news"]), _form(news, stratify="source")
    )
    assert response.status_code == 302
    assert _sampled_by_source() == {"Guardian": 2, "Le Monde": 4, "Times": 14, "": 1}
    load = Counter(Assignment.objects.values_list("coder_id", flat=True))
    assert max(load.values()) - min(load.values()) <= 1
    news.refresh_from_db()
    assert (news.reliability_share, news.reliability_coders, news.reliability_seed,
            news.reliability_stratify) == (0.2, 2, 7, "source")  # fmt: skip
    event = HistoryEvent.objects.get(entity="project")
    assert event.via == "web" and event.user.username == "lead"
    assert event.after["reliability_stratify"] == "source"
    assert event.after["strata"][-1] == {
        "stratum": "(missing)", "documents": 5, "sampled": 1,
    }  # fmt: skip

    page = lead.get(reverse("assignments", args=["news"])).content.decode()
    assert "21 double-coded by 2 coders, stratified by outlet" in page  # the message
    assert "2 coders each, stratified by outlet, <strong>seed 7</strong>" in page
    table = re.search(r'<table class="strata" id="strata">.*?</table>', page, re.S)
    rows = re.findall(
        r'<tr><th scope="row">([^<]*)</th><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)</td></tr>',
        table.group(0),
    )
    assert rows == [("Guardian", "10", "2"), ("Le Monde", "20", "4"),
                    ("Times", "70", "14"), ("(missing)", "5", "1")]  # fmt: skip
    dashboard = lead.get(reverse("project_detail", args=["news"])).content.decode()
    assert "sample 20% × 2 coders, stratified by outlet, seed 7" in dashboard


def test_a_draw_without_strata_says_so(lead, news):
    response = lead.post(reverse("assignments_sample", args=["news"]), _form(news))
    assert response.status_code == 302
    news.refresh_from_db()
    assert news.reliability_stratify == ""
    page = lead.get(reverse("assignments", args=["news"])).content.decode()
    assert "2 coders each, not stratified, <strong>seed 7</strong>" in page
    assert 'id="strata"' not in page
    assert (
        HistoryEvent.objects.get(entity="project").after["reliability_stratify"] == ""
    )


def test_an_unknown_stratum_is_refused_and_nothing_written(lead, news):
    response = lead.post(
        reverse("assignments_sample", args=["news"]), _form(news, stratify="outlet")
    )
    assert response.status_code == 400
    assert "Select a valid choice. outlet is not one of the available choices." in (
        response.content.decode()
    )
    _nothing_written(news)


def test_a_key_none_of_the_unassigned_documents_has_is_refused(lead, news):
    # Only the five articles without a language are left to draw from.
    coder = news.memberships.filter(role="coder").first().user
    labelled = list(news.documents.filter(metadata__has_key="lang"))
    Assignment.objects.bulk_create(
        Assignment(document=d, coder=coder) for d in labelled
    )
    before = Assignment.objects.count()
    response = lead.post(
        reverse("assignments_sample", args=["news"]),
        _form(news, stratify="metadata.lang"),
    )
    assert response.status_code == 400
    assert (
        "None of the 5 documents to draw from has a value for the metadata key "
        "&#x27;lang&#x27;" in response.content.decode()
    )
    assert Assignment.objects.count() == before
    assert not HistoryEvent.objects.filter(entity="project").exists()
    news.refresh_from_db()
    assert (news.reliability_seed, news.reliability_stratify) == (None, "")


def test_a_coder_cannot_draw(client, news):
    client.force_login(news.memberships.filter(role="coder").first().user)
    response = client.post(
        reverse("assignments_sample", args=["news"]), _form(news, stratify="source")
    )
    assert response.status_code == 404
    assert client.get(reverse("assignments", args=["news"])).status_code == 404
    _nothing_written(news)


def test_service_returns_the_strata_and_refuses_bad_specs(news):
    with pytest.raises(ValidationError) as exc:
        reliability_sample_draw(
            project=news, coders=_coders(news), share=0.2, per_document=2, seed=1,
            stratify="published",
        )  # fmt: skip
    assert "Cannot stratify by 'published'" in exc.value.message_dict["stratify"][0]
    _nothing_written(news)

    result = reliability_sample_draw(
        project=news, coders=_coders(news), share=0.2, per_document=3, seed=1,
        stratify="published_year",
    )  # fmt: skip
    assert result["documents"] == 105 and result["sample"] == 21
    assert [(s.label, s.documents, s.sampled) for s in result["strata"]] == [
        ("2019", 10, 2), ("2020", 20, 4), ("2021", 70, 14), ("(missing)", 5, 1),
    ]  # fmt: skip
    news.refresh_from_db()
    assert news.reliability_stratify == "published_year"


def test_the_api_reports_the_stratum_read_only(news):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    reliability_sample_draw(
        project=news, coders=_coders(news), share=0.2, per_document=2, seed=1,
        stratify="metadata.lang",
    )  # fmt: skip
    api = APIClient()
    lead = news.memberships.get(role="pi").user
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=lead).key}")
    data = api.get("/api/projects/news/").json()
    assert data["reliability_stratify"] == "metadata.lang"
    assert data["reliability_share"] == 0.2
    api.patch("/api/projects/news/", {"reliability_stratify": "source"}, format="json")
    news.refresh_from_db()
    assert news.reliability_stratify == "metadata.lang"
