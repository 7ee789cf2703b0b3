"""Progress lines for long transfers: files and bytes done and the throughput, at an interval, not per file.

Standard library only: the transfer operators DAG files import use it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


class TaskLogger(Protocol):
    """What progress and the commit engine log through: a stdlib logger or an operator's ``self.log``."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


@dataclass
class ProgressLog:
    """Logs ``files and bytes done, throughput`` at most every ``interval`` seconds (and once at the end).

    For 100k files the task log gets a line every few seconds, not a line per file.

    Example::

        progress = ProgressLog("Uploading", total_files=len(paths), total_bytes=total, logger=self.log)
        for path in paths:
            upload(path)
            progress.advance(1, path.stat().st_size)
        progress.finish()
    """

    phase: str
    total_files: int
    total_bytes: int
    interval: float = 10.0
    logger: TaskLogger = field(default=log)
    files: int = 0
    bytes: int = 0
    _started: float = field(default_factory=time.monotonic)
    _last: float = field(default_factory=time.monotonic)

    def advance(self, files: int, nbytes: int) -> None:
        self.files += files
        self.bytes += nbytes
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._emit(now)

    @contextmanager
    def ticking(self) -> Iterator[ProgressLog]:
        """Also log every ``interval`` while nothing advances (one large file uploading), and finish at the end.

        Example::

            with progress.ticking():
                upload_everything(progress)  # calls progress.advance(...)
        """
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(self.interval):
                now = time.monotonic()
                if now - self._last >= self.interval:
                    self._last = now
                    self._emit(now)

        ticker = threading.Thread(target=tick, name="hf-progress", daemon=True)
        ticker.start()
        try:
            yield self
        finally:
            stop.set()
            ticker.join()
        self.finish()

    def finish(self) -> None:
        if self.total_files:
            self._emit(time.monotonic())

    def _emit(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        self.logger.info(
            "%s: %d/%d files, %s/%s (%s/s)",
            self.phase,
            self.files,
            self.total_files,
            human_bytes(self.bytes),
            human_bytes(self.total_bytes),
            human_bytes(self.bytes / elapsed),
        )


def human_bytes(nbytes: float) -> str:
    """``1536`` as ``1.5 KiB``: sizes in log lines."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(nbytes) < 1024:
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"
