"""The data model: projects, their codebooks, documents, coding and its history.

Offsets everywhere are half-open ``[start, end)`` in Unicode code points of
``Document.text`` (Python ``str`` indices).
"""

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse


def text_checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    blind = models.BooleanField(
        default=True, help_text="Coders never see other coders' segments."
    )
    reliability_share = models.FloatField(
        null=True, blank=True, help_text="Share of documents double-coded."
    )
    reliability_coders = models.PositiveSmallIntegerField(default=2)
    reliability_seed = models.IntegerField(null=True, blank=True)
    reliability_stratify = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the reliability sample was stratified by: 'source', "
        "'published_year' or 'metadata.KEY'; empty when drawn from all documents.",
    )
    # The number of the last CodebookVersion, kept here so that recording it
    # on each new segment costs no query.
    codebook_version = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The codebook version last published; new coding is recorded under it.",
    )
    # A recode round (test-retest, intra-coder reliability): a project holding
    # copies of documents one coder of ``recode_of`` already coded, for that
    # coder (``recode_coder``) to code again.
    recode_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recodes",
        help_text="The project whose coding this project's coder codes again.",
    )
    recode_coder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The coder of the recode round.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project_detail", args=[self.slug])


class Membership(models.Model):
    class Role(models.TextChoices):
        PI = "pi", "Principal investigator"
        CODER = "coder", "Coder"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="membership_unique_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


class Document(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="documents"
    )
    external_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500)
    source = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    published = models.DateField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    text = models.TextField()
    length = models.PositiveIntegerField(help_text="Length in code points.")
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="document_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(length__gte=0), name="document_length_nonnegative"
            ),
            # Pages link to the URL: never a javascript: or data: one.
            models.CheckConstraint(
                condition=Q(url="") | Q(url__iregex=r"^(https?|ftps?)://"),
                name="document_url_web_scheme",
            ),
        ]
        indexes = [models.Index(fields=["project", "title"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if not self._state.adding and (fields is None or "text" in fields):
            self._refuse_text_change()
        self.length = len(self.text)
        self.checksum = text_checksum(self.text)
        super().save(*args, **kwargs)

    def is_coded(self) -> bool:
        """Whether any segment or consensus segment, deleted ones included (they
        can be restored), points into the text by offset."""
        return self.segments.exists() or self.consensus_segments.exists()

    def _refuse_text_change(self) -> None:
        # Offsets index the text: a new text would silently move every coded span.
        stored = Document.objects.filter(pk=self.pk).values_list("checksum", flat=True)
        changed = stored.first() not in (None, text_checksum(self.text))
        if changed and self.is_coded():
            raise ValidationError(
                {"text": "The text of a coded document never changes: its segments "
                 "point into it by offset."}
            )  # fmt: skip


class Code(models.Model):
    class Level(models.TextChoices):
        NONE = "", "Not a variable"
        NOMINAL = "nominal", "Nominal"
        ORDINAL = "ordinal", "Ordinal"
        INTERVAL = "interval", "Interval"
        RATIO = "ratio", "Ratio"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    definition = models.TextField(blank=True)
    when_to_use = models.TextField(blank=True)
    when_not_to_use = models.TextField(blank=True)
    example = models.TextField(blank=True)
    color = models.CharField(max_length=7, default="#ffe08a")
    key = models.CharField(max_length=1, blank=True)
    order = models.IntegerField(default=0)
    retired = models.BooleanField(default=False)
    value = models.FloatField(
        null=True, blank=True, help_text="Numeric value when the parent is a variable."
    )
    level = models.CharField(
        max_length=8,
        choices=Level.choices,
        blank=True,
        default="",
        help_text="Declares the children mutually exclusive values of a variable.",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                condition=Q(parent__isnull=True),
                name="code_unique_top_level_name",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(parent__isnull=False),
                name="code_unique_sibling_name",
            ),
            models.UniqueConstraint(
                fields=["project", "key"],
                condition=~Q(key="") & Q(retired=False),
                name="code_unique_active_key",
            ),
            models.CheckConstraint(
                condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="code_color_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CodebookVersion(models.Model):
    """A published codebook: a numbered, frozen copy of every code (retired
    ones included) with a note on what changed, so that coding can be reported
    against the codebook it was done with."""

    # Indexed by the unique (project, number) constraint.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="codebook_versions",
        db_index=False,
    )
    number = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    snapshot = models.JSONField(help_text="The codebook as its JSON export writes it.")
    checksum = models.CharField(
        max_length=64, help_text="SHA-256 of the snapshot without code ids."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"], name="codebook_version_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="codebook_version_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} codebook v{self.number}"


class Assignment(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="assignments"
    )
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.TODO
    )
    note = models.TextField(blank=True, help_text="The coder's note on the document.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["document_id", "coder_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "coder"], name="assignment_unique_coder"
            )
        ]
        indexes = [models.Index(fields=["coder", "status"])]

    def __str__(self) -> str:
        return f"{self.document} -> {self.coder} ({self.status})"


def span_valid(name: str) -> models.CheckConstraint:
    """0 <= start < end, the invariant of every coded span."""
    return models.CheckConstraint(
        condition=Q(start__gte=0) & Q(end__gt=F("start")), name=name
    )


class CodedSpan(models.Model):
    """What a coder's segment and a consensus segment share: a span of the
    document's text (code points, end exclusive), its quote, a memo, a version
    for optimistic locking and a soft deletion."""

    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    memo = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # A number, not a foreign key: it is what the exports write, and an
    # import of segments pays no reference check per row for it.
    codebook_version = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The codebook version published when the code or the "
        "boundaries were last set; empty when coded before the first version.",
    )

    class Meta:
        abstract = True
        ordering = ["start", "end", "id"]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Segment(CodedSpan):
    """A coded span: one coder applied one code to ``text[start:end]``."""

    # No single-column indexes on document and coder: the composite indexes
    # below start with them, and each extra index slows bulk imports (BENCHMARKS.md).
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="segments", db_index=False
    )
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="segments",
        db_index=False,
    )
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="segments")
    # Sent by the browser so a retried request never makes a duplicate.
    client_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta(CodedSpan.Meta):
        constraints = [span_valid("segment_span_valid")]
        indexes = [
            models.Index(fields=["document", "coder"]),
            models.Index(fields=["coder", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} [{self.start}, {self.end}) by {self.coder}"


class AdjudicationState(models.Model):
    """Where adjudication of one document stands."""

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        ADJUDICATED = "adjudicated", "Adjudicated"
        NEEDS_REVIEW = "needs_review", "Needs another look"

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, related_name="adjudication"
    )
    status = models.CharField(
        max_length=14, choices=Status.choices, default=Status.OPEN
    )
    adjudicator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    override_reason = models.TextField(blank=True)
    overlap = models.FloatField(
        null=True,
        blank=True,
        help_text="Same code and an overlap of at least this share of the union "
        "counts as agreement; empty means the exact same span.",
    )
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.document}: {self.status}"


class ConsensusSegment(CodedSpan):
    """An adjudicated segment: part of the consensus version of a document."""

    class Decision(models.TextChoices):
        AUTO = "auto", "Accepted automatically (all coders agree)"
        ACCEPT = "accept", "Accepted one coder's segment"
        ACCEPT_ALL = "accept_all", "Accepted several coders' segments"
        ADJUST = "adjust", "Boundaries adjusted"
        CHANGE_CODE = "change_code", "Code changed"
        MANUAL = "manual", "Added by the adjudicator"

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="consensus_segments"
    )
    code = models.ForeignKey(
        Code, on_delete=models.PROTECT, related_name="consensus_segments"
    )
    decision = models.CharField(max_length=12, choices=Decision.choices)
    note = models.TextField(blank=True, help_text="Why the adjudicator decided so.")
    sources = models.ManyToManyField(Segment, blank=True, related_name="consensus_uses")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consensus_decisions",
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(CodedSpan.Meta):
        constraints = [span_valid("consensus_span_valid")]

    def __str__(self) -> str:
        return f"consensus {self.code} [{self.start}, {self.end})"


class ConsensusRejection(models.Model):
    """A disagreement settled by leaving its coders' segments out of the consensus."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="consensus_rejections"
    )
    sources = models.ManyToManyField(Segment, related_name="consensus_rejections")
    note = models.TextField(blank=True, help_text="Why the adjudicator decided so.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rejection in {self.document}"


class HistoryEvent(models.Model):
    """One row per change: append-only, never updated or deleted by the app."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        RESTORE = "restore", "Restored"
        MERGE = "merge", "Merged"

    # Every change writes a row here (an import, one per segment), so the table
    # keeps only the indexes its pages read by: (project, created_at) also
    # serves the project foreign key and the user filter of the history page.
    # Project and document are referenced without a database constraint, as
    # django-simple-history does for its historical rows: the services that
    # write the log hold those rows already, and a checked reference costs a
    # lookup per row at commit (a fifth of an import's time). Deleting through
    # Django still cascades and sets null.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="history",
        db_index=False,
        db_constraint=False,
    )
    document = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="history",
        db_constraint=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    entity = models.CharField(max_length=32)
    entity_id = models.BigIntegerField()
    action = models.CharField(max_length=12, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    via = models.CharField(max_length=16, default="web")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "created_at"]),
            models.Index(fields=["entity", "entity_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.entity} {self.entity_id}"


class AgreementCache(models.Model):
    """The last agreement report computed for one set of parameters.

    ``fingerprint`` summarises the data the report depends on (counts and
    latest changes of segments, assignments, consensus and codes): a report is
    reused while the fingerprint matches and recomputed once it changes.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="agreement_caches"
    )
    params = models.CharField(max_length=200, help_text="The report's parameters.")
    fingerprint = models.CharField(max_length=64)
    payload = models.JSONField()
    seconds = models.FloatField(help_text="How long the computation took.")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "params"], name="agreement_cache_unique_params"
            )
        ]

    def __str__(self) -> str:
        return f"agreement of {self.project} ({self.params})"
