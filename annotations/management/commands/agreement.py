from ...services import agreement
from ..report_command import ReportCommand


class Command(ReportCommand):
    help = (
        "Inter-coder agreement of a project: every coefficient per level, code "
        "and coder pair with bootstrap confidence intervals, as JSON or CSV "
        "(one row per result; in CSV, coders and pair are joined with ';'). "
        "The same numbers as the agreement page and the API. Reliability "
        "sample: documents marked done by two coders or more."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
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
            "--codebook-version", type=int, metavar="N",
            help="only documents whose counted coders coded every segment under "
            "published codebook version N; the others are left out, and counted",
        )  # fmt: skip
        parser.add_argument(
            "--no-cache", action="store_true",
            help="recompute even if the data has not changed since the last report",
        )  # fmt: skip

    def report(self, project, levels, options):
        return agreement.agreement_report(
            project,
            levels=levels,
            all_coded=options["all_coded"],
            with_consensus=options["with_consensus"],
            bootstrap=options["bootstrap"],
            seed=options["seed"],
            codebook_version=options["codebook_version"],
            use_cache=not options["no_cache"],
        )

    def written(self, report, slug, n, path):
        sample = report["sample"]
        return (
            f"wrote {n} results for {sample['documents']} documents and "
            f"{len(sample['coders'])} coders of {slug} to {path}"
        )
