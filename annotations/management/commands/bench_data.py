"""Generate a synthetic project for benchmarks (articles, coders, coding)."""

import time

from django.core.management.base import CommandError

from ...bench.data import SIZES, DataSpec, bench_project_delete, bench_project_generate
from ..base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Generate a synthetic benchmark project: ~800-word articles, coders who "
        "mostly agree, assignments, segments. Bulk-inserted (COPY on PostgreSQL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--size", choices=sorted(SIZES), help="preset sizes")
        parser.add_argument("--documents", type=int)
        parser.add_argument("--coders", type=int)
        parser.add_argument("--codes", type=int)
        parser.add_argument("--segments-per-document", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--words", type=int, help="words per article (800)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the project first if it exists",
        )

    def handle(self, slug, size, replace, **options):
        base = SIZES[size or "small"]
        values = {
            "documents": options["documents"] or base.documents,
            "coders": options["coders"] or base.coders,
            "codes": options["codes"] or base.codes,
            "segments_per_document": options["segments_per_document"]
            or base.segments_per_document,
            "seed": options["seed"] if options["seed"] is not None else base.seed,
            "words": options["words"] or base.words,
        }
        if values["documents"] < 1 or values["coders"] < 1:
            raise CommandError("--documents and --coders must be at least 1")
        if values["codes"] < 8:
            raise CommandError(
                "--codes must be at least 8 (the codebook has two variables)"
            )
        spec = DataSpec(**values)
        if replace and bench_project_delete(slug):
            self.stdout.write(f"deleted the old {slug!r}")
        t0 = time.perf_counter()
        try:
            bench_project_generate(
                slug=slug, spec=spec, progress=lambda m: self.stdout.write("  " + m)
            )
        except ValueError as exc:
            raise CommandError(f"{exc} (use --replace to regenerate it)") from None
        self.stdout.write(f"generated {slug!r} in {time.perf_counter() - t0:.1f} s")
