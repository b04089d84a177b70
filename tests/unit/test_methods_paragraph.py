"""The methods paragraph from a hand-made agreement report: each sentence
checked on its own, and the cases that change what may be said."""

from dataclasses import replace

import pytest

from annotations.exporters.methods import (
    MethodsContext,
    alpha_text,
    coefficient_text,
    methods_paragraph,
    methods_sentences,
    percent_text,
)

THRESHOLD = "below the .667 threshold Krippendorff recommends for tentative conclusions"


def row(level, code, coefficient, value, lo=None, hi=None, *, units=2, pair=None,
        note=None, coders=("ann", "bob")):  # fmt: skip
    return {
        "level": level, "code": code, "coefficient": coefficient,
        "coders": list(coders), "pair": pair, "value": value, "ci_low": lo,
        "ci_high": hi, "n_units": units, "n_documents": 40, "note": note,
    }  # fmt: skip


def make_report(*, levels=("document",), coders=("ann", "bob"), documents=40,
                bootstrap=1000, rule="done", results=None, **sample):  # fmt: skip
    """40 documents, two coders, three codes: frame low, tone high, topic
    constant (alpha undefined)."""
    if results is None:
        results = [
            row("document", None, "percent_agreement", 0.9),
            row("document", None, "cohen_kappa", 0.7634),
            row("document", None, "fleiss_kappa", 0.7512),
            row("document", None, "krippendorff_alpha", 0.7745, 0.7021, 0.8433, units=120),
            row("document", None, "gwet_ac1", 0.8512),
            row("document", "frame", "krippendorff_alpha", 0.5012, 0.31, 0.69),
            row("document", "tone", "krippendorff_alpha", 0.9133, 0.85, 0.97),
            row("document", "topic", "krippendorff_alpha", None,
                note="every coder applied this code to every unit: one category only"),
            row("document", "tone", "percent_agreement", 0.95),
            row("document", "tone", "cohen_kappa", 0.9),
        ]  # fmt: skip
    return {
        "project": "demo",
        "sample": {
            "rule": rule, "description": "", "documents": documents,
            "external_ids": [], "coders": list(coders), "levels": list(levels),
            "bootstrap": bootstrap, "seed": 20240917, "confidence": 0.95,
            "with_consensus": False, "consensus_documents": 0, "segments": 300,
            "warnings": [], "codebook_versions": [], "codebook_version": None,
            "left_out_other_versions": 0,
        } | sample,
        "results": results,
    }  # fmt: skip


CTX = MethodsContext(project_name="Takedowns", documents=200, blind=True)


def sentences(report=None, ctx=CTX):
    return methods_sentences(report or make_report(), ctx)


def having(items, start):
    hits = [s for s in items if s.startswith(start)]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


# -- numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [(0.82, ".82"), (0.8249, ".82"), (0.8251, ".83"), (-0.0712, "−.07"),
     (-0.5, "−.50"), (1.0, "1.00"), (-1.0, "−1.00"), (0.0, ".00"),
     (-0.001, ".00"), (-0.004, ".00"), (0.05, ".05")],
)  # fmt: skip
def test_coefficients_without_leading_zero_with_a_minus_sign(value, text):
    assert coefficient_text(value) == text


def test_alpha_gets_a_third_decimal_only_where_rounding_crosses_a_threshold():
    assert alpha_text(0.6666) == ".667"  # below .667, would print as .67
    assert alpha_text(0.7996) == ".800"
    assert alpha_text(0.667) == ".67" and alpha_text(0.8) == ".80"
    assert alpha_text(0.6123) == ".61"


def test_percentages():
    assert [percent_text(x) for x in (0.9, 0.8333, 1.0, 0.004)] == [
        "90%", "83.3%", "100%", "0.4%",
    ]  # fmt: skip


# -- sentence by sentence ----------------------------------------------------------


def test_sample_size_share_and_rule():
    first = sentences()[0]
    assert first == (
        "Intercoder reliability for “Takedowns” was assessed on 40 of the "
        "project's 200 documents (20%), those that at least two coders marked "
        "as done."
    )


def test_all_coded_says_documents_not_yet_done_count():
    first = sentences(make_report(rule="all_coded"))[0]
    assert first.endswith(
        "those that at least two coders had worked on, including documents not "
        "yet marked as done."
    )


def test_two_coders_and_blindness():
    s = sentences()
    assert (
        "Two coders coded every document in the sample; the project is set to "
        "blind coding, so coders do not see one another's segments."
    ) in s
    open_project = sentences(ctx=replace(CTX, blind=False))
    assert any(
        "is not set to blind coding, so coders can see" in x for x in open_project
    )


def test_unit_coefficient_and_why():
    s = sentences()
    assert (
        "The unit of analysis was the document: for each document and each of "
        "the three codes, whether a coder applied the code, or one of its "
        "subcodes, anywhere in it (120 document × code decisions)."
    ) in s
    assert having(s, "Krippendorff's α was the main coefficient: it corrects")


def test_overall_values_with_kappa_ac1_and_agreement():
    assert having(sentences(), "Across all codes together") == (
        "Across all codes together, α = .77, 95% CI [.70, .84]; Cohen's κ = "
        ".76, Gwet's AC1 = .85 and percent agreement = 90%."
    )


def test_three_coders_report_fleiss_kappa():
    s = having(sentences(make_report(coders=("a", "b", "c"))), "Across all")
    assert "Fleiss' κ = .75" in s and "Cohen" not in s
    who = sentences(make_report(coders=("a", "b", "c")))[1]
    assert who.startswith("Each document was coded by at least two of the three coders")


def test_range_and_undefined_codes():
    assert having(sentences(), "Per code") == (
        "Per code, α ranged from .50 (frame) to .91 (tone); α was undefined for "
        "one code in which only one category occurred (all coders made the same "
        "decision on every document)."
    )


def test_code_below_threshold_is_flagged_and_good_codes_are_not():
    assert having(sentences(), "α was below") == (
        f"α was {THRESHOLD} for one code: frame (.50)."
    )
    report = make_report()
    report["results"][5]["value"] = 0.7
    assert not having(sentences(report), "α was below")


def test_overall_and_negative_alpha_flagged():
    report = make_report()
    report["results"][3]["value"] = 0.41
    report["results"][5]["value"] = -0.5
    flag = having(sentences(report), "α was below")
    assert flag == (
        f"α was {THRESHOLD} across all codes together and for one code: frame (−.50)."
    )


def test_prevalence_paradox_named_with_ac1():
    report = make_report()
    report["results"][1]["value"] = 0.4  # overall kappa, agreement 90%
    s = having(sentences(report), "Percent agreement was high")
    assert s.startswith(
        "Percent agreement was high while κ was low for all codes together "
        "(90%, κ = .40, AC1 = .85): the prevalence paradox"
    )
    assert not having(sentences(), "Percent agreement was high")


def test_with_three_coders_the_paradox_names_the_mean_pairwise_kappa():
    # The report's Cohen's κ without a pair is the mean over coder pairs;
    # the headline's κ with three coders is Fleiss'.
    report = make_report(coders=("ann", "bob", "cy"))
    report["results"][1]["value"] = 0.4
    s = having(sentences(report), "Percent agreement was high")
    assert "(90%, mean pairwise Cohen's κ = .40, AC1 = .85)" in s


def test_bootstrap_sentence_and_no_intervals_without_it():
    assert (
        "Confidence intervals are 95% percentile intervals from 1,000 bootstrap "
        "resamples of documents (seed 20240917)."
    ) in sentences()
    report = make_report(bootstrap=0)
    for r in report["results"]:
        r["ci_low"] = r["ci_high"] = None
    s = sentences(report)
    assert not having(s, "Confidence intervals")
    assert having(s, "Across all codes together").startswith(
        "Across all codes together, α = .77; Cohen's"
    )


# -- what the context adds -----------------------------------------------------------


def test_no_draw_recorded_no_selection_sentence():
    assert not any("selected for double coding" in s for s in sentences())


def test_simple_random_draw():
    ctx = replace(CTX, reliability_share=0.2, reliability_coders=2, reliability_seed=7)
    assert sentences(ctx=ctx)[1] == (
        "As last recorded in the project, documents were selected for double "
        "coding by a seeded simple random draw of 20% of the documents, two "
        "coders per document (seed 7)."
    )


def test_stratified_draw():
    ctx = replace(CTX, reliability_share=0.1, reliability_coders=3,
                  reliability_seed=11, reliability_stratify="source")  # fmt: skip
    assert sentences(ctx=ctx)[1] == (
        "As last recorded in the project, documents were selected for double "
        "coding by a seeded random draw of 10% of the documents, stratified by "
        "outlet with proportional allocation, three coders per document (seed 11)."
    )
    meta = replace(ctx, reliability_stratify="metadata.lang")
    assert "stratified by metadata 'lang' with" in sentences(ctx=meta)[1]


def test_adjudication_only_with_adjudicated_documents():
    assert not any("adjudication" in s for s in sentences())
    one = sentences(ctx=replace(CTX, adjudicated_documents=1))
    assert (
        "Disagreements were resolved by adjudication to a consensus version in "
        "1 document of the project."
    ) in one
    many = sentences(ctx=replace(CTX, adjudicated_documents=12))
    assert any(s.endswith("in 12 documents of the project.") for s in many)


def test_consensus_comparison_from_the_report():
    report = make_report(with_consensus=True, consensus_documents=5)
    report["results"] += [
        row("document", None, "cohen_kappa", 0.81, pair=["ann", "consensus"]),
        row("document", None, "cohen_kappa", 0.66, pair=["bob", "consensus"]),
    ]
    assert (
        "Each coder was also compared with the adjudicated consensus on the 5 "
        "adjudicated documents of the sample (Cohen's κ from .66 to .81 across "
        "all codes)."
    ) in sentences(report)


def test_codebook_version_and_checksum():
    sha = "a" * 64
    ctx = replace(CTX, codebook_checksums=((1, "b" * 64), (2, sha)))
    one = make_report(codebook_versions=[{"version": 2, "segments": 300}])
    assert (
        f"All coding in the sample was done under codebook version 2 (SHA-256 {sha})."
        in sentences(one, ctx)
    )
    mixed = make_report(codebook_versions=[{"version": None, "segments": 3},
                                           {"version": 1, "segments": 5}])  # fmt: skip
    assert (
        "The sample was coded under more than one version of the codebook "
        "(before the first published version and v1); the coefficients pool them."
    ) in sentences(mixed, ctx)
    chosen = make_report(codebook_version=2, left_out_other_versions=3)
    assert (
        f"Only documents coded entirely under codebook version 2 (SHA-256 {sha}) "
        "were included; 3 documents of the sample coded under another version "
        "were left out."
    ) in sentences(chosen, ctx)
    assert not any("codebook version" in s for s in sentences())


def test_software_with_and_without_version_and_commit():
    assert sentences()[-1] == "Coefficients were computed with Coding Workbench."
    ctx = replace(CTX, software_version="0.1.0", commit="21b2f13")
    assert sentences(ctx=ctx)[-1] == (
        "Coefficients were computed with Coding Workbench 0.1.0 (commit 21b2f13)."
    )


# -- levels present or not -------------------------------------------------------------


def test_unitizing_only_when_in_the_report():
    assert not any("α_u" in s or "character level" in s for s in sentences())
    results = make_report()["results"] + [
        row("character", None, "krippendorff_alpha", 0.63, 0.6, 0.66, units=9000),
        row("unitizing", None, "u_alpha", 0.6484, 0.62, 0.67, units=3000),
        row("unitizing", "frame", "u_alpha", -0.0093),
        row("unitizing", "tone", "u_alpha", 1.0),
    ]
    report = make_report(levels=("document", "character", "unitizing"), results=results)
    s = sentences(report)
    assert (
        "At the character level (whether each character lies inside a segment "
        "of the code), α = .63, 95% CI [.60, .66] across all codes."
    ) in s
    assert (
        "Agreement on where coded segments lie in the text was measured with "
        "Krippendorff's unitizing α_u (Krippendorff et al., 2016) over the "
        "sample's 3,000 characters: α_u = .65, 95% CI [.62, .67] across all "
        "codes; per code, α_u ranged from −.01 (frame) to 1.00 (tone)."
    ) in s


def test_character_level_headline_when_no_document_level():
    results = [
        row("character", None, "krippendorff_alpha", 0.7, units=9000),
        row("character", "frame", "krippendorff_alpha", 0.7),
    ]
    s = sentences(make_report(levels=("character",), results=results))
    assert having(s, "The unit of analysis was the character")
    assert "(9,000 character × code units)" in having(s, "The unit of analysis")
    assert not any(x.startswith("At the character level") for x in s)


def test_only_span_level_claims_no_alpha():
    results = [row("span", None, "f1_overlap", 0.7)]
    s = sentences(make_report(levels=("span",), results=results))
    assert not any("α" in x for x in s)
    assert s[-1].startswith("Coefficients were computed")


def test_variables_at_their_level_of_measurement():
    results = make_report()["results"] + [
        row("variable", "stance", "krippendorff_alpha_ordinal", 0.58, 0.4, 0.7),
        row("variable", "genre", "krippendorff_alpha", 0.9),
    ]
    s = sentences(make_report(levels=("document", "variable"), results=results))
    assert (
        "For the two variables, α at each variable's level of measurement was "
        "stance (ordinal): α = .58, 95% CI [.40, .70]; genre (nominal): α = .90."
    ) in s
    assert having(s, "α was below") == (
        f"α was {THRESHOLD} for two codes: frame (.50) and stance (.58)."
    )


def test_undefined_overall_alpha_says_so():
    report = make_report()
    report["results"][3].update(value=None, ci_low=None, ci_high=None,
                                note="no unit was coded by two coders")  # fmt: skip
    assert having(sentences(report), "Across all codes together").startswith(
        "Across all codes together, α was undefined (no unit was coded by two coders);"
    )


# -- no sample --------------------------------------------------------------------


def test_empty_sample_is_one_sentence():
    empty = make_report(documents=0, coders=(), results=[])
    assert methods_paragraph(empty, CTX) == (
        "There is no reliability sample for “Takedowns” yet: no document has "
        "been marked as done by two or more coders."
    )
    coded = make_report(documents=0, coders=(), results=[], rule="all_coded")
    assert methods_paragraph(coded, CTX).endswith(
        "no document has been coded by two or more coders."
    )
    versioned = make_report(documents=0, coders=(), results=[], codebook_version=3)
    assert methods_paragraph(versioned, CTX) == (
        "There is no reliability sample for “Takedowns” under codebook version 3 "
        "yet: no document of the sample was coded entirely under it."
    )


def test_paragraph_is_the_sentences_joined():
    assert methods_paragraph(make_report(), CTX) == " ".join(sentences())


def test_one_defined_code_named_with_its_value():
    report = make_report()
    report["results"][6]["value"] = None  # tone undefined too
    report["results"][6]["note"] = "one category only"
    assert having(sentences(report), "Per code") == (
        "Per code, α = .50 for frame; α was undefined for two codes in which "
        "only one category occurred (all coders made the same decision on every "
        "document)."
    )


def test_ties_name_every_code_up_to_three():
    results = [row("document", None, "krippendorff_alpha", 0.9, units=10)] + [
        row("document", f"c{i}", "krippendorff_alpha", 1.0 if i else 0.7)
        for i in range(5)
    ]
    assert having(sentences(make_report(results=results)), "Per code") == (
        "Per code, α ranged from .70 (c0) to 1.00 (c1, c2 and 2 other codes)."
    )


def test_undefined_codes_with_another_reason_quote_it():
    report = make_report()
    report["results"][7]["note"] = "fewer than two documents"
    assert having(sentences(report), "Per code").endswith(
        "α was undefined for one code (fewer than two documents)."
    )
    report["results"][6].update(value=None, note=None)
    assert having(sentences(report), "Per code").endswith(
        "α was undefined for two codes (the agreement report notes why for each)."
    )
