"""bundle.zip and r_bundle.zip: every file present, the manifest's checksums
and row counts true, and load.R run by R itself when Rscript is installed."""

import hashlib
import json
import shutil
import subprocess
import zipfile

import pandas as pd
import pytest

from annotations.exporters.methods import methods_paragraph
from annotations.selectors.methods import methods_context
from annotations.services import exports
from tests import factories

RSCRIPT = shutil.which("Rscript")


def export(project, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=project, **filters)
    path = tmp_path / name
    exports.export_write(project=project, name=name, filt=filt, path=path)
    return path


def test_bundle_has_every_file_and_a_true_manifest(coded, tmp_path):
    path = export(coded.project, "bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert (
            set(exports.BUNDLE_MEMBERS)
            | {"load.R", "MANIFEST.json", "README.txt", "METHODS.txt"}
            == names
        )
        manifest = json.loads(z.read("MANIFEST.json"))
        methods = z.read("METHODS.txt").decode()
        for name, entry in manifest["files"].items():
            assert hashlib.sha256(z.read(name)).hexdigest() == entry["sha256"]
        readme = z.read("README.txt").decode()
        z.extractall(tmp_path / "out")
    assert manifest["project"] == {"name": "Takedowns", "slug": "takedowns"}
    assert manifest["exported_at"].endswith("Z")
    assert manifest["software"]["version"] == exports.software_version()
    assert len(manifest["codebook_sha256"]) == 64
    assert manifest["files"]["segments.csv"]["rows"] == coded.live_count
    assert manifest["files"]["segments.dta"]["rows"] == coded.live_count
    assert manifest["files"]["codebook.csv"]["rows"] == 4
    assert "code points" in readme and "segments.dta" in readme
    assert "METHODS.txt: A draft reliability paragraph" in readme
    # The paragraph of the bundle's own agreement report, as the page shows it.
    report = json.loads((tmp_path / "out" / "agreement.json").read_text())
    want = methods_paragraph(report, methods_context(coded.project))
    assert methods == want + "\n" and "Krippendorff's α" in methods
    assert manifest["files"]["METHODS.txt"]["rows"] == 1
    df = pd.read_csv(tmp_path / "out" / "segments.csv")
    assert len(df) == coded.live_count


def test_codebook_hash_changes_with_the_codebook(coded, tmp_path):
    def digest():
        path = export(coded.project, "bundle.zip", tmp_path)
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("MANIFEST.json"))["codebook_sha256"]

    before = digest()
    assert digest() == before
    code = coded.study.codes["actor"]
    code.definition = "changed"
    code.save()
    assert digest() != before


def test_an_empty_project_exports_cleanly(db, tmp_path, refi_schemas):
    from lxml import etree

    project = factories.ProjectFactory(name="Empty", slug="empty")
    path = export(project, "bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        assert "codebook.qdc" not in z.namelist()  # the schema needs a code
        assert "codebook.qdc: left out" in z.read("README.txt").decode()
        with zipfile.ZipFile(z.open("project.qdpx")) as inner:
            refi_schemas["project"].assertValid(
                etree.fromstring(inner.read("project.qde"))
            )
        assert z.read("segments.csv").decode().count("\n") == 1


def test_r_bundle_files(coded, tmp_path):
    path = export(coded.project, "r_bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        assert set(z.namelist()) == set(exports.R_MEMBERS) | {"load.R", "README.txt"}
        script = z.read("load.R").decode("ascii")  # pure ASCII: any locale
    assert "colClasses" in script and "POSIXct" in script and "attr(" in script


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed")
@pytest.mark.slow
def test_load_r_and_the_dta_files_in_r(coded, tmp_path):
    path = export(coded.project, "bundle.zip", tmp_path)
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(path) as z:
        z.extractall(folder)
    check = folder / "check.R"
    check.write_text(
        """
source("load.R", chdir = TRUE)
stopifnot(nrow(segments) == N_ROWS)
stopifnot(is.factor(segments$code_path), nlevels(segments$code_path) == 4)
stopifnot(all(levels(segments$code_path) == codebook$path))
stopifnot(inherits(segments$created, "POSIXct"), attr(segments$created, "tzone") == "UTC")
stopifnot(is.integer(segments$start), is.integer(segments$end))
stopifnot(attr(segments$end, "label") != "")
stopifnot(all(levels(segments$coder) == c("coder1", "coder2", "consensus")))
uni <- segments[segments$external_id == "unicode", ]
text <- "Telegram \\U0001F389 \\u0642\\u0646\\u0627\\u0629 \\u0645\\u063A\\u0644\\u0642\\u0629 \\U0001F1EA\\U0001F1FA caf\\u00E9\\u0301 <script>alert(1)</script> &amp; end"
stopifnot(all(substring(text, uni$start + 1, uni$end) == uni$quote))
stopifnot(max(nchar(segments$memo)) > 2045)
stopifnot(sum(doc_code_counts) == nrow(segments))
stopifnot(nrow(doc_code_matrix) == nrow(document_codes), ncol(doc_code_matrix) == 4)
stopifnot(all(is.na(reliability$coder1) | reliability$coder1 %in% c(0L, 1L)))
library(haven)
d <- read_dta("segments.dta")
stopifnot(nrow(d) == N_ROWS)
stopifnot(max(nchar(d$memo)) > 2045)
stopifnot(setequal(d$quote, segments$quote))
# read.csv turns \\r\\n and \\r inside a quoted cell into \\n; haven keeps them.
stopifnot(setequal(gsub("\\r\\n?", "\\n", d$memo), segments$memo))
stopifnot(attr(d$end_, "label") == "End offset, code points (exclusive)")
stopifnot("consensus" %in% names(attr(d$coder, "labels")))
stopifnot(all(substring(text, d$start[d$external_id == "unicode"] + 1, d$end_[d$external_id == "unicode"]) == d$quote[d$external_id == "unicode"]))
dc <- read_dta("document_codes.dta")
stopifnot(nrow(dc) == nrow(document_codes))
cat("R OK\\n")
""".replace("N_ROWS", str(coded.live_count)),
        encoding="utf-8",
    )
    for out in rscript_in_locales(folder, "check.R"):
        assert "loaded 11 segments, 4 documents, 4 codes" in out
        assert "R OK" in out


def rscript_in_locales(folder, script: str) -> list[str]:
    """Run ``script`` in ``folder`` under a UTF-8 locale and under plain C (a
    loader must not depend on the locale); its output each time."""
    outputs = []
    for locale in ("C.UTF-8", "C"):
        result = subprocess.run(
            [RSCRIPT, script], cwd=folder, capture_output=True, text=True,
            timeout=120, env={"PATH": "/usr/bin:/bin", "LANG": locale, "LC_ALL": locale},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    return outputs


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed")
def test_load_r_on_an_empty_project(db, tmp_path):
    project = factories.ProjectFactory(name="Empty", slug="empty")
    path = export(project, "r_bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        z.extractall(tmp_path / "r")
    result = subprocess.run(
        [RSCRIPT, "-e", 'source("load.R", chdir = TRUE); stopifnot(ncol(doc_code_matrix) == 0)'],
        cwd=tmp_path / "r", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "loaded 0 segments, 0 documents, 0 codes" in result.stdout
