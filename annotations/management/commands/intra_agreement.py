import time
from pathlib import Path

from django.core.management.base import CommandError

from ...services import agreement
from ...services.recode import intra_coder_report
from ...stats import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVELS
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Intra-coder (test-retest) agreement of a recode round: the coder's "
        "round 1 (their coding in the source project) against round 2 (their "
        "coding in the round) on the documents they marked done in both, with "
        "every coefficient of the agreement command, as JSON or CSV."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the recode round's slug")
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
        report = intra_coder_report(
            project,
            levels=levels or None,
            bootstrap=options["bootstrap"],
            seed=options["seed"],
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
            f"wrote {n} results for {sample['documents']} documents of "
            f"{report['coder']}'s two rounds ({report['source']} and {slug}) to "
            f"{path} ({time.perf_counter() - started:.1f} s)"
        )
