"""Drop single-column indexes that composite indexes already cover.

Every import writes a segment and a history row per coded span; each index
costs about 0.25 s per 200,000 rows (BENCHMARKS.md, importing segments).
Django's AlterField would also drop and re-add the foreign-key constraints,
re-checking every row under an exclusive lock; only the indexes need to go,
so the database side is plain DROP INDEX.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (index, table, column): the names Django gave them in 0001.
DROPPED = [
    ("annotations_historyevent_created_at_450b8cfb", "annotations_historyevent", "created_at"),
    ("annotations_historyevent_project_id_ebf448c7", "annotations_historyevent", "project_id"),
    ("annotations_historyevent_user_id_f6433a68", "annotations_historyevent", "user_id"),
    ("annotations_segment_coder_id_cddb776c", "annotations_segment", "coder_id"),
    ("annotations_segment_document_id_b73b5356", "annotations_segment", "document_id"),
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0004_document_url_web_scheme"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for index, table, column in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="historyevent",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="historyevent",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="history",
                        to="annotations.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="historyevent",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="segment",
                    name="coder",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="segments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="segment",
                    name="document",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="segments",
                        to="annotations.document",
                    ),
                ),
            ],
        )
    ]
