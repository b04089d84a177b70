"""The export formats: names, what each is for, media types, and what goes
into the bundles. Pure data, shared by the service, the page and the API."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportFormat:
    name: str  # the file name, also the name in URLs and on the command line
    title: str
    purpose: str  # one line on the export page
    group: str
    media_type: str
    text: bool  # written as text chunks, so it can stream

    @property
    def streams(self) -> bool:
        return self.text


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in [
        ExportFormat("segments.csv", "Segments", "One row per coded span, for R, Python or a spreadsheet.", "Tables", "text/csv; charset=utf-8", True),
        ExportFormat("documents.csv", "Documents", "One row per article with its metadata.", "Tables", "text/csv; charset=utf-8", True),
        ExportFormat("document_codes.csv", "Document x code", "Counts and presence per code for each article and coder: ready for regression.", "Tables", "text/csv; charset=utf-8", True),
        ExportFormat("reliability.csv", "Reliability table", "Units x coders per code, the shape irr, psych and Stata's kap expect.", "Tables", "text/csv; charset=utf-8", True),
        ExportFormat("consensus.csv", "Consensus provenance", "How the consensus was reached: per consensus segment its decision, the coders whose segments it came from (unanimous, majority, ... or added by the adjudicator), who decided, when and why; and the coders' segments rejected.", "Adjudication", "text/csv; charset=utf-8", True),
        ExportFormat("assignments.csv", "Assignments and notes", "Per article and coder: status, when assigned, started and done, and the coder's note on the article; per adjudicated article: status, adjudicator, overlap threshold, override reason.", "Adjudication", "text/csv; charset=utf-8", True),
        ExportFormat("codebook.csv", "Codebook (CSV)", "Every code with its definition, rules and counts per coder.", "Codebook", "text/csv; charset=utf-8", True),
        ExportFormat("codebook.md", "Codebook (Markdown)", "A readable methods appendix.", "Codebook", "text/markdown; charset=utf-8", True),
        ExportFormat("agreement.csv", "Agreement (CSV)", "Every coefficient with its confidence interval, per level, code and coder pair, on the whole reliability sample (coder and date filters do not apply).", "Agreement", "text/csv; charset=utf-8", True),
        ExportFormat("agreement.json", "Agreement (JSON)", "The same results with the sample's description, for scripts.", "Agreement", "application/json", True),
        ExportFormat("segments.dta", "Segments (Stata)", "Stata 14+ with value labels for coders and codes.", "Stata", "application/x-stata-dta", False),
        ExportFormat("document_codes.dta", "Document x code (Stata)", "The document x code table for Stata 14+.", "Stata", "application/x-stata-dta", False),
        ExportFormat("r_bundle.zip", "R bundle", "The CSVs plus load.R, which reads them with types, factors and labels.", "R", "application/zip", False),
        ExportFormat("project.qdpx", "REFI-QDA project", "Texts, codes, coders and coded selections for ATLAS.ti, MAXQDA, NVivo, QualCoder.", "QDA tools", "application/zip", False),
        ExportFormat("codebook.qdc", "REFI-QDA codebook", "The codebook alone, for the QDA tools.", "QDA tools", "application/xml", False),
        ExportFormat("annotations.jsonld", "Web Annotation", "W3C Web Annotation JSON-LD, for other annotation tools.", "QDA tools", "application/ld+json", True),
        ExportFormat("bundle.zip", "Everything", "Every format above with a manifest of checksums and a README.", "Everything", "application/zip", False),
    ]
}  # fmt: skip
ALIASES = {"bundle": "bundle.zip", "r": "r_bundle.zip", "r_bundle": "r_bundle.zip"}
BUNDLE_MEMBERS = [
    "segments.csv", "documents.csv", "document_codes.csv", "reliability.csv",
    "consensus.csv", "assignments.csv", "codebook.csv", "codebook.md",
    "agreement.csv", "agreement.json",
    "segments.dta", "document_codes.dta",
    "project.qdpx", "codebook.qdc", "annotations.jsonld",
]  # fmt: skip
R_MEMBERS = [
    "segments.csv", "documents.csv", "document_codes.csv", "reliability.csv",
    "consensus.csv", "assignments.csv", "codebook.csv",
]  # fmt: skip
