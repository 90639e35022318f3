"""Linux primitives for dirty-page tracking: memfd, fixed private mappings, madvise, and page scans.

A range mapped ``MAP_PRIVATE`` from a file shows, page by page, whether it was written since it was
mapped (or since ``MADV_DONTNEED``): a written page is a private anonymous copy, an untouched one is
either absent or the file's page.  :func:`written_pages` asks the kernel for exactly those pages with
the ``PAGEMAP_SCAN`` ioctl (Linux 6.7+), which walks page tables and returns ranges; where the ioctl is
missing it reads ``/proc/self/pagemap`` (8 bytes per page: present bit 63, file-page bit 61).  The
shared zero page (mapped by a read of never-written anonymous memory) is not counted as written.
"""

from __future__ import annotations

import array
import ctypes
import errno
import os
from functools import cache

__all__ = ["PAGE", "discard", "map_file_private", "scan_method", "written_pages"]

PAGE = 4096
_PROT_RW = 0x1 | 0x2
_MAP_PRIVATE = 0x02
_MAP_FIXED = 0x10
_MADV_DONTNEED = 4
_MAP_FAILED = ctypes.c_void_p(-1).value

_PAGE_IS_FILE = 1 << 2
_PAGE_IS_PRESENT = 1 << 3
_PAGE_IS_PFNZERO = 1 << 5
_VEC_LEN = 512


class _PageRegion(ctypes.Structure):
    _fields_ = (("start", ctypes.c_uint64), ("end", ctypes.c_uint64), ("categories", ctypes.c_uint64))


class _ScanArg(ctypes.Structure):
    _fields_ = (
        ("size", ctypes.c_uint64),
        ("flags", ctypes.c_uint64),
        ("start", ctypes.c_uint64),
        ("end", ctypes.c_uint64),
        ("walk_end", ctypes.c_uint64),
        ("vec", ctypes.c_uint64),
        ("vec_len", ctypes.c_uint64),
        ("max_pages", ctypes.c_uint64),
        ("category_inverted", ctypes.c_uint64),
        ("category_mask", ctypes.c_uint64),
        ("category_anyof_mask", ctypes.c_uint64),
        ("return_mask", ctypes.c_uint64),
    )


_PAGEMAP_SCAN = (3 << 30) | (ctypes.sizeof(_ScanArg) << 16) | (ord("f") << 8) | 16


@cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    )
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
    return libc


def _pagemap_fd() -> int:
    """This process's ``/proc/self/pagemap`` (a forked child must not read its parent's, inherited)."""
    return _pagemap_fd_of(os.getpid())


@cache
def _pagemap_fd_of(pid: int) -> int:
    return os.open(f"/proc/{pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)


def map_file_private(address: int, length: int, fd: int, offset: int) -> None:
    """Maps ``fd[offset:offset+length]`` read-write and private at exactly ``address`` (replacing what was there).

    Raises:
        OSError: if the kernel refuses.
    """
    if length == 0:
        return
    result = _libc().mmap(address, length, _PROT_RW, _MAP_PRIVATE | _MAP_FIXED, fd, offset)
    if result in (None, _MAP_FAILED) or result != address:
        err = ctypes.get_errno()
        raise OSError(err, f"mmap at {address:#x}: {os.strerror(err)}")


def discard(address: int, length: int) -> None:
    """Drops the private copies in a private file mapping: the range reads the file again.

    Raises:
        OSError: if the kernel refuses.
    """
    if length and _libc().madvise(address, length, _MADV_DONTNEED) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"madvise at {address:#x}: {os.strerror(err)}")


_force_fallback = os.environ.get("ICP_LOCAL_PAGEMAP_FALLBACK") == "1"


@cache
def scan_method() -> str:
    """``"PAGEMAP_SCAN"`` where the kernel has the ioctl, else ``"/proc/self/pagemap"``."""
    if _force_fallback:
        return "/proc/self/pagemap"
    probe = ctypes.create_string_buffer(2 * PAGE)
    start = (ctypes.addressof(probe) + PAGE - 1) & ~(PAGE - 1)
    try:
        _scan_ioctl(start, start + PAGE)
    except OSError:
        return "/proc/self/pagemap"
    return "PAGEMAP_SCAN"


def written_pages(address: int, length: int) -> list[int]:
    """Indices (from ``address``, in 4 KiB pages) of the pages written in a private mapping.

    Raises:
        OSError: if neither the ioctl nor ``/proc/self/pagemap`` can be read.
    """
    if length == 0:
        return []
    if scan_method() == "PAGEMAP_SCAN":
        return _scan_ioctl(address, address + length)
    return _scan_proc(address, length)


def _scan_ioctl(start: int, end: int) -> list[int]:
    vec = (_PageRegion * _VEC_LEN)()
    arg = _ScanArg(
        size=ctypes.sizeof(_ScanArg),
        start=start,
        end=end,
        vec=ctypes.addressof(vec),
        vec_len=_VEC_LEN,
        category_inverted=_PAGE_IS_FILE | _PAGE_IS_PFNZERO,
        category_mask=_PAGE_IS_PRESENT | _PAGE_IS_FILE | _PAGE_IS_PFNZERO,
        return_mask=_PAGE_IS_PRESENT,
    )
    base = start
    pages: list[int] = []
    while True:
        count = _libc().ioctl(_pagemap_fd(), _PAGEMAP_SCAN, ctypes.byref(arg))
        if count < 0:
            err = ctypes.get_errno() or errno.EINVAL
            raise OSError(err, f"PAGEMAP_SCAN: {os.strerror(err)}")
        for region in vec[:count]:
            pages.extend(range((region.start - base) // PAGE, (region.end - base) // PAGE))
        if arg.walk_end >= end:
            return pages
        arg.start = arg.walk_end


def _scan_proc(address: int, length: int) -> list[int]:
    count = length // PAGE
    entries = array.array("Q")
    entries.frombytes(os.pread(_pagemap_fd(), count * 8, (address // PAGE) * 8))
    present, file_page = 1 << 63, 1 << 61
    return [i for i, entry in enumerate(entries) if entry & present and not entry & file_page]
