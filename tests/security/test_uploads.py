"""Uploads and archives: size limits, bombs and traversal are refused before
anything is unpacked, with a readable message and the right HTTP status."""

import io
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.uploads import (
    UploadError,
    archive_check,
    archive_open,
    archive_read,
    upload_read,
)


def make_zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, b"target")
            else:
                name, data = entry
                archive.writestr(name, data)
    return buffer.getvalue()


# --- upload_read ------------------------------------------------------------


def test_upload_read_returns_the_bytes():
    upload = SimpleUploadedFile("a.csv", b"external_id,title,text\n1,t,x\n")
    assert upload_read(upload, 1000) == b"external_id,title,text\n1,t,x\n"


def test_upload_read_refuses_a_file_over_the_limit_with_413():
    upload = SimpleUploadedFile("big.csv", b"x" * 2000)
    with pytest.raises(UploadError) as exc:
        upload_read(upload, 1000)
    assert exc.value.status == 413
    assert "big.csv" in str(exc.value)
    assert "larger than the limit of 1000 bytes" in str(exc.value)


def test_upload_read_counts_bytes_even_when_the_declared_size_lies():
    class Lying(io.BytesIO):
        size = 10
        name = "liar.txt"

    with pytest.raises(UploadError) as exc:
        upload_read(Lying(b"y" * 5000), 1000)
    assert exc.value.status == 413


def test_upload_read_refuses_an_empty_file_with_400():
    with pytest.raises(UploadError) as exc:
        upload_read(SimpleUploadedFile("empty.txt", b""), 1000)
    assert exc.value.status == 400
    assert "empty" in str(exc.value)


def test_upload_read_default_limit_comes_from_settings(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(UploadError):
        upload_read(SimpleUploadedFile("a.txt", b"01234567890"))
    assert upload_read(SimpleUploadedFile("a.txt", b"0123456789")) == b"0123456789"


# --- archives ---------------------------------------------------------------


def test_a_normal_archive_passes_and_its_entries_read_back():
    data = make_zip(
        [("project.qde", b"<Project/>"), ("sources/a.txt", "café".encode())]
    )
    archive, files = archive_open(data, 10_000, 10)
    assert [f.filename for f in files] == ["project.qde", "sources/a.txt"]
    assert archive_read(archive, files[1]) == "café".encode()


@pytest.mark.parametrize(
    "name, why",
    [
        ("../evil.txt", "'..'"),
        ("sources/../../evil.txt", "'..'"),
        ("..\\windows.txt", "'..'"),
        ("/etc/passwd", "absolute path"),
        ("\\server\\share.txt", "absolute path"),
        ("C:/Windows/win.ini", "absolute path"),
    ],
)
def test_paths_that_escape_the_folder_are_refused(name, why):
    data = make_zip([("ok.txt", b"fine"), (name, b"bad")])
    with pytest.raises(UploadError) as exc:
        archive_open(data, 10_000, 10, source="upload.qdpx")
    assert why in str(exc.value)
    assert str(exc.value).startswith("upload.qdpx: refused")


def test_symlinks_are_refused():
    link = zipfile.ZipInfo("sources/link")
    link.external_attr = 0o120777 << 16
    with pytest.raises(UploadError, match="symbolic link"):
        archive_open(make_zip([link]), 10_000, 10)


def test_a_zip_bomb_is_refused_by_its_ratio_before_unpacking():
    data = make_zip([("bomb.txt", b"\0" * (20 * 1024 * 1024))])
    assert len(data) < 100_000
    with pytest.raises(UploadError, match="zip bomb"):
        archive_open(data, 10**9, 10)


def test_the_total_unpacked_size_is_bounded_with_413():
    data = make_zip([("a.txt", b"a" * 600), ("b.txt", b"b" * 600)])
    with pytest.raises(UploadError) as exc:
        archive_open(data, 1000, 10)
    assert exc.value.status == 413
    assert "unpacks to more than 1000 bytes" in str(exc.value)


def test_too_many_entries_are_refused():
    data = make_zip([(f"f{i}.txt", b"x") for i in range(11)])
    with pytest.raises(UploadError, match="11 entries; at most 10"):
        archive_open(data, 10_000, 10)


def test_duplicate_entries_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", b"one")
        with pytest.warns(UserWarning):
            archive.writestr("a.txt", b"two")
    with pytest.raises(UploadError, match="appears twice"):
        archive_open(buffer.getvalue(), 10_000, 10)


def test_encrypted_entries_are_refused():
    data = bytearray(make_zip([("secret.txt", b"x")], zipfile.ZIP_STORED))
    # Set the "encrypted" bit in the central directory entry.
    central = data.index(b"PK\x01\x02")
    flags = struct.unpack_from("<H", data, central + 8)[0]
    struct.pack_into("<H", data, central + 8, flags | 0x1)
    with pytest.raises(UploadError, match="encrypted"):
        archive_open(bytes(data), 10_000, 10)


def test_an_entry_larger_than_its_header_says_cannot_be_read():
    data = bytearray(make_zip([("a.txt", b"z" * 1000)], zipfile.ZIP_STORED))
    # Shrink the declared size in both headers: the real data is bigger.
    struct.pack_into("<I", data, data.index(b"PK\x03\x04") + 22, 10)
    struct.pack_into("<I", data, data.index(b"PK\x01\x02") + 24, 10)
    archive, files = archive_open(bytes(data), 10_000, 10)
    with pytest.raises(UploadError, match="cannot be read"):
        archive_read(archive, files[0])


def test_a_corrupt_deflate_stream_gives_a_readable_error():
    data = bytearray(make_zip([("a.txt", b"hello world " * 200)]))
    start = data.index(b"PK\x03\x04") + 30 + len("a.txt")
    data[start : start + 20] = b"\xff" * 20
    archive, files = archive_open(bytes(data), 10_000, 10)
    with pytest.raises(UploadError, match="cannot be read"):
        archive_read(archive, files[0])


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_something_that_is_not_a_zip_is_refused(data):
    with pytest.raises(UploadError, match="not a valid zip archive"):
        archive_open(data, 10_000, 10)


def test_archive_check_works_on_an_open_zipfile_and_skips_directories():
    data = make_zip([("sources/", b""), ("sources/a.txt", b"x")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = archive_check(archive, 100, 5)
    assert [f.filename for f in files] == ["sources/a.txt"]


# --- the upload views -----------------------------------------------------------


def test_document_upload_over_the_limit_is_a_413_and_saves_nothing(
    client, study, settings
):
    from annotations.models import Document

    settings.UPLOAD_MAX_BYTES = 100
    client.force_login(study.pi)
    before = Document.objects.count()
    big = SimpleUploadedFile("big.txt", b"word " * 100)
    response = client.post(
        f"/p/{study.project.slug}/documents/upload/", {"files": [big]}
    )
    assert response.status_code == 413
    assert "larger than the limit of 100 bytes" in response.content.decode()
    assert Document.objects.count() == before


def test_codebook_upload_over_the_limit_is_refused_clearly(client, study, settings):
    from annotations.models import Code

    settings.UPLOAD_MAX_BYTES = 50
    client.force_login(study.pi)
    before = Code.objects.count()
    big = SimpleUploadedFile("codes.csv", b"name\n" + b"a-long-code-name\n" * 10)
    response = client.post(f"/p/{study.project.slug}/codebook/import/", {"file": big})
    assert response.status_code in (400, 413)
    assert "larger than the limit of 50 bytes" in response.content.decode()
    assert Code.objects.count() == before
