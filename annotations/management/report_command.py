"""What the ``agreement`` and ``intra_agreement`` commands share: their
options (format, levels, bootstrap, seed, output) and writing an
agreement-shaped report to standard output or, atomically, to a file."""

import time
from pathlib import Path

from django.core.management.base import CommandError

from ..services import agreement
from ..stats import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVELS
from .base import WorkbenchCommand, project_get


class ReportCommand(WorkbenchCommand):
    slug_help = "the project's slug"

    def add_arguments(self, parser):
        parser.add_argument("slug", help=self.slug_help)
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--level", action="append", dest="levels", metavar="LEVEL",
            help=f"only this level (repeat, or comma-separate): {', '.join(LEVELS)}",
        )  # fmt: skip
        parser.add_argument(
            "--bootstrap", type=int, default=DEFAULT_RESAMPLES,
            help=f"bootstrap resamples for the 95%% intervals, 0 for none "
            f"(default {DEFAULT_RESAMPLES})",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=f"random seed of the bootstrap (default {DEFAULT_SEED})")  # fmt: skip
        parser.add_argument(
            "--output", help="file to write (atomically); default: standard output"
        )

    def report(self, project, levels: list[str] | None, options: dict) -> dict:
        raise NotImplementedError

    def written(self, report: dict, slug: str, n: int, path: Path) -> str:
        """The line printed after writing ``n`` results to ``path``."""
        raise NotImplementedError

    def handle(self, slug, format, levels, output, **options):
        project = project_get(slug)
        if levels:
            levels = [
                lv.strip() for item in levels for lv in item.split(",") if lv.strip()
            ]
        path = Path(output) if output else None
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            raise CommandError(f"{output}: not a file in an existing folder")
        started = time.perf_counter()
        report = self.report(project, levels or None, options)
        if path is None:
            text = (
                agreement.agreement_json(report)
                if format == "json"
                else agreement.agreement_csv(report)
            )
            self.stdout.write(text, ending="")
            return
        n = agreement.agreement_file_write(report=report, fmt=format, path=path)
        self.stdout.write(
            f"{self.written(report, slug, n, path)} "
            f"({time.perf_counter() - started:.1f} s)"
        )
