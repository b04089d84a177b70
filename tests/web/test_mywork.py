"""My work: the page a coder lands on after logging in."""

from annotations.models import Assignment, Membership
from annotations.services import coding as services
from tests import factories


def test_login_lands_on_my_work(client, study):
    response = client.post(
        "/accounts/login/",
        {"username": "coder1", "password": factories.PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "<h1>My work</h1>" in response.content.decode()


def test_coder_sees_assignments_progress_counts_and_next(
    client, study, django_assert_max_num_queries
):
    doc0, doc1 = study.documents[:2]
    services.segment_create(document=doc1, coder=study.coder1, code=study.codes["actor"],
                            start=0, end=7, quote="Europol")  # fmt: skip
    # Someone else's segment never counts as mine.
    services.segment_create(document=doc1, coder=study.coder2, code=study.codes["actor"],
                            start=0, end=7, quote="Europol")  # fmt: skip
    Assignment.objects.filter(document=doc0, coder=study.coder1).update(status="done")
    client.force_login(study.coder1)
    with django_assert_max_num_queries(6):
        body = client.get("/").content.decode()
    assert "Takedowns" in body
    assert '<progress id="progress-' in body and 'max="4" value="1"' in body
    assert "1 of 4 done, 1 in progress" in body
    # The next unfinished article is the one in progress.
    assert f'href="/p/takedowns/d/{doc1.pk}/">Open next unfinished article' in body
    row = body[body.index(f'href="/p/takedowns/d/{doc1.pk}/">{doc1.title}') :]
    assert '<td class="num">1</td>' in row[: row.index("</tr>")]
    # In progress first, done last.
    assert (
        body.index(doc1.title)
        < body.index(study.documents[2].title)
        < body.index(doc0.title)
    )


def test_titles_are_escaped(client, study):
    doc = study.documents[0]
    doc.title = '<img src=x onerror="alert(1)">'
    doc.save()
    client.force_login(study.coder1)
    body = client.get("/").content.decode()
    assert "<img src=x" not in body and "&lt;img src=x" in body


def test_pi_sees_the_project_page_link_and_team_progress(client, study):
    Assignment.objects.filter(document=study.documents[0]).update(status="done")
    client.force_login(study.pi)
    body = client.get("/").content.decode()
    assert 'href="/p/takedowns/"' in body and "Project page" in body
    assert "Team: 2 of 8 assignments done (25%)" in body


def test_all_done_and_no_projects(client, study):
    Assignment.objects.filter(coder=study.coder1).update(status="done")
    client.force_login(study.coder1)
    body = client.get("/").content.decode()
    assert "All done." in body and "Open next unfinished article" not in body
    loner = factories.UserFactory(username="loner")
    client.force_login(loner)
    assert "not a member of any project" in client.get("/").content.decode()


def test_coder_without_assignments_is_told_so(client, study):
    newbie = factories.UserFactory(username="newbie")
    factories.MembershipFactory(
        project=study.project, user=newbie, role=Membership.Role.CODER
    )
    client.force_login(newbie)
    assert "No articles are assigned to you" in client.get("/").content.decode()
