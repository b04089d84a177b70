import time
from pathlib import Path

from django.core.management.base import CommandError

from ...services import agreement
from ...stats import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVELS
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Inter-coder agreement of a project: every coefficient per level, code "
        "and coder pair with bootstrap confidence intervals, as JSON or CSV "
        "(one row per result; in CSV, coders and pair are joined with ';'). "
        "The same numbers as the agreement page and the API. Reliability "
        "sample: documents marked done by two coders or more."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--level", action="append", dest="levels", metavar="LEVEL",
            help=f"only this level (repeat, or comma-separate): {', '.join(LEVELS)}",
        )  # fmt: skip
        parser.add_argument(
            "--all-coded", action="store_true",
            help="every document two or more coders worked on, not only those "
            "marked done",
        )  # fmt: skip
        parser.add_argument(
            "--with-consensus", action="store_true",
            help="add each coder against the adjudicated consensus as pairs",
        )  # fmt: skip
        parser.add_argument(
            "--bootstrap", type=int, default=DEFAULT_RESAMPLES,
            help=f"bootstrap resamples for the 95%% intervals, 0 for none "
            f"(default {DEFAULT_RESAMPLES})",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=f"random seed of the bootstrap (default {DEFAULT_SEED})")  # fmt: skip
        parser.add_argument(
            "--codebook-version", type=int, metavar="N",
            help="only documents whose counted coders coded every segment under "
            "published codebook version N; the others are left out, and counted",
        )  # fmt: skip
        parser.add_argument(
            "--output", help="file to write (atomically); default: standard output"
        )
        parser.add_argument(
            "--no-cache", action="store_true",
            help="recompute even if the data has not changed since the last report",
        )  # fmt: skip

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
        report = agreement.agreement_report(
            project,
            levels=levels or None,
            all_coded=options["all_coded"],
            with_consensus=options["with_consensus"],
            bootstrap=options["bootstrap"],
            seed=options["seed"],
            codebook_version=options["codebook_version"],
            use_cache=not options["no_cache"],
        )
        if path is None:
            text = (
                agreement.agreement_json(report)
                if format == "json"
                else agreement.agreement_csv(report)
            )
            self.stdout.write(text, ending="")
            return
        n = agreement.agreement_file_write(report=report, fmt=format, path=path)
        sample = report["sample"]
        self.stdout.write(
            f"wrote {n} results for {sample['documents']} documents and "
            f"{len(sample['coders'])} coders of {slug} to {path} "
            f"({time.perf_counter() - started:.1f} s)"
        )
