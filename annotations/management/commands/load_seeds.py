"""Load the seed study: the five takedown articles, the codebook, a PI, three
coders and their assignments. Running it again changes nothing."""

import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from ...importers.codebook import parse_codebook_file
from ...importers.documents import DocumentRow
from ...importers.segments import parse_segment_file
from ...importers.text import decode_utf8, normalise_newlines
from ...models import Membership
from ...services.assignments import assignments_apply
from ...services.imports import codebook_import, documents_import, segments_import
from ...services.projects import member_add, project_create
from ..base import WorkbenchCommand, read_bytes

SLUG = "takedowns"
# Demo accounts only: the README lists them; never use them in production.
DEMO_USERS = {
    "pi": ("pi", "pi-demo-2026"),
    "coder1": ("coder", "coder1-demo-2026"),
    "coder2": ("coder", "coder2-demo-2026"),
    "coder3": ("coder", "coder3-demo-2026"),
}
# Every article goes to two coders; the first also to a third, as in the
# demo coding in fixtures/demo_segments.csv.
DEMO_ASSIGNMENTS = {
    "a343607be470ae2f": ["coder1", "coder2", "coder3"],
    "0ea7d268e7c1b0ae": ["coder1", "coder2"],
    "672ded22d2c22c4a": ["coder1", "coder2"],
    "7541a1fde361f946": ["coder2", "coder3"],
    "fb9c55233cf8e411": ["coder1", "coder3"],
}
DEMO_CODERS_WITH_CODING = {"coder2", "coder3"}


def derived_title(text: str) -> str:
    """A title for an article that prints none: its first real sentence."""
    for line in text.split("\n"):
        line = line.strip()
        if len(line) > 40:
            sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
            return sentence if len(sentence) <= 90 else sentence[:89].rstrip() + "…"
    return "Untitled"


def seed_rows(seeds: Path) -> list[DocumentRow]:
    manifest = json.loads((seeds / "manifest.json").read_text(encoding="utf-8"))
    rows = []
    for entry in manifest:
        path = seeds / entry["file"]
        text = normalise_newlines(decode_utf8(read_bytes(path), str(path)))
        metadata = dict(entry.get("metadata") or {}, file=entry["file"])
        title = entry.get("title")
        if not title:
            title = derived_title(text)
            metadata["title_derived"] = True
        published = entry.get("published")
        rows.append(
            DocumentRow(
                external_id=entry["external_id"], title=title, text=text,
                source=entry.get("source") or "", url=entry.get("url") or "",
                published=__import__("datetime").date.fromisoformat(published)
                if published else None,
                metadata=metadata, origin=str(path),
            )
        )  # fmt: skip
    return rows


class Command(WorkbenchCommand):
    help = "Load the seed study (project 'takedowns') with demo accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-coding",
            action="store_true",
            help="also import the demo coding of coder2 and coder3 (marked done), "
            "so the PI's agreement pages have data; coder1 starts fresh",
        )

    @transaction.atomic
    def handle(self, demo_coding, **options):
        base = Path(settings.BASE_DIR)
        User = get_user_model()
        users = {}
        created_users = 0
        for username, (_, password) in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
                created_users += 1
            users[username] = user
        project, _ = project_create(
            slug=SLUG,
            name="Takedowns of Islamic State propaganda online",
            description="How news coverage describes the international takedowns of "
            "IS propaganda online (Europol referral action days, Telegram, Amaq, "
            "Nashir): who acts, what they do, on which platforms, with what "
            "outcome, and who doubts it.",
        )
        for username, (role, _) in DEMO_USERS.items():
            member_add(project=project, user=users[username], role=role)
        docs = documents_import(project=project, rows=seed_rows(base / "seeds"))
        codes = {"created": 0}
        if not project.codes.exists():
            path = base / "fixtures" / "codebook.json"
            codes = codebook_import(
                project=project, rows=parse_codebook_file(path.name, read_bytes(path))
            )
        by_external = dict(project.documents.values_list("external_id", "pk"))
        plan = [
            (by_external[ext], users[name].pk)
            for ext, names in DEMO_ASSIGNMENTS.items()
            for name in names
        ]
        assigned = assignments_apply(project=project, plan=plan)
        coded = {"created": 0}
        if demo_coding:
            path = base / "fixtures" / "demo_segments.csv"
            rows = [
                r
                for r in parse_segment_file(path.name, read_bytes(path))
                if r.coder in DEMO_CODERS_WITH_CODING
            ]
            coded = segments_import(
                project=project, rows=rows, source=path.name, mark_done=True
            )
        members = Membership.objects.filter(project=project).count()
        self.stdout.write(
            f"seed study {SLUG!r}: {docs['created']} documents, {codes['created']} "
            f"codes, {created_users} users and {assigned['created']} assignments "
            f"created, {coded['created']} demo segments; {members} members"
        )
