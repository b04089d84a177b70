from ...services.recode import intra_coder_report
from ..report_command import ReportCommand


class Command(ReportCommand):
    help = (
        "Intra-coder (test-retest) agreement of a recode round: the coder's "
        "round 1 (their coding in the source project) against round 2 (their "
        "coding in the round) on the documents they marked done in both, with "
        "every coefficient of the agreement command, as JSON or CSV."
    )
    slug_help = "the recode round's slug"

    def report(self, project, levels, options):
        return intra_coder_report(
            project, levels=levels, bootstrap=options["bootstrap"],
            seed=options["seed"],
        )  # fmt: skip

    def written(self, report, slug, n, path):
        return (
            f"wrote {n} results for {report['sample']['documents']} documents of "
            f"{report['coder']}'s two rounds ({report['source']} and {slug}) to {path}"
        )
