"""A reliability paragraph for a methods section, written from the agreement
report.

Pure: :func:`methods_paragraph` takes the dict of
:func:`annotations.services.agreement.agreement_report` and a
:class:`MethodsContext` (what the report lacks: the project's size, how the
double-coded documents were drawn, blindness, the codebook version,
adjudication, the software) and returns plain English.

What to report follows Lombard, Snyder-Duch & Bracken (2002, "Content
analysis in mass communication: assessment and reporting of intercoder
reliability", *Human Communication Research* 28(4)): the coefficient and
why, the size and selection of the reliability sample, the coders and their
blindness, the unit, the values overall and per code, the software and how
disagreements were resolved. The threshold is Krippendorff's (2004,
*Content Analysis*, 2nd ed., ch. 11, p. 241): α ≥ .667 for tentative
conclusions. The text says only what the data shows: nothing on training,
pilot rounds or the coders' independence beyond the blind setting.

Numbers are printed as methods sections print them: bounded coefficients
without the leading zero and with a minus sign (α = −.07, 1.00), two
decimals (three where two would cross a threshold the value does not
reach), percent agreement with one decimal, counts with thousands
separators.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..sampling import stratify_label
from ..stats.thresholds import GOOD, TENTATIVE, prevalence_paradox

SOFTWARE_NAME = "Coding Workbench"
MINUS = "\u2212"
CONSENSUS = "consensus"  # the adjudicated version's name in the report
ONE_CATEGORY = "one category only"  # the engine's note for a constant code
THRESHOLD = "below the .667 threshold Krippendorff recommends for tentative conclusions"
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight",
          "nine")  # fmt: skip


@dataclass(frozen=True)
class MethodsContext:
    """What the paragraph needs beyond the report.

    ``reliability_seed`` is None when no reliability draw was recorded (the
    paragraph then says nothing on how documents were selected);
    ``codebook_checksums`` holds ``(number, SHA-256)`` of every published
    codebook version; ``commit`` is empty when unknown.
    """

    project_name: str
    documents: int
    blind: bool
    reliability_share: float | None = None
    reliability_coders: int | None = None
    reliability_seed: int | None = None
    reliability_stratify: str = ""
    codebook_checksums: tuple[tuple[int, str], ...] = ()
    adjudicated_documents: int = 0
    software: str = SOFTWARE_NAME
    software_version: str = ""
    commit: str = ""


# -- numbers ------------------------------------------------------------------


def coefficient_text(value: float, digits: int = 2) -> str:
    """A bounded coefficient without the leading zero, with a minus sign.

    >>> [coefficient_text(v) for v in (0.8249, -0.0712, 1.0, -1.0, -0.001, 0)]
    ['.82', '−.07', '1.00', '−1.00', '.00', '.00']
    """
    text = f"{abs(value):.{digits}f}"
    if text.startswith("0"):
        text = text[1:]
    negative = value < 0 and text.strip("0.") != ""
    return (MINUS if negative else "") + text


def alpha_text(value: float) -> str:
    """Two decimals, or three where two would round across a threshold the
    value does not reach.

    >>> alpha_text(0.6666), alpha_text(0.7996), alpha_text(0.6123)
    ('.667', '.800', '.61')
    """
    crosses = any(value < t <= round(value, 2) for t in (TENTATIVE, GOOD))
    return coefficient_text(value, 3 if crosses else 2)


def percent_text(share: float) -> str:
    """A share as a percentage with at most one decimal.

    >>> percent_text(0.8333), percent_text(1.0), percent_text(0.2)
    ('83.3%', '100%', '20%')
    """
    text = f"{100 * share:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def ci_text(row: dict, confidence: float) -> str:
    """``95% CI [.74, .89]``, or "" without an interval."""
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return ""
    return (
        f"{percent_text(confidence)} CI [{alpha_text(row['ci_low'])}, "
        f"{alpha_text(row['ci_high'])}]"
    )


def count_word(n: int) -> str:
    """Words below ten (APA), digits from ten."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else f"{n:,}"


def _plural(n: int, noun: str) -> str:
    return f"{count_word(n)} {noun}{'' if n == 1 else 's'}"


def _series(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _names(names: Sequence[str], limit: int = 3) -> str:
    if len(names) <= limit:
        return _series(names)
    rest = len(names) - (limit - 1)
    return ", ".join(names[: limit - 1]) + f" and {rest} other codes"


# -- the report ---------------------------------------------------------------


def _rows(report: dict, level: str, coefficient: str) -> list[dict]:
    """Rows over all coders (no pair) of one level and coefficient."""
    return [
        r
        for r in report["results"]
        if r["level"] == level and r["coefficient"] == coefficient and r["pair"] is None
    ]


def _overall(report: dict, level: str, coefficient: str) -> dict | None:
    return next(
        (r for r in _rows(report, level, coefficient) if r["code"] is None), None
    )


def _per_code(report: dict, level: str, coefficient: str) -> list[dict]:
    return [r for r in _rows(report, level, coefficient) if r["code"] is not None]


def _value(row: dict | None) -> float | None:
    return None if row is None else row["value"]


def _with_ci(symbol: str, row: dict, confidence: float) -> str:
    ci = ci_text(row, confidence)
    return f"{symbol} = {alpha_text(row['value'])}" + (f", {ci}" if ci else "")


def _range(rows: Iterable[dict], symbol: str) -> str:
    """Lowest and highest value with their codes: "α ranged from −.50 (a)
    to 1.00 (b and c)"; "" without a defined value."""
    defined = [r for r in rows if r["value"] is not None]
    if not defined:
        return ""
    if len(defined) == 1:
        return f"{symbol} = {alpha_text(defined[0]['value'])} for {defined[0]['code']}"
    low = min(r["value"] for r in defined)
    high = max(r["value"] for r in defined)
    if low == high:
        return f"{symbol} was {alpha_text(low)} for every code with a defined value"

    def at(v: float) -> str:
        names = [r["code"] for r in defined if r["value"] == v]
        return f"{alpha_text(v)} ({_names(names)})"

    return f"{symbol} ranged from {at(low)} to {at(high)}"


# -- sentences ----------------------------------------------------------------

UNITS = {
    "document": (
        "The unit of analysis was the document: for each document and each of "
        "the {codes}, whether a coder applied the code, or one of its subcodes, "
        "anywhere in it ({units:,} document × code decisions)."
    ),
    "character": (
        "The unit of analysis was the character: for each character of the "
        "sample's text and each of the {codes}, whether it lies inside a "
        "coder's segment of the code ({units:,} character × code units)."
    ),
}


def _sample(report: dict, ctx: MethodsContext) -> list[str]:
    sample = report["sample"]
    n, total = sample["documents"], ctx.documents
    of = (
        f"{n:,} of the project's {total:,} documents ({percent_text(n / total)})"
        if 0 < n <= total
        else f"{n:,} documents"
    )
    which = (
        "those that at least two coders had worked on, including documents not "
        "yet marked as done"
        if sample.get("rule") == "all_coded"
        else "those that at least two coders marked as done"
    )
    out = [
        f"Intercoder reliability for “{ctx.project_name}” was assessed on {of}, {which}."
    ]
    if ctx.reliability_seed is not None:
        simple = "simple " if not ctx.reliability_stratify else ""
        draw = f"a seeded {simple}random draw"
        if ctx.reliability_share is not None:
            draw += f" of {percent_text(ctx.reliability_share)} of the documents"
        if ctx.reliability_stratify:
            label = stratify_label(ctx.reliability_stratify)
            draw += f", stratified by {label} with proportional allocation"
        if ctx.reliability_coders:
            draw += f", {count_word(ctx.reliability_coders)} coders per document"
        out.append(
            "As last recorded in the project, documents were selected for double "
            f"coding by {draw} (seed {ctx.reliability_seed})."
        )
    coders = [c for c in sample["coders"] if c != CONSENSUS]
    who = (
        "Two coders coded every document in the sample"
        if len(coders) == 2
        else f"Each document was coded by at least two of the {count_word(len(coders))} coders"
    )
    blind = (
        "the project is set to blind coding, so coders do not see one another's segments"
        if ctx.blind
        else "the project is not set to blind coding, so coders can see one another's segments"
    )
    out.append(f"{who}; {blind}.")
    return out


def _headline(report: dict, level: str, ctx_coders: int) -> list[str]:
    """The unit, the coefficient and why, the value overall and per code."""
    sample = report["sample"]
    conf = sample.get("confidence", 0.95)
    overall = _overall(report, level, "krippendorff_alpha")
    codes = _per_code(report, level, "krippendorff_alpha")
    out = []
    if overall is not None:
        out.append(
            UNITS[level].format(
                codes=_plural(len(codes), "code"), units=overall["n_units"]
            )
        )
    out.append(
        "Krippendorff's α was the main coefficient: it corrects for chance "
        "agreement and applies to any number of coders and to missing data "
        "(Krippendorff, 2004; Hayes & Krippendorff, 2007)."
    )
    if overall is None:
        return out
    if overall["value"] is None:
        first = "Across all codes together, α was undefined"
        first += f" ({overall['note']})" if overall.get("note") else ""
    else:
        first = f"Across all codes together, {_with_ci('α', overall, conf)}"
    others = []
    kappa = (
        _overall(report, level, "cohen_kappa")
        if ctx_coders == 2
        else _overall(report, level, "fleiss_kappa")
    )
    name = "Cohen's κ" if ctx_coders == 2 else "Fleiss' κ"
    if _value(kappa) is not None:
        others.append(f"{name} = {alpha_text(kappa['value'])}")
    ac1 = _overall(report, level, "gwet_ac1")
    if _value(ac1) is not None:
        others.append(f"Gwet's AC1 = {alpha_text(ac1['value'])}")
    pa = _overall(report, level, "percent_agreement")
    if _value(pa) is not None:
        others.append(f"percent agreement = {percent_text(pa['value'])}")
    out.append(first + (f"; {_series(others)}" if others else "") + ".")
    per_code = []
    if spread := _range(codes, "α"):
        per_code.append(f"Per code, {spread}")
    undefined = [r for r in codes if r["value"] is None]
    if undefined:
        notes = {r.get("note") or "" for r in undefined}
        if all(ONE_CATEGORY in note for note in notes):
            why = (
                " in which only one category occurred (all coders made the same "
                "decision on every document)"
            )
        elif len(notes) == 1 and "" not in notes:
            why = f" ({notes.pop()})"
        else:
            why = " (the agreement report notes why for each)"
        text = f"α was undefined for {_plural(len(undefined), 'code')}{why}"
        per_code.append(text)
    if per_code:
        out.append("; ".join(per_code) + ".")
    return out


def _flags(report: dict, level: str, ctx_coders: int) -> list[str]:
    """Codes (and variables) below .667; the prevalence paradox. The κ it
    compares is the report's Cohen's κ: with more than two coders, the mean
    over coder pairs (not the Fleiss' κ of the headline), and says so."""
    out = []
    overall = _overall(report, level, "krippendorff_alpha")
    low = [
        f"{r['code']} ({alpha_text(r['value'])})"
        for r in [*_per_code(report, level, "krippendorff_alpha"), *_variables(report)]
        if r["value"] is not None and r["value"] < TENTATIVE
    ]
    together = _value(overall) is not None and overall["value"] < TENTATIVE
    if low or together:
        where = []
        if together:
            where.append("across all codes together")
        if low:
            where.append(f"for {_plural(len(low), 'code')}: {_series(low)}")
        out.append(f"α was {THRESHOLD} {' and '.join(where)}.")
    if level != "document":
        return out
    paradox = []
    kappas = {r["code"]: r for r in _rows(report, "document", "cohen_kappa")}
    ac1s = {r["code"]: r for r in _rows(report, "document", "gwet_ac1")}
    for pa in _rows(report, "document", "percent_agreement"):
        kappa = kappas.get(pa["code"])
        if prevalence_paradox(pa["value"], _value(kappa)):
            label = "all codes together" if pa["code"] is None else pa["code"]
            kappa_name = "κ" if ctx_coders == 2 else "mean pairwise Cohen's κ"
            parts = [
                percent_text(pa["value"]),
                f"{kappa_name} = {alpha_text(kappa['value'])}",
            ]
            if _value(ac1s.get(pa["code"])) is not None:
                parts.append(f"AC1 = {alpha_text(ac1s[pa['code']]['value'])}")
            paradox.append(f"{label} ({', '.join(parts)})")
    if paradox:
        out.append(
            f"Percent agreement was high while κ was low for {_series(paradox)}: "
            "the prevalence paradox of codes that are rare or nearly always applied "
            "(Feinstein & Cicchetti, 1990), to which Gwet's AC1 is less sensitive "
            "(Gwet, 2008)."
        )
    return out


def _variables(report: dict) -> list[dict]:
    return [
        r
        for r in report["results"]
        if r["level"] == "variable"
        and r["pair"] is None
        and r["coefficient"].startswith("krippendorff_alpha")
    ]


def _variable_sentence(report: dict) -> list[str]:
    conf = report["sample"].get("confidence", 0.95)
    parts = []
    for r in _variables(report):
        scale = r["coefficient"].removeprefix("krippendorff_alpha").lstrip("_")
        label = f"{r['code']} ({scale or 'nominal'})"
        if r["value"] is None:
            parts.append(f"{label}: undefined")
        else:
            parts.append(f"{label}: {_with_ci('α', r, conf)}")
    if not parts:
        return []
    return [
        f"For the {_plural(len(parts), 'variable')}, α at each variable's level of "
        f"measurement was {'; '.join(parts)}."
    ]


def _text_levels(report: dict, headline: str | None) -> list[str]:
    """Character-level α (when it is not the headline) and unitizing α_u."""
    conf = report["sample"].get("confidence", 0.95)
    out = []
    char = _overall(report, "character", "krippendorff_alpha")
    if headline != "character" and _value(char) is not None:
        out.append(
            "At the character level (whether each character lies inside a "
            f"segment of the code), {_with_ci('α', char, conf)} across all codes."
        )
    u = _overall(report, "unitizing", "u_alpha")
    if _value(u) is not None:
        text = (
            "Agreement on where coded segments lie in the text was measured with "
            "Krippendorff's unitizing α_u (Krippendorff et al., 2016) over the "
            f"sample's {u['n_units']:,} characters: {_with_ci('α_u', u, conf)} "
            "across all codes"
        )
        if spread := _range(_per_code(report, "unitizing", "u_alpha"), "α_u"):
            text += f"; per code, {spread}"
        out.append(text + ".")
    return out


def _consensus(report: dict, ctx: MethodsContext) -> list[str]:
    sample = report["sample"]
    out = []
    n = sample.get("consensus_documents") or 0
    if sample.get("with_consensus") and n:
        values = [
            r["value"]
            for r in report["results"]
            if r["level"] == "document" and r["coefficient"] == "cohen_kappa"
            and r["code"] is None and r["pair"] and CONSENSUS in r["pair"]
            and r["value"] is not None
        ]  # fmt: skip
        text = (
            "Each coder was also compared with the adjudicated consensus on the "
            f"{n:,} adjudicated document{'' if n == 1 else 's'} of the sample"
        )
        if len(values) == 1:
            text += f" (Cohen's κ = {alpha_text(values[0])} across all codes)"
        elif values:
            text += (
                f" (Cohen's κ from {alpha_text(min(values))} to "
                f"{alpha_text(max(values))} across all codes)"
            )
        out.append(text + ".")
    if ctx.adjudicated_documents:
        k = ctx.adjudicated_documents
        out.append(
            "Disagreements were resolved by adjudication to a consensus version in "
            f"{k:,} document{'' if k == 1 else 's'} of the project."
        )
    return out


def _codebook(report: dict, ctx: MethodsContext) -> list[str]:
    sample = report["sample"]
    sums = dict(ctx.codebook_checksums)

    def named(v: int) -> str:
        return f"codebook version {v}" + (f" (SHA-256 {sums[v]})" if v in sums else "")

    chosen = sample.get("codebook_version")
    if chosen is not None:
        text = f"Only documents coded entirely under {named(chosen)} were included"
        if left := sample.get("left_out_other_versions"):
            text += (
                f"; {left:,} document{'' if left == 1 else 's'} of the sample coded "
                f"under another version {'was' if left == 1 else 'were'} left out"
            )
        return [text + "."]
    versions = [v["version"] for v in sample.get("codebook_versions") or []]
    if len(versions) == 1 and versions[0] is not None:
        return [f"All coding in the sample was done under {named(versions[0])}."]
    if len(versions) > 1:
        names = [
            "before the first published version" if v is None else f"v{v}"
            for v in versions
        ]
        return [
            "The sample was coded under more than one version of the codebook "
            f"({_series(names)}); the coefficients pool them."
        ]
    return []


def methods_sentences(report: dict[str, Any], context: MethodsContext) -> list[str]:
    """:func:`methods_paragraph` as a list of sentences."""
    sample = report["sample"]
    if not sample["documents"]:
        chosen = sample.get("codebook_version")
        if chosen is not None:
            return [
                f"There is no reliability sample for “{context.project_name}” under "
                f"codebook version {chosen} yet: no document of the sample was coded "
                "entirely under it."
            ]
        return [
            f"There is no reliability sample for “{context.project_name}” yet: no "
            "document has been "
            + ("coded" if sample.get("rule") == "all_coded" else "marked as done")
            + " by two or more coders."
        ]
    levels = sample.get("levels") or []
    headline = next(
        (
            lv
            for lv in ("document", "character")
            if lv in levels and _overall(report, lv, "krippendorff_alpha")
        ),
        None,
    )
    coders = len([c for c in sample["coders"] if c != CONSENSUS])
    out = _sample(report, context)
    if headline is not None:
        out += _headline(report, headline, coders)
        out += _flags(report, headline, coders)
    out += _variable_sentence(report)
    out += _text_levels(report, headline)
    out += _consensus(report, context)
    if sample.get("bootstrap"):
        out.append(
            f"Confidence intervals are {percent_text(sample.get('confidence', 0.95))} "
            f"percentile intervals from {sample['bootstrap']:,} bootstrap resamples "
            f"of documents (seed {sample['seed']})."
        )
    out += _codebook(report, context)
    if context.software_version:
        software = f"{context.software} {context.software_version}"
        if context.commit:
            software += f" (commit {context.commit})"
    else:
        software = context.software
    out.append(f"Coefficients were computed with {software}.")
    return out


def methods_paragraph(report: dict[str, Any], context: MethodsContext) -> str:
    """The reliability paragraph of a methods section for ``report`` (the
    dict of :func:`annotations.services.agreement.agreement_report`).

    Two coders, two codes, a blind project with a recorded draw:

    >>> row = lambda level, code, coef, value, lo=None, hi=None, units=2, note=None: {
    ...     "level": level, "code": code, "coefficient": coef, "coders": ["a", "b"],
    ...     "pair": None, "value": value, "ci_low": lo, "ci_high": hi,
    ...     "n_units": units, "n_documents": 20, "note": note}
    >>> report = {"project": "demo", "sample": {
    ...     "rule": "done", "documents": 20, "coders": ["a", "b"],
    ...     "levels": ["document"], "bootstrap": 1000, "seed": 1,
    ...     "confidence": 0.95, "with_consensus": False, "consensus_documents": 0,
    ...     "codebook_versions": [{"version": 2, "segments": 80}],
    ...     "codebook_version": None, "left_out_other_versions": 0},
    ...  "results": [
    ...     row("document", None, "percent_agreement", 0.9),
    ...     row("document", None, "cohen_kappa", 0.78),
    ...     row("document", None, "krippendorff_alpha", 0.7812, 0.64, 0.9, 40),
    ...     row("document", "tone", "krippendorff_alpha", 0.91, 0.8, 1.0),
    ...     row("document", "frame", "krippendorff_alpha", 0.55, 0.3, 0.79)]}
    >>> ctx = MethodsContext(project_name="Demo", documents=100, blind=True,
    ...     reliability_share=0.2, reliability_coders=2, reliability_seed=7,
    ...     codebook_checksums=((2, "ab12"),),
    ...     adjudicated_documents=3, software_version="0.1.0")
    >>> for sentence in methods_sentences(report, ctx):
    ...     print(sentence)
    Intercoder reliability for “Demo” was assessed on 20 of the project's 100 documents (20%), those that at least two coders marked as done.
    As last recorded in the project, documents were selected for double coding by a seeded simple random draw of 20% of the documents, two coders per document (seed 7).
    Two coders coded every document in the sample; the project is set to blind coding, so coders do not see one another's segments.
    The unit of analysis was the document: for each document and each of the two codes, whether a coder applied the code, or one of its subcodes, anywhere in it (40 document × code decisions).
    Krippendorff's α was the main coefficient: it corrects for chance agreement and applies to any number of coders and to missing data (Krippendorff, 2004; Hayes & Krippendorff, 2007).
    Across all codes together, α = .78, 95% CI [.64, .90]; Cohen's κ = .78 and percent agreement = 90%.
    Per code, α ranged from .55 (frame) to .91 (tone).
    α was below the .667 threshold Krippendorff recommends for tentative conclusions for one code: frame (.55).
    Disagreements were resolved by adjudication to a consensus version in 3 documents of the project.
    Confidence intervals are 95% percentile intervals from 1,000 bootstrap resamples of documents (seed 1).
    All coding in the sample was done under codebook version 2 (SHA-256 ab12).
    Coefficients were computed with Coding Workbench 0.1.0.

    An empty sample is one sentence:

    >>> empty = {"sample": {"rule": "done", "documents": 0, "coders": []}, "results": []}
    >>> methods_paragraph(empty, ctx)
    'There is no reliability sample for “Demo” yet: no document has been marked as done by two or more coders.'
    """
    return " ".join(methods_sentences(report, context))
