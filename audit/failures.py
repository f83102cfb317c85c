"""Failures of the machine or of an input file, told apart from bugs in one place.

DuckDB raises the same few exception classes for a bug in our SQL and for a full disk, and at
any query: a Parquet input is read in place, so a damaged page is found by whichever step first
scans it; memory runs out wherever the run is largest. The exit code follows the cause, so the
commands that run DuckDB (``run``, ``demo``, ``validate``) go through ``user_errors``, which
turns a failure into a UserError (exit 2, one line naming the cause) only when the cause is
plainly outside the code:

* DuckDB out of memory: the memory limit is too small for the run, or the spill folder is full;
* a DuckDB I/O error naming the spill folder, the output folder or an input file;
* DuckDB unable to read an input file it names (a damaged Parquet page, a truncated file), or
  a DuckDB failure that names no file when a Parquet input, decoded alone, fails too;
* a Python OSError writing the outputs: a full disk, a read-only or forbidden folder.

Everything else keeps its class and stays an internal error (exit 1): a bug is never passed off
as the user's doing. An input error raised while DuckDB was out of memory or spill room is
re-told, since the file is not to blame. DuckDB's Python client reports Ctrl-C during a query as
``RuntimeError("Query interrupted")``: that becomes KeyboardInterrupt again (exit 130).
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from audit.config import Settings
from audit.errors import InputError, UserError

SPILL_PREFIX = "spine-audit-spill-"  # the default spill folder's name (DuckDBEngine.connect)
INTERRUPTED = "Query interrupted"  # DuckDB's Python client, on SIGINT during a query
# OS errors that are the disk's or the folder's, never the code's
_DISK_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
)
# ... and those that stop a file or folder being read
_READ_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EIO})
_OS_REASONS = (
    "No space left on device",
    "Disk quota exceeded",
    "File too large",
    "Read-only file system",
    "Permission denied",
    "Input/output error",
    "Not a directory",
    "File exists",
)
# DuckDB's classes for a failure that a damaged input file can also cause (with the base class
# itself, which DuckDB uses for "Corrupted file?")
_DAMAGE_CLASSES = (
    duckdb.InvalidInputException,
    duckdb.IOException,
    duckdb.InternalException,
    duckdb.SerializationException,
)
_QUOTED = re.compile(r'"([^"]+)"|\'([^\']+)\'')
_ERROR_PREFIX = re.compile(r"^[A-Za-z ]*Error: ")


class ResourceError(UserError):
    """The machine cannot carry the run as set: memory, the spill folder, the output disk."""


@contextmanager
def user_errors(settings: Settings, input_dir: Path, out_dir: Path | None = None) -> Iterator[None]:
    """Re-raise a failure caused by the environment or an input file as a UserError."""
    try:
        yield
    except Exception as exc:
        if _interrupted(exc):
            raise KeyboardInterrupt from None
        try:
            told = explain(exc, settings, Path(input_dir), out_dir)
        except Exception:  # noqa: BLE001 - telling must never hide the failure it tells
            told = None
        if told is None:
            raise
        raise told from None


def explain(
    exc: BaseException, settings: Settings, input_dir: Path, out_dir: Path | None
) -> UserError | None:
    """The user error ``exc`` stands for, or None when it is (or may be) a bug."""
    for cause in _chain(exc):
        if isinstance(cause, duckdb.OutOfMemoryException):
            return _memory(cause, settings)
        if isinstance(cause, duckdb.IOException | duckdb.InvalidInputException):
            told = _named_place(cause, settings, input_dir, out_dir)
            # an input error already raised names its file and row: only the machine re-tells it
            if isinstance(told, ResourceError) or (told and not isinstance(exc, UserError)):
                return told
        if isinstance(cause, OSError) and cause.filename and cause.errno in _READ_ERRNOS:
            named = Path(cause.filename)
            if _within(named, input_dir) and not isinstance(exc, UserError):
                return InputError(
                    f"{_shown_name(named, input_dir) or named}: cannot read: "
                    f"{cause.strerror or cause}"
                )
        if isinstance(cause, OSError) and out_dir is not None and not isinstance(exc, UserError):
            named = Path(cause.filename) if cause.filename else None
            if named is None and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                named = Path(out_dir)  # only the outputs are written from Python
            if named is not None and cause.errno in _DISK_ERRNOS and _in_out(named, out_dir):
                return _cannot_write(Path(out_dir), cause.strerror or str(cause))
    if not isinstance(exc, UserError) and any(_maybe_damage(c) for c in _chain(exc)):
        return damaged_parquet(input_dir, settings)
    return None


def _maybe_damage(exc: BaseException) -> bool:
    """A DuckDB failure a damaged file can cause without naming it ("Corrupted file?")."""
    return type(exc) is duckdb.Error or isinstance(exc, _DAMAGE_CLASSES)


def damaged_parquet(input_dir: Path, settings: Settings) -> InputError | None:
    """The first Parquet input that cannot be decoded on its own, named with DuckDB's reason.

    Parquet inputs are read in place, so a damaged page is found by whichever step first decodes
    it, often with a message that names no file. Only on that failure path is each Parquet file
    of the input folder decoded in full (every value of every column hashed: counts and min/max
    come from the file's statistics and would not touch the pages). A file that fails alone is
    the cause; when every file decodes, the failure stays a bug.
    """
    folder = Path(input_dir)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith(".parquet"))
    config = {"memory_limit": settings.memory_limit} if settings.memory_limit else {}
    if settings.threads:
        config["threads"] = settings.threads
    for path in files:
        try:
            with duckdb.connect(":memory:", config=config) as con:
                con.execute(
                    "SELECT bit_xor(hash(COLUMNS(*))) FROM read_parquet($p)", {"p": str(path)}
                ).fetchall()
        except duckdb.OutOfMemoryException:
            return None  # cannot tell: the run's own error stands
        except duckdb.Error as exc:
            detail = _first_line(str(exc)).split(str(path), 1)[-1].lstrip("\"': ")
            return _damaged(path.name, detail or _first_line(str(exc)))
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what it was raised from or while handling (a few levels)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _interrupted(exc: BaseException) -> bool:
    return any(
        isinstance(c, duckdb.InterruptException)
        or (type(c) is RuntimeError and str(c) == INTERRUPTED)
        for c in _chain(exc)
    )


def _memory(exc: BaseException, settings: Settings) -> ResourceError:
    limit = settings.memory_limit
    text = str(exc)
    if "offload" in text:  # DuckDB had no room left to spill the memory it must free
        return ResourceError(
            f"the run needs more memory than --memory-limit {limit} allows and the spill folder "
            f"{_spill_folder(settings, text)} is full; free space there, choose another "
            "--temp-dir, or raise --memory-limit"
        )
    allows = f"--memory-limit {limit} allows" if limit else "DuckDB's default memory limit allows"
    return ResourceError(
        f"the run needs more memory than {allows}; raise it (--memory-limit, or memory_limit "
        f"in the --config file; this machine has {_machine_memory()}) or use fewer --threads"
    )


def _named_place(
    exc: BaseException, settings: Settings, input_dir: Path, out_dir: Path | None
) -> UserError | None:
    """A DuckDB I/O or input error that names the spill folder, the outputs or an input file."""
    text = str(exc)
    reason = next((r for r in _OS_REASONS if r in text), None)
    for path in _paths_in(text):
        if isinstance(exc, duckdb.IOException) and _in_spill(path, settings):
            why = reason or _first_line(text)
            return ResourceError(
                f"cannot spill to {_spill_folder(settings, text)} (--temp-dir): {why}; free "
                "space there or choose another --temp-dir"
            )
        if isinstance(exc, duckdb.IOException) and out_dir is not None and _in_out(path, out_dir):
            return _cannot_write(Path(out_dir), reason or _first_line(text))
        if _exists(path) and _within(path, input_dir):  # a file that is there: not "MiB/1.7"
            name = _shown_name(path, input_dir)
            if reason:
                return InputError(f"{name}: cannot read the file: {reason}")
            first = _first_line(text)
            detail = first.split(_raw(text, path), 1)[-1].lstrip("\"': ") or first
            return _damaged(name, detail)
    return None


def _damaged(name: str, detail: str) -> InputError:
    hint = "" if "corrupt" in detail.lower() else " (damaged or incomplete?)"
    return InputError(f"{name}: cannot read the file: {detail}{hint}")


def _cannot_write(out_dir: Path, reason: str) -> ResourceError:
    full = any(r in reason for r in _OS_REASONS[:3])  # no space, quota, file too large
    advice = "free space there or choose another --out" if full else "choose another --out"
    return ResourceError(f"cannot write the outputs in {out_dir}: {reason}; {advice}")


def _paths_in(text: str) -> list[Path]:
    """Paths a DuckDB message names: quoted ones, then any word that looks like a path."""
    quoted = [a or b for a, b in _QUOTED.findall(text)]
    words = [w.strip("\\\"',:;()[]{}") for w in text.split()]
    return [Path(p) for p in [*quoted, *(w for w in words if "/" in w or os.sep in w)] if p]


def _raw(text: str, path: Path) -> str:
    return str(path) if str(path) in text else path.name


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a "path" from a message: too long, a NUL in it
        return False


def _within(path: Path, root: Path) -> bool:
    try:
        resolved, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return resolved == base or resolved.is_relative_to(base)


def _in_spill(path: Path, settings: Settings) -> bool:
    if settings.temp_dir:
        return _within(path, Path(settings.temp_dir))
    return any(p.name.startswith(SPILL_PREFIX) for p in (path, *path.parents))


def _in_out(path: Path, out_dir: Path) -> bool:
    """Inside --out, or inside the temporary folder the outputs are written to beside it."""
    out = Path(out_dir).resolve()
    try:
        relative = path.resolve().relative_to(out.parent)
    except (ValueError, OSError, RuntimeError):
        return False
    first = relative.parts[0] if relative.parts else ""
    return first == out.name or first.startswith(f".{out.name}.")


def _spill_folder(settings: Settings, text: str) -> str:
    if settings.temp_dir:
        return str(settings.temp_dir)
    named = [p for p in _paths_in(text) if _in_spill(p, settings)]
    for path in named:
        for folder in (path, *path.parents):
            if folder.name.startswith(SPILL_PREFIX):
                return str(folder.parent)
    return tempfile.gettempdir()


def _shown_name(path: Path, input_dir: Path) -> str:
    """The file's name within the input folder (the folder's own name when it is the folder)."""
    try:
        relative = path.resolve().relative_to(input_dir.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return path.name
    return str(input_dir) if relative == "." else relative


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return _ERROR_PREFIX.sub("", lines[0]) if lines else text


def _machine_memory() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "an unknown amount of memory"
    return f"{total / 2**30:.1f} GiB"
