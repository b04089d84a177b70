"""agreement.csv and agreement.json: the agreement service's report, read
back with pandas and json, in the bundle too."""

import io
import json
import zipfile

import pandas as pd

from annotations.services import exports
from annotations.services.agreement import agreement_report
from annotations.stats import RECORD_FIELDS


def export(coded, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=coded.project, **filters)
    path = tmp_path / name
    rows = exports.export_write(project=coded.project, name=name, filt=filt, path=path)
    return path, rows


def test_agreement_csv_and_json_hold_the_report(coded, tmp_path):
    report = agreement_report(coded.project, with_consensus=True)
    assert report["results"], "the fixture has a reliability sample"
    path, rows = export(coded, "agreement.csv", tmp_path)
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(df.columns) == list(RECORD_FIELDS)
    assert rows == len(df) == len(report["results"])
    first = report["results"][0]
    assert df.iloc[0].coefficient == first["coefficient"]
    assert df.iloc[0].n_units == first["n_units"]
    assert set(df.level) == {r["level"] for r in report["results"]}
    assert any("consensus" in str(p) for p in df.pair)  # compared with the consensus

    path, rows = export(coded, "agreement.json", tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["results"] == report["results"]
    assert data["sample"]["documents"] == report["sample"]["documents"]
    assert rows == len(report["results"])


def test_agreement_without_the_consensus(coded, tmp_path):
    path, _ = export(coded, "agreement.csv", tmp_path, coder="coder1")
    df = pd.read_csv(path, keep_default_na=False)
    assert not any("consensus" in str(p) for p in df.pair)


def test_bundle_holds_the_agreement_files(coded, tmp_path):
    path, _ = export(coded, "bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("MANIFEST.json"))
        df = pd.read_csv(io.BytesIO(z.read("agreement.csv")))
        assert json.loads(z.read("agreement.json"))["results"]
    assert manifest["files"]["agreement.csv"]["rows"] == len(df) > 0
