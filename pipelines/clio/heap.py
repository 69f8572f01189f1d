"""Handing freed memory back to the operating system after a walk.

A walk's pages are decoded by the read-ahead thread, so most of what a batch of records
takes comes from that thread's malloc arena, and is freed by the thread that types it.
glibc keeps freed memory inside its arenas for reuse and only returns the free space at
an arena's top on its own; what was freed below a chunk still in use stays resident
until `malloc_trim` releases the free pages. A full sync walks about forty indexes, one
after the other, and its peak comes during the load, on top of whatever the walks left
resident, so each walk gives its free pages back when it ends (a few milliseconds).

Only glibc has `malloc_trim`; elsewhere (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _glibc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library this process already runs on
    except (OSError, AttributeError):  # not glibc (macOS, musl), or no dynamic loading
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_trim: Callable[[int], int] | None = _glibc_trim()
CAN_HAND_BACK = _trim is not None  # glibc: freed pages can be returned on demand


def hand_back() -> bool:
    """Return the free pages of every malloc arena to the system; True if any went back."""
    return bool(_trim(0)) if _trim is not None else False
