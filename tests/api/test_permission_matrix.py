"""The permission matrix: every page and API endpoint x {PI, coder of the
project, coder of another project, anonymous} x {read, write}.

Asserts the status code, that nothing of the project leaked into an
outsider's or anonymous response, and that no refused request changed a row.
A sweep over every project URL of the site (including other screens') checks
that an outsider's answer for a real project is exactly the answer for a
project that does not exist.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import (
    Assignment,
    Code,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from annotations.services.coding import segment_create
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ("pi", "coder", "outsider", "anon")
SECRETS = ("Takedowns", "Europol", "law_enforcement")  # name, text, a code
MODELS = (
    Project,
    Membership,
    Document,
    Code,
    Assignment,
    Segment,
    ConsensusSegment,
    HistoryEvent,
)
LOGIN = "login"  # expected: a redirect to the login page


@dataclass
class World:
    study: object
    seg1: Segment  # coder1's, on document 0
    seg2: Segment  # coder2's, on document 0
    free: Document  # not assigned to anyone
    a1: Assignment  # coder1's assignment of document 1
    a2: Assignment  # coder2's assignment of document 1

    def user(self, role):
        return {
            "pi": self.study.pi, "coder": self.study.coder1,
            "outsider": self.study.outsider, "anon": None,
        }[role]  # fmt: skip


@pytest.fixture
def world(study) -> World:
    doc = study.documents[0]

    def seg(coder, start, end):
        return segment_create(
            document=doc, coder=coder, code=study.codes["actor"], start=start, end=end,
            quote=doc.text[start:end],
        )[0]  # fmt: skip

    free = factories.DocumentFactory(
        project=study.project, external_id="free", title="Free"
    )
    # A coder with nothing assigned, so a re-balance has somewhere to go.
    factories.MembershipFactory(
        project=study.project, user=factories.UserFactory(username="coder3")
    )
    return World(
        study=study,
        seg1=seg(study.coder1, 0, 7),
        seg2=seg(study.coder2, 8, 19),
        free=free,
        a1=Assignment.objects.get(document=study.documents[1], coder=study.coder1),
        a2=Assignment.objects.get(document=study.documents[1], coder=study.coder2),
    )


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def fingerprint() -> dict:
    """Row counts plus the fields refused writes could touch."""
    return {
        "counts": counts(),
        "project": list(Project.objects.values_list("name", "blind")),
        "codes": list(
            Code.objects.values_list("pk", "name", "order", "retired", "parent_id")
        ),
        "segments": list(
            Segment.objects.values_list(
                "pk", "code_id", "memo", "version", "deleted_at"
            )
        ),
        "assignments": list(Assignment.objects.values_list("pk", "status")),
    }


def assert_no_leak(response):
    body = response.content.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in body, f"{secret!r} leaked: {body[:300]}"


# --- pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class PageCase:
    name: str
    args: Callable[[World], list]
    data: Callable[[World], dict] | None = None  # None: a read (GET)
    pi_status: int = 200
    coder_status: int = 404

    def __str__(self):
        return f"{'POST' if self.data else 'GET'} {self.name}"


def _upload(_w):
    return {"files": [SimpleUploadedFile("new.txt", b"A new article.")]}


def _codebook_file(_w):
    return {
        "file": SimpleUploadedFile("cb.csv", b"name,parent,color\nnewcode,,#123456\n")
    }


PAGES = [
    PageCase("project_detail", lambda w: [], coder_status=200),
    PageCase("project_settings", lambda w: []),
    PageCase("document_list", lambda w: []),
    PageCase("document_detail", lambda w: [w.study.documents[0].pk]),
    PageCase("document_upload", lambda w: []),
    PageCase("codebook", lambda w: []),
    PageCase("code_create", lambda w: []),
    PageCase("code_edit", lambda w: [w.study.codes["actor"].pk]),
    PageCase("code_merge", lambda w: [w.study.codes["actor"].pk]),
    PageCase("codebook_export", lambda w: ["csv"]),
    PageCase("team", lambda w: []),
    PageCase(
        "member_remove", lambda w: [Membership.objects.get(user=w.study.coder2).pk]
    ),
    PageCase("assignments", lambda w: []),
    PageCase("progress", lambda w: []),
    # writes
    PageCase(
        "project_settings",
        lambda w: [],
        lambda w: {"name": "Renamed", "blind": "on"},
        302,
    ),
    PageCase("document_upload", lambda w: [], _upload, 200),
    PageCase("document_upload_confirm", lambda w: [], lambda w: {}, 302),
    PageCase(
        "code_create", lambda w: [], lambda w: {"name": "new", "color": "#123456"}, 302
    ),
    PageCase(
        "code_edit",
        lambda w: [w.study.codes["actor"].pk],
        lambda w: {"name": "actors", "color": "#ffd6a5", "version": 1},
        302,
    ),  # fmt: skip
    PageCase(
        "code_move",
        lambda w: [w.study.codes["platform"].pk],
        lambda w: {"direction": "up"},
        302,
    ),
    PageCase(
        "code_retire",
        lambda w: [w.study.codes["platform"].pk],
        lambda w: {"retired": "1"},
        302,
    ),
    PageCase(
        "code_merge",
        lambda w: [w.study.codes["action"].pk],
        lambda w: {"into": w.study.codes["platform"].pk},
        302,
    ),  # fmt: skip
    PageCase(
        "code_reorder",
        lambda w: [],
        lambda w: {
            "parent": "",
            "ids": list(Code.objects.filter(parent=None).values_list("pk", flat=True))[
                ::-1
            ],
        },
        302,
    ),  # fmt: skip
    PageCase("codebook_import", lambda w: [], _codebook_file, 302),
    PageCase(
        "member_add",
        lambda w: [],
        lambda w: {"add-username": "outsider", "add-role": "coder"},
        302,
    ),
    PageCase(
        "member_invite",
        lambda w: [],
        lambda w: {"invite-username": "new", "invite-role": "coder"},
        200,
    ),
    PageCase(
        "member_remove",
        lambda w: [Membership.objects.get(user=w.study.coder2).pk],
        lambda w: {"rebalance": "on"},
        302,
    ),  # fmt: skip
    PageCase(
        "assignments_save",
        lambda w: [],
        lambda w: {"docs": [w.free.pk], "cell": [f"{w.free.pk}:{w.study.coder1.pk}"]},
        302,
    ),  # fmt: skip
    PageCase(
        "assignments_sample",
        lambda w: [],
        lambda w: {
            "share": 0,
            "per_document": 1,
            "seed": 3,
            "coders": [w.study.coder1.pk],
        },
        302,
    ),  # fmt: skip
    PageCase(
        "assignments_rebalance",
        lambda w: [],
        lambda w: {"coder": w.study.coder1.pk},
        302,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", PAGES, ids=str)
def test_page_matrix(client, world, case, role):
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    path = reverse(case.name, args=["takedowns", *case.args(world)])
    before = fingerprint()
    if case.data is None:
        response = client.get(path)
    else:
        response = client.post(path, case.data(world))
    expected = {
        "pi": case.pi_status,
        "coder": case.coder_status,
        "outsider": 404,
        "anon": LOGIN,
    }[role]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]
    if role in ("outsider", "anon"):
        assert_no_leak(response)
    if role != "pi" or case.data is None:
        assert fingerprint() == before
    elif case.name not in ("document_upload", "document_upload_confirm"):
        assert fingerprint() != before, "the PI's write changed nothing"


@pytest.mark.parametrize("role", ROLES)
def test_profile_and_project_create(client, world, role):
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    for name in ("profile", "project_create"):
        response = client.get(reverse(name))
        assert response.status_code == (302 if user is None else 200)
    before = Token.objects.count()
    response = client.post(reverse("token_create"))
    if user is None:
        assert response.status_code == 302 and Token.objects.count() == before
    else:
        assert Token.objects.filter(user=user).exists()
        assert Token.objects.get(user=user).key in response.content.decode()


# --- every project page of the site: outsider and anonymous ------------------------


def _project_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _project_patterns(entry, prefix + str(entry.pattern))
        elif (
            isinstance(entry, URLPattern)
            and entry.name
            and "<slug:slug>" in str(entry.pattern)
        ) and not (prefix + str(entry.pattern)).startswith("api/"):
            yield entry.name, entry.pattern


def _fill(world: World, pattern) -> dict:
    """Keyword arguments for a URL pattern, from the world's objects."""
    values = {
        "document_id": world.study.documents[0].pk, "segment_id": world.seg2.pk,
        "code_id": world.study.codes["actor"].pk,
        "membership_id": Membership.objects.get(user=world.study.coder2).pk,
        "event_id": HistoryEvent.objects.first().pk, "consensus_id": 1,
        "fmt": "csv", "name": "segments.csv",
    }  # fmt: skip
    kwargs = {}
    for key, converter in pattern.converters.items():
        if key == "slug":
            continue
        kwargs[key] = values.get(key, 1 if converter.regex == "[0-9]+" else "x")
    return kwargs


SITE = sorted(set(_project_patterns()))


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("name", "pattern"), SITE, ids=[n for n, _ in SITE])
def test_every_project_page_hides_the_project_from_outsiders(
    client, world, name, pattern, method
):
    kwargs = _fill(world, pattern)
    real = reverse(name, kwargs={"slug": "takedowns", **kwargs})
    fake = reverse(name, kwargs={"slug": "no-such-project", **kwargs})
    before = fingerprint()
    response = getattr(client, method)(real)  # anonymous
    assert response.status_code in (302, 401, 403, 405), (name, response.status_code)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
    assert_no_leak(response)
    client.force_login(world.study.outsider)
    response = getattr(client, method)(real)
    assert response.status_code in (404, 405), (name, response.status_code)
    assert getattr(client, method)(fake).status_code == response.status_code
    assert_no_leak(response)
    assert fingerprint() == before


# --- API ----------------------------------------------------------------------------

B = "/api/projects/takedowns"


@dataclass(frozen=True)
class ApiCase:
    method: str
    path: Callable[[World], str]
    expect: dict  # role -> status (anon is always 401)
    data: Callable[[World], dict] | None = None
    label: str = ""

    def __str__(self):
        return f"{self.method.upper()} {self.label}"


def E(pi, coder, outsider=404):  # noqa: N802 (a table helper)
    return {"pi": pi, "coder": coder, "outsider": outsider}


API = [
    ApiCase("get", lambda w: "/api/projects/", E(200, 200, 200), label="projects"),
    ApiCase(
        "post",
        lambda w: "/api/projects/",
        E(201, 201, 201),
        lambda w: {"name": "Mine"},
        "projects",
    ),
    ApiCase("get", lambda w: f"{B}/", E(200, 200), label="project"),
    ApiCase(
        "patch",
        lambda w: f"{B}/",
        E(200, 403),
        lambda w: {"name": "Renamed"},
        "project",
    ),
    ApiCase("get", lambda w: f"{B}/members/", E(200, 404), label="members"),
    ApiCase(
        "post",
        lambda w: f"{B}/members/",
        E(201, 404),
        lambda w: {"username": "outsider", "role": "coder"},
        "members",
    ),  # fmt: skip
    ApiCase(
        "get",
        lambda w: f"{B}/members/{Membership.objects.get(user=w.study.coder2).pk}/",
        E(200, 404),
        label="member",
    ),  # fmt: skip
    ApiCase(
        "patch",
        lambda w: f"{B}/members/{Membership.objects.get(user=w.study.coder2).pk}/",
        E(200, 404),
        lambda w: {"role": "pi"},
        "member",
    ),  # fmt: skip
    ApiCase(
        "delete",
        lambda w: f"{B}/members/{Membership.objects.get(user=w.study.coder2).pk}/",
        E(204, 404),
        label="member",
    ),  # fmt: skip
    ApiCase("get", lambda w: f"{B}/documents/", E(200, 200), label="documents"),
    ApiCase(
        "post",
        lambda w: f"{B}/documents/",
        E(201, 403),
        lambda w: {"external_id": "x1", "title": "X", "text": "Some text."},
        "documents",
    ),  # fmt: skip
    ApiCase(
        "get",
        lambda w: f"{B}/documents/{w.study.documents[0].pk}/",
        E(200, 200),
        label="document",
    ),
    ApiCase(
        "get",
        lambda w: f"{B}/documents/{w.free.pk}/",
        E(200, 404),
        label="unassigned document",
    ),
    ApiCase("get", lambda w: f"{B}/codes/", E(200, 200), label="codes"),
    ApiCase(
        "post", lambda w: f"{B}/codes/", E(201, 403), lambda w: {"name": "new"}, "codes"
    ),
    ApiCase(
        "get",
        lambda w: f"{B}/codes/{w.study.codes['actor'].pk}/",
        E(200, 200),
        label="code",
    ),
    ApiCase(
        "patch",
        lambda w: f"{B}/codes/{w.study.codes['actor'].pk}/",
        E(200, 403),
        lambda w: {"name": "actors"},
        "code",
    ),  # fmt: skip
    ApiCase(
        "post",
        lambda w: f"{B}/codes/{w.study.codes['platform'].pk}/merge/",
        E(200, 403),
        lambda w: {"into": w.study.codes["action"].pk},
        "code merge",
    ),  # fmt: skip
    ApiCase("get", lambda w: f"{B}/assignments/", E(200, 200), label="assignments"),
    ApiCase(
        "post",
        lambda w: f"{B}/assignments/",
        E(201, 403),
        lambda w: {"document": w.free.pk, "coder": "coder1"},
        "assignments",
    ),  # fmt: skip
    ApiCase(
        "get",
        lambda w: f"{B}/assignments/{w.a1.pk}/",
        E(200, 200),
        label="own assignment",
    ),
    ApiCase(
        "get",
        lambda w: f"{B}/assignments/{w.a2.pk}/",
        E(200, 404),
        label="other's assignment",
    ),
    ApiCase(
        "patch",
        lambda w: f"{B}/assignments/{w.a1.pk}/",
        E(200, 200),
        lambda w: {"status": "done"},
        "own assignment",
    ),  # fmt: skip
    ApiCase(
        "patch",
        lambda w: f"{B}/assignments/{w.a2.pk}/",
        E(200, 404),
        lambda w: {"status": "done"},
        "other's assignment",
    ),  # fmt: skip
    ApiCase(
        "delete",
        lambda w: f"{B}/assignments/{w.a1.pk}/",
        E(204, 403),
        label="own assignment",
    ),
    ApiCase("get", lambda w: f"{B}/segments/", E(200, 200), label="segments"),
    ApiCase(
        "post",
        lambda w: f"{B}/segments/",
        E(400, 201),  # the PI has no assignment
        lambda w: {
            "document": w.study.documents[1].pk,
            "code": w.study.codes["actor"].pk,
            "start": 0,
            "end": 7,
            "quote": w.study.documents[1].text[:7],
        },
        "segments",
    ),  # fmt: skip
    ApiCase(
        "get", lambda w: f"{B}/segments/{w.seg1.pk}/", E(200, 200), label="own segment"
    ),
    ApiCase(
        "get",
        lambda w: f"{B}/segments/{w.seg2.pk}/",
        E(200, 404),
        label="other's segment",
    ),
    ApiCase(
        "patch",
        lambda w: f"{B}/segments/{w.seg1.pk}/",
        E(403, 200),
        lambda w: {"memo": "note"},
        "coder1's segment",
    ),  # fmt: skip
    ApiCase(
        "patch",
        lambda w: f"{B}/segments/{w.seg2.pk}/",
        E(403, 404),
        lambda w: {"memo": "note"},
        "coder2's segment",
    ),  # fmt: skip
    ApiCase(
        "delete",
        lambda w: f"{B}/segments/{w.seg1.pk}/",
        E(403, 204),
        label="coder1's segment",
    ),
    ApiCase(
        "delete",
        lambda w: f"{B}/segments/{w.seg2.pk}/",
        E(403, 404),
        label="coder2's segment",
    ),
    # Read-only and PI only, as the Adjudication and History pages.
    *(
        ApiCase("get", lambda w, r=r: f"{B}/{r}/", E(200, 404), label=r)
        for r in ("consensus", "adjudication", "history")
    ),
    *(
        ApiCase("post", lambda w, r=r: f"{B}/{r}/", E(405, 404), lambda w: {}, r)
        for r in ("consensus", "adjudication", "history")
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", API, ids=str)
def test_api_matrix(world, case, role):
    client = APIClient()
    user = world.user(role)
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    before = fingerprint()
    data = case.data(world) if case.data else None
    response = getattr(client, case.method)(case.path(world), data, format="json")
    expected = 401 if role == "anon" else case.expect[role]
    assert response.status_code == expected, (
        response.status_code,
        response.content[:300],
    )
    if role in ("outsider", "anon"):
        assert_no_leak(response)
    write = case.method != "get"
    created_own_project = case.label == "projects" and write
    if expected >= 400 or not write:
        assert fingerprint() == before
    elif not created_own_project:
        assert fingerprint() != before


def test_api_outsider_sees_the_same_as_for_a_missing_project(world):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=world.study.outsider)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for suffix in ("", "members/", "documents/", "codes/", "assignments/", "segments/",
                   f"segments/{world.seg1.pk}/", "consensus/", "adjudication/",
                   "history/"):  # fmt: skip
        real = client.get(f"/api/projects/takedowns/{suffix}")
        fake = client.get(f"/api/projects/no-such-project/{suffix}")
        assert (real.status_code, real.json()) == (fake.status_code, fake.json())
