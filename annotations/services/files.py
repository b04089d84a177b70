"""Writing a file whole or not at all: exports, agreement reports and
codebook files are written to a temporary name beside the target and renamed
into place, so a failure never leaves a half-written file under its name."""

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.core.exceptions import ValidationError

T = TypeVar("T")


def atomic_write(path: Path | str, write: Callable[[Path], T]) -> T:
    """Run ``write`` on a temporary file beside ``path`` and rename it into
    place; on any error remove the temporary file and leave ``path`` alone.
    A missing folder is a ValidationError saying so."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError(f"The folder {str(path.parent)!r} does not exist.")
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
    try:
        result = write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result
