"""Safe handling of uploaded files and archives.

Upload views read files through :func:`upload_read` (a hard size limit, read
in chunks so an oversized file is never held in memory), and archive imports
(``.qdpx``, ``.zip``) open them through :func:`archive_open`, which checks
every entry *before* anything is unpacked: the number of files, the total
unpacked size, the compression ratio (zip bombs), absolute paths and ``..``
traversal, symlinks, encrypted and duplicate entries. Members are then read
with :func:`archive_read`, which never returns more than the entry declared.

Both raise :class:`UploadError`, an ``InputError`` that carries the HTTP
status to answer with (413 for "too large", 400 for everything else), so a
view can do::

    try:
        data = upload_read(request.FILES["file"], max_bytes=upload_max_bytes())
    except UploadError as exc:
        return render(request, ..., {"error": str(exc)}, status=exc.status)

and a management command gets a readable line from ``WorkbenchCommand``.
"""

import contextlib
import io
import stat
import zipfile
import zlib
from pathlib import PurePosixPath

from django.conf import settings

from .services.errors import InputError, Problem

CHUNK = 64 * 1024
MB = 1024 * 1024


class UploadError(InputError):
    """A refused upload or archive; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, source: str = "", status: int = 400):
        self.status = status
        super().__init__([Problem(message, source)])

    @property
    def message(self) -> str:
        return str(self.problems[0])


def upload_max_bytes() -> int:
    """The largest single upload accepted (settings.UPLOAD_MAX_BYTES)."""
    return int(getattr(settings, "UPLOAD_MAX_BYTES", 50 * MB))


def archive_limits() -> tuple[int, int]:
    """(largest total unpacked size, most entries) for an uploaded archive."""
    return (
        int(getattr(settings, "ARCHIVE_MAX_TOTAL_BYTES", 500 * MB)),
        int(getattr(settings, "ARCHIVE_MAX_FILES", 10_000)),
    )


def _size_text(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def upload_read(
    file, max_bytes: int | None = None, *, name: str | None = None
) -> bytes:
    """Read an uploaded file (a Django ``UploadedFile`` or any binary file
    object) into bytes, refusing it with status 413 once it passes
    ``max_bytes`` (default :func:`upload_max_bytes`). An empty file is
    refused with 400."""
    limit = upload_max_bytes() if max_bytes is None else max_bytes
    name = name or getattr(file, "name", "") or "upload"
    declared = getattr(file, "size", None)
    too_large = UploadError(
        f"the file is larger than the limit of {_size_text(limit)}",
        source=name,
        status=413,
    )
    if isinstance(declared, int) and declared > limit:
        raise too_large
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    chunks = (
        file.chunks(CHUNK)
        if hasattr(file, "chunks")
        else iter(lambda: file.read(CHUNK), b"")
    )
    buffer = io.BytesIO()
    for chunk in chunks:
        if buffer.tell() + len(chunk) > limit:
            raise too_large
        buffer.write(chunk)
    data = buffer.getvalue()
    if not data:
        raise UploadError("the file is empty", source=name)
    return data


def _is_unsafe_path(name: str) -> str | None:
    """Why an entry name would escape the folder it is unpacked into, or None."""
    if "\x00" in name:
        return "contains a NUL character"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "is an absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "leaves the archive's folder ('..')"
    return None


def archive_check(
    archive: zipfile.ZipFile,
    max_total: int | None = None,
    max_files: int | None = None,
    *,
    max_ratio: float = 200.0,
    source: str = "archive",
) -> list[zipfile.ZipInfo]:
    """Check a zip archive before anything is unpacked; return its file
    entries (directories left out).

    Refused: more than ``max_files`` entries; a total declared unpacked size
    over ``max_total``; an entry that expands more than ``max_ratio`` times
    (and by more than 1 MB: tiny, very compressible files are fine);
    absolute paths, ``..`` components, NUL bytes; symlinks; encrypted
    entries; two entries with the same name.
    """
    default_total, default_files = archive_limits()
    max_total = default_total if max_total is None else max_total
    max_files = default_files if max_files is None else max_files
    infos = archive.infolist()
    if len(infos) > max_files:
        raise UploadError(
            f"the archive holds {len(infos)} entries; at most {max_files} are accepted",
            source=source,
        )
    total = 0
    seen: set[str] = set()
    files = []
    for info in infos:
        name = info.filename
        why = _is_unsafe_path(name)
        if why:
            raise UploadError(f"refused: the entry {name[:200]!r} {why}", source=source)
        mode = info.external_attr >> 16
        if mode and stat.S_ISLNK(mode):
            raise UploadError(
                f"refused: the entry {name[:200]!r} is a symbolic link", source=source
            )
        if info.flag_bits & 0x1:
            raise UploadError(
                f"refused: the entry {name[:200]!r} is encrypted", source=source
            )
        key = name.replace("\\", "/").rstrip("/")
        if key in seen:
            raise UploadError(
                f"refused: the entry {name[:200]!r} appears twice", source=source
            )
        seen.add(key)
        if info.is_dir():
            continue
        total += info.file_size
        if total > max_total:
            raise UploadError(
                f"the archive unpacks to more than {_size_text(max_total)}",
                source=source,
                status=413,
            )
        if info.file_size > MB and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise UploadError(
                f"refused: the entry {name[:200]!r} expands "
                f"{info.file_size / max(info.compress_size, 1):.0f} times "
                "(a zip bomb?)",
                source=source,
            )
        files.append(info)
    return files


def archive_open(
    data: bytes,
    max_total: int | None = None,
    max_files: int | None = None,
    *,
    source: str = "archive",
) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open zip bytes and :func:`archive_check` them; a file that is not a
    zip archive is refused with a clear message."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise UploadError(f"not a valid zip archive ({exc})", source=source) from None
    try:
        files = archive_check(archive, max_total, max_files, source=source)
    except BaseException:
        archive.close()
        raise
    return archive, files


def archive_read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, source: str = "archive"
) -> bytes:
    """Read one checked entry; never more than its declared size (a lying
    header is caught by zipfile's size and CRC checks) and with a readable
    error for a corrupt entry."""
    buffer = io.BytesIO()
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                buffer.write(chunk)
                if buffer.tell() > info.file_size:
                    raise UploadError(
                        f"the entry {info.filename[:200]!r} is larger than declared",
                        source=source,
                    )
    except (
        zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
        RuntimeError,  # encrypted without a password, and the like
    ) as exc:  # fmt: skip
        raise UploadError(
            f"the entry {info.filename[:200]!r} cannot be read ({exc})", source=source
        ) from None
    return buffer.getvalue()
