"""Compressed exports: a ``.gz`` of any readable file, and ``.zip`` archives of them (Amplitude's
export is a zip of gzipped hourly JSON lines files, ``412873/412873_2026-11-20_14#0.json.gz``).

Sizes are checked before and while decompressing, so that a zip bomb is refused with a clear
error rather than filling the memory or the disk.
"""

from __future__ import annotations

import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

import pyarrow as pa

try:  # ISA-L inflates gzip two to three times faster than zlib, with zlib's interface
    from isal import isal_zlib as inflate
except ImportError:  # a platform without its wheel: the standard library's zlib
    inflate = zlib

from ..errors import InputError, Problem, ProblemCode

MAX_UNCOMPRESSED_BYTES = 20 * 1024**3  # 20 GB: far past any laptop export
# Exports compress 5 to 30 times (CSV, JSON lines, a workbook's sheets); a file that unpacks
# to more than MAX_RATIO times its size, once past RATIO_CHECKED_FROM, is a compression bomb
# or no export at all: refused before it fills the memory or runs for minutes
MAX_RATIO = 100
RATIO_CHECKED_FROM = 10 * 1024**2  # 10 MB: a small file may compress as well as it likes
MAX_SHEET_BYTES = 1024**3  # 1 GB of sheet XML: many minutes to parse; past this, CSV
MAX_MEMBERS = 100_000  # a year of Amplitude's hourly parts is about 9,000
BLOCK = 1 << 24  # decompressed 16 MB at a time
READABLE = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".xlsx", ".parquet", ".pq")


def inner_suffix(name: str) -> str:
    """The format suffix of a file name, looking through ``.gz``: ``x.json.gz`` -> ``.json``."""
    path = PurePosixPath(name.lower())
    if path.suffix == ".gz":
        path = path.with_suffix("")
    return path.suffix


@dataclass
class Budget:
    """What is left of the uncompressed size allowed for one input."""

    label: str
    left: int = field(default_factory=lambda: MAX_UNCOMPRESSED_BYTES)
    # the size of the compressed file, for the ratio check (None: not checked)
    compressed: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, size: int, member: str) -> None:
        with self._lock:  # members are read by several threads
            self.left -= size
            left = self.left
        if left < 0:
            raise too_large(self.label, f"{member} takes the uncompressed size past "
                            f"{MAX_UNCOMPRESSED_BYTES // 1024**3} GB")
        if self.compressed is not None:
            check_ratio(self.label, MAX_UNCOMPRESSED_BYTES - left, self.compressed)


def budget_for(path: Path) -> Budget:
    """The budget of one compressed input: the size cap, and the ratio to its own size."""
    return Budget(str(path), compressed=path.stat().st_size)


def check_ratio(label: str, unpacked: int, compressed: int) -> None:
    if unpacked > RATIO_CHECKED_FROM and unpacked > MAX_RATIO * max(compressed, 1):
        raise InputError(f"{label}: unpacks to more than {MAX_RATIO} times its size", [Problem(
            label, f"the file unpacks to more than {MAX_RATIO} times its size ({_size(compressed)} "
                   f"to over {_size(unpacked)}): exports compress far less, so this is a "
                   "compression bomb or not an export",
            fix="if it is a genuine export, extract it with an archive tool and give csops "
                "the extracted file, or export it again in smaller parts",
            code=ProblemCode.ARCHIVE_TOO_LARGE)])


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,.0f} {unit}"
        count /= 1024  # type: ignore[assignment]
    raise AssertionError


def check_workbook(source: Path | IO[bytes], label: str) -> None:
    """An .xlsx is a zip: its parts' declared sizes (which Python's zip reader never reads
    past) against ``MAX_SHEET_BYTES`` and ``MAX_RATIO``, before the workbook is parsed."""
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the workbook reader says it cannot read it
    finally:
        if not isinstance(source, Path):
            source.seek(0)
    unpacked = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    if unpacked > MAX_SHEET_BYTES:
        raise InputError(f"{label}: too large to read as a workbook", [Problem(
            label, f"the workbook unpacks to {unpacked / 1024**3:,.1f} GB (at most "
                   f"{MAX_SHEET_BYTES / 1024**3:,.0f} GB are read)",
            fix="export the report as CSV, or in smaller parts",
            code=ProblemCode.ARCHIVE_TOO_LARGE)])
    check_ratio(label, unpacked, compressed)


def too_large(label: str, message: str) -> InputError:
    return InputError(f"{label}: too large to read", [Problem(
        label, message, fix="export a shorter date range, or unpack the archive and give its "
                            "files one by one", code=ProblemCode.ARCHIVE_TOO_LARGE)])


def gunzip(data: bytes, label: str, budget: Budget) -> bytes:
    """``data`` (one gzip stream or several in a row) decompressed, stopping as soon as the
    budget is spent: zlib is asked for a block at a time, never for all."""
    blocks = []
    try:
        while data:
            stream = inflate.decompressobj(wbits=31)
            pending = data
            while pending and not stream.eof:
                block = stream.decompress(pending, BLOCK)
                budget.take(len(block), label)
                blocks.append(block)
                pending = stream.unconsumed_tail
            if not stream.eof:
                raise zlib.error("the gzip data is cut short")
            data = stream.unused_data
    except (zlib.error, inflate.error) as error:
        raise InputError(f"{label}: not a readable gzip file", [Problem(
            label, str(error).splitlines()[0], fix="download the file again",
            code=ProblemCode.UNREADABLE_FILE)]) from None
    return blocks[0] if len(blocks) == 1 else b"".join(blocks)


def gunzip_file(path: Path, target: Path, budget: Budget) -> None:
    """Decompress ``path`` into ``target``, in blocks, within the budget."""
    try:
        with pa.input_stream(str(path), compression="gzip") as stream, \
                target.open("wb") as out:
            while block := stream.read(BLOCK):
                budget.take(len(block), str(path))
                out.write(block)
    except (OSError, pa.ArrowInvalid) as error:
        raise InputError(f"{path}: not a readable gzip file", [Problem(
            str(path), str(error).splitlines()[0], fix="download the file again",
            code=ProblemCode.UNREADABLE_FILE)]) from None


@dataclass
class Member:
    """One readable file inside a zip."""

    label: str  # export.zip!412873/412873_2026-11-20_14#0.json.gz
    info: zipfile.ZipInfo
    suffix: str  # its format: .json, .csv, ...


def zip_members(path: Path, archive: zipfile.ZipFile) -> list[Member]:
    """The readable members of ``archive`` (folders, macOS metadata and Amplitude's
    ``_complete`` markers left out), after checking the declared sizes."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise too_large(str(path), f"the archive holds {len(infos):,} files (at most "
                                   f"{MAX_MEMBERS:,} are read)")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise too_large(str(path), f"the archive unpacks to {declared / 1024**3:,.1f} GB")
    check_ratio(str(path), declared, path.stat().st_size)
    members = []
    for info in sorted(infos, key=lambda info: _natural(info.filename)):
        name = PurePosixPath(info.filename)
        if info.is_dir() or name.parts[0] == "__MACOSX" or name.name.startswith("."):
            continue
        suffix = inner_suffix(info.filename)
        if suffix in READABLE:
            members.append(Member(f"{path}!{info.filename}", info, suffix))
    if not members:
        raise InputError(f"{path}: no readable file in the archive", [Problem(
            str(path), "the archive holds no CSV, JSON, xlsx or Parquet file",
            fix="put the exports in the archive, or give them unpacked",
            code=ProblemCode.UNREADABLE_FILE)])
    return members


def _natural(name: str) -> list:
    """Hours are not zero-padded (``_9#0`` before ``_14#0``): sort digits as numbers."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def read_member(archive: zipfile.ZipFile, member: Member, budget: Budget) -> bytes:
    """A member's bytes, gunzipped when its name ends in ``.gz``; the budget is checked on the
    bytes actually produced, not only on the sizes the archive declares."""
    chunks = []
    with archive.open(member.info) as stream:
        while block := stream.read(BLOCK):
            budget.take(len(block), member.label)
            chunks.append(block)
    data = b"".join(chunks)
    if member.info.filename.lower().endswith(".gz"):
        budget.take(-len(data), member.label)  # the compressed bytes are not kept
        data = gunzip(data, member.label, budget)
    return data


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{path}: not a readable zip archive", [Problem(
            str(path), str(error), fix="download the archive again",
            code=ProblemCode.UNREADABLE_FILE)]) from None
