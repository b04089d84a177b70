"""Peak memory of a phase of this process, in MB.

On Linux, writing ``5`` to ``/proc/self/clear_refs`` resets the peak resident
set size (VmHWM), so one process can measure several phases. Elsewhere the
process-wide ``ru_maxrss`` is used, which can only grow.
"""

from __future__ import annotations

import re
import resource
import sys
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR = Path("/proc/self/clear_refs")


def _status_kb(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.M)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return (kb or 0) / 1024


def _maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kB, macOS bytes.
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


class PeakMemory:
    """``with PeakMemory() as m: ...`` then ``m.peak_mb`` (the process's peak
    resident memory during the block) and ``m.extra_mb`` (above the start)."""

    def __enter__(self) -> PeakMemory:
        self.resettable = False
        try:
            CLEAR.write_text("5")
            self.resettable = True
        except OSError:
            pass
        self.start_mb = rss_mb()
        return self

    def __exit__(self, *exc) -> None:
        hwm = _status_kb("VmHWM") if self.resettable else None
        self.peak_mb = hwm / 1024 if hwm is not None else _maxrss_mb()
        self.extra_mb = max(0.0, self.peak_mb - self.start_mb)
