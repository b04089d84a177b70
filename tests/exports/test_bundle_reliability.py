"""The bundles say how the reliability sample was drawn (share, coders per
document, seed, stratum), so a methods section can report it."""

import doctest
import json
import zipfile

from annotations.exporters import bundle
from annotations.services import exports


def _bundle(project, tmp_path, name="bundle.zip"):
    filt = exports.export_filter_build(project=project)
    path = tmp_path / name
    exports.export_write(project=project, name=name, filt=filt, path=path)
    with zipfile.ZipFile(path) as z:
        manifest = (
            json.loads(z.read("MANIFEST.json"))
            if "MANIFEST.json" in (z.namelist())
            else None
        )
        return manifest, z.read("README.txt").decode()


def test_docstring_example():
    result = doctest.testmod(bundle)
    assert result.attempted > 0 and result.failed == 0


def test_manifest_and_readme_report_the_stratified_sample(coded, tmp_path):
    project = coded.project
    project.reliability_share = 0.25
    project.reliability_coders = 2
    project.reliability_seed = 7
    project.reliability_stratify = "metadata.lang"
    project.save()
    manifest, readme = _bundle(project, tmp_path)
    assert manifest["reliability_sample"] == {
        "share": 0.25, "coders_per_document": 2, "seed": 7,
        "stratified_by": "metadata.lang",
    }  # fmt: skip
    line = (
        "Reliability sample (as last drawn): 25 % of the documents, 2 coders each, "
        "stratified by metadata 'lang' (metadata.lang), seed 7."
    )
    assert line in readme
    _, r_readme = _bundle(project, tmp_path, "r_bundle.zip")
    assert line in r_readme

    project.reliability_stratify = ""
    project.save()
    manifest, readme = _bundle(project, tmp_path)
    assert manifest["reliability_sample"]["stratified_by"] == ""
    assert "2 coders each, not stratified, seed 7." in readme


def test_never_drawn(coded, tmp_path):
    manifest, readme = _bundle(coded.project, tmp_path)
    assert manifest["reliability_sample"] is None
    assert "Reliability sample" not in readme
