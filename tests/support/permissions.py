"""Files this thread cannot read, even as root: the observable that a run read no file content.

Permissions stop an ordinary user, not root (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``); the test
containers run as root. Linux capabilities belong to a thread, so :func:`permissions_enforced` drops those
two from the calling thread's effective set (threads it starts inherit that; the emulator's threads,
started earlier, keep theirs) and raises them again afterwards (they stay in the permitted set). Files
given to another user (:func:`owned_by_nobody`) are then unreadable to the test's runs.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_CAPABILITY_VERSION_3 = 0x20080522
_DAC_CAPABILITIES = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _set_effective(change: int, *, drop: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    header = _Header(_CAPABILITY_VERSION_3, 0)  # pid 0: the calling thread
    data = (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    data[0].effective = data[0].effective & ~change if drop else data[0].effective | change
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


@contextmanager
def permissions_enforced() -> Iterator[None]:
    """File permissions apply to this thread (and threads it starts meanwhile), root or not."""
    _set_effective(_DAC_CAPABILITIES, drop=True)
    try:
        yield
    finally:
        _set_effective(_DAC_CAPABILITIES, drop=False)


#: The owner files are given so that this thread, without its DAC capabilities, cannot read them.
NOBODY = 65534


def owned_by_nobody(paths: Iterable[Path]) -> None:
    """Give ``paths`` to ``nobody`` with mode ``600``: readable by root as usual, by this thread not within
    :func:`permissions_enforced`. Done *before* a first run: ``chown`` and ``chmod`` move a file's ctime, which
    the hash cache is keyed by, so they must not happen between the runs compared."""
    if os.geteuid() != 0:
        raise RuntimeError("giving files to another user needs root (the test containers run as root)")
    for path in paths:
        os.chown(path, NOBODY, NOBODY)
        path.chmod(0o600)


def assert_unreadable(paths: Iterable[Path]) -> None:
    """Every path fails to open in this thread: a run that succeeds now read none of them."""
    for path in paths:
        try:
            path.open("rb").close()
        except PermissionError:
            continue
        raise AssertionError(f"{path} is readable: the test would prove nothing")
