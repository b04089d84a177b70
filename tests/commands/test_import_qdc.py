"""import_codebook of a REFI-QDA codebook (.qdc): this app's own export comes
back field by field, another tool's file lands with its hierarchy, colours
and descriptions, and a bad file is refused with a reason and changes nothing."""

import pytest
from django.core.management import CommandError, call_command

from annotations.exporters.refi_qda import code_description
from annotations.exporters.rows import CodeInfo
from annotations.importers.refi_qda import description_fields
from annotations.models import Code, Project
from annotations.services import exports
from tests import factories

FIELDS = ("description", "definition", "when_to_use", "when_not_to_use", "example")


@pytest.fixture
def target(db):
    call_command("create_project", "t", "--name", "T")
    return Project.objects.get(slug="t")


def codebook(project) -> list[tuple]:
    """Every code as (path, colour, text fields), in codebook order."""

    def path(code):
        return f"{path(code.parent)}/{code.name}" if code.parent else code.name

    codes = sorted(Code.objects.filter(project=project), key=lambda c: path(c))
    return [(path(c), c.color, *(getattr(c, f) for f in FIELDS)) for c in codes]


def test_the_apps_own_qdc_comes_back_field_by_field(target, tmp_path, capsys):
    source = factories.ProjectFactory(slug="src")
    actor = factories.CodeFactory(
        project=source, name="actor", color="#f5eea3",
        description="Who acts.", definition="A person or body.\n\nNamed or not.",
        when_to_use="Named agencies", when_not_to_use="Pronouns", example="Europol",
    )  # fmt: skip
    factories.CodeFactory(
        project=source, parent=actor, name="منصة 📱", color="#a3f5da",
        definition="Platforms, in Arabic: قنوات",
    )  # fmt: skip
    factories.CodeFactory(project=source, name="outcome", color="#f5cca3")
    path = tmp_path / "codebook.qdc"
    filt = exports.export_filter_build(project=source)
    exports.export_write(project=source, name="codebook.qdc", filt=filt, path=path)

    call_command("import_codebook", "t", str(path))
    assert "3 codes created" in capsys.readouterr().out
    assert codebook(target) == codebook(source)


FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA">
  <Codes>
    <Code guid="11111111-1111-4111-8111-111111111111" name="Platforms/Apps"
          isCodable="true" color="#3366FF">
      <Description>Any online service.</Description>
      <Code guid="22222222-2222-4222-8222-222222222222" name="Telegram" isCodable="true"/>
    </Code>
    <Code guid="33333333-3333-4333-8333-333333333333" name="Skepticism" isCodable="false">
      <Description>Doubts about the effect.

Example: "they will be back"</Description>
    </Code>
  </Codes>
</CodeBook>
"""


def test_another_tools_qdc(target, tmp_path):
    path = tmp_path / "maxqda.qdc"
    path.write_text(FOREIGN, encoding="utf-8")
    call_command("import_codebook", "t", str(path))
    platforms = Code.objects.get(project=target, name="Platforms-Apps")
    assert (
        platforms.color == "#3366ff" and platforms.definition == "Any online service."
    )
    assert Code.objects.get(project=target, name="Telegram").parent == platforms
    skepticism = Code.objects.get(project=target, name="Skepticism")
    assert skepticism.description == "Doubts about the effect."
    assert skepticism.example == '"they will be back"'
    # Importing again updates by path: nothing doubles.
    call_command("import_codebook", "t", str(path))
    assert Code.objects.filter(project=target).count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<CodeBook", "not well-formed XML"),
        (FOREIGN.replace("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:project:1.0"),
         "does not match the REFI-QDA schema"),
        (FOREIGN.replace('color="#3366FF"', 'color="blue"'),
         "does not match the REFI-QDA schema"),
        (FOREIGN.replace('name="Telegram"', f'name="{"x" * 101}"'),
         "line 7: invalid code name"),
        (FOREIGN.replace('name="Telegram"', 'name="Skepticism"').replace(
            '<Code guid="33333333-3333-4333-8333-333333333333" name="Skepticism"',
            '<Code guid="33333333-3333-4333-8333-333333333333" name="Platforms/Apps"',
        ), "defined twice"),
    ],
)  # fmt: skip
def test_a_bad_qdc_is_refused_and_changes_nothing(target, tmp_path, content, message):
    factories.CodeFactory(project=target, name="kept")
    path = tmp_path / "bad.qdc"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("import_codebook", "t", str(path))
    assert list(Code.objects.filter(project=target).values_list("name", flat=True)) == [
        "kept"
    ]


def test_a_qdc_with_entities_is_refused(target, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    xxe = FOREIGN.replace(
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file://{secret}">]>',
    ).replace("Any online service.", "&x;")
    path = tmp_path / "xxe.qdc"
    path.write_text(xxe, encoding="utf-8")
    with pytest.raises(CommandError, match="a DOCTYPE is not allowed"):
        call_command("import_codebook", "t", str(path))
    assert not Code.objects.filter(project=target).exists()


def test_description_fields_invert_the_exports_description():
    fields = dict(
        zip(FIELDS, ("Who.", "A body.", "Named", "Pronouns", "Europol"), strict=True)
    )
    info = CodeInfo(1, "a", "a", None, 0, 0, "a", **fields)
    assert description_fields(code_description(info)) == fields
    assert description_fields("Plain text from another tool.") == {
        "definition": "Plain text from another tool."
    }
    assert description_fields("") == {}


def test_a_qdpx_with_entities_is_refused(target, tmp_path):
    """The same check guards .qdpx projects (it was an internal error of the
    schema validator, a crash, before)."""
    import zipfile

    qde = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "y">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
    )
    path = tmp_path / "p.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
    with pytest.raises(CommandError, match="a DOCTYPE is not allowed"):
        call_command("import_qdpx", "t", str(path))
