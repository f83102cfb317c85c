"""The output folder spine-audit owns: checked before any work, written aside, moved into place.

Why a module of its own: an audit is pointed at folders that hold the only copy of an extract,
web projects and earlier audits. The tool must never delete or overwrite what it did not write,
and a failed or killed run must never leave a half-written report that looks complete. So:

* ``--out`` is checked before any work (:func:`check_out_dir`): it may not be the input, inside
  it or above it, and an existing folder is replaced only when it holds a valid ownership marker
  (:data:`MARKER_NAME`) and nothing but the files that marker lists.
* Outputs are written into a temporary folder beside ``--out`` (:class:`OutputFolder`), marked
  as a run in progress with the writing process's id, and moved into place at the end. Leftover
  temporary folders of killed runs (their process is gone) are removed by the next run into
  the same place, or named in a warning when they cannot be.
* The folder is created owner-only (mode 0700): ``internal/`` holds patient identifiers.

Layout of a finished folder (docs/outputs.md)::

    OUT/.spine-audit-output.json   ownership marker: tool, run id, every file written and its size
    OUT/index.html                 landing page: what the two sub-folders hold
    OUT/shareable/                 may be shared: pages, site summary, public manifest
    OUT/internal/                  not to be shared: sessions, quarantine, full manifest ...
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import OutputFolderError

TOOL = "spine-audit"
MARKER_NAME = ".spine-audit-output.json"
LAYOUT_VERSION = 1
SHAREABLE = "shareable"
INTERNAL = "internal"
# state of a marker: a finished folder, or a temporary folder a run is still writing
DONE, WRITING = "complete", "writing"


def _resolve(path: Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def _real(path: Path) -> Path:
    """The path with every symbolic link resolved (for comparing locations)."""
    return Path(os.path.realpath(path))


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The ownership marker of ``folder`` when it is there and valid, else None."""
    path = folder / MARKER_NAME
    if path.is_symlink() or not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("tool") != TOOL:
        return None
    if not isinstance(marker.get("files"), dict) or not isinstance(marker.get("run_id"), str):
        return None
    return marker


def _listing(folder: Path) -> dict[str, int | None]:
    """Every entry under ``folder`` (relative POSIX path -> size; None for a folder or link)."""
    out: dict[str, int | None] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in dirs:
            p = base / name
            out[p.relative_to(folder).as_posix() + "/"] = None
            if p.is_symlink():
                out[p.relative_to(folder).as_posix()] = None  # a link is never ours
        for name in files:
            p = base / name
            rel = p.relative_to(folder).as_posix()
            out[rel] = None if p.is_symlink() else p.stat().st_size
    return out


def foreign_entries(folder: Path, marker: dict[str, Any]) -> list[str]:
    """What ``folder`` holds that the run named by ``marker`` did not write: files it does not
    list, files whose size changed, links, and folders that hold none of its files."""
    ours: dict[str, Any] = marker["files"]
    ours_dirs = {
        "/".join(Path(f).parts[:i]) + "/" for f in ours for i in range(1, len(Path(f).parts))
    }
    foreign = []
    for rel, size in sorted(_listing(folder).items()):
        if rel == MARKER_NAME:
            continue
        if rel.endswith("/"):
            if rel not in ours_dirs:
                foreign.append(rel)
            continue
        if rel not in ours or size is None or size != ours[rel]:
            foreign.append(rel)
    return foreign


def check_out_dir(out_dir: Path, inputs: Iterable[Path] = ()) -> Path:
    """The resolved output folder, or an OutputFolderError (exit 2) naming it and the reason.

    Called before any work, so a bad ``--out`` costs nothing. Refused: a path that exists and
    is not a folder; the input itself, a folder inside it or a folder holding it; a folder that
    is not empty and holds no valid ownership marker; a folder with a marker that also holds
    anything that run did not write.
    """
    out = _resolve(out_dir)
    real_out = _real(out)
    for given in inputs:
        source = _real(_resolve(given))
        if real_out == source:
            raise OutputFolderError(f"{out}: --out is the input {given}; choose another folder")
        if real_out.is_relative_to(source):
            raise OutputFolderError(
                f"{out}: --out is inside the input folder {given}; choose a folder outside it"
            )
        if source.is_relative_to(real_out):
            raise OutputFolderError(
                f"{out}: --out holds the input {given}; replacing it would delete the input"
            )
    if out.is_symlink():
        raise OutputFolderError(f"{out}: --out is a symbolic link; give the folder itself")
    if not out.exists():
        return out
    if not out.is_dir():
        raise OutputFolderError(f"{out}: exists and is not a folder")
    try:
        empty = not any(out.iterdir())
    except OSError as exc:
        raise OutputFolderError(f"{out}: cannot read the folder ({exc.strerror or exc})") from None
    if empty:
        return out
    marker = read_marker(out)
    if marker is None or marker.get("state") != DONE:
        raise OutputFolderError(
            f"{out}: folder is not empty and was not written by spine-audit "
            f"(no valid {MARKER_NAME}); choose another --out"
        )
    foreign = foreign_entries(out, marker)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise OutputFolderError(
            f"{out}: holds {foreign[0]!r}{more}, which spine-audit did not write; "
            "move it away or choose another --out"
        )
    return out


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_leftovers(out: Path, warn: Callable[[str], None] | None = None) -> list[Path]:
    """Remove the temporary folders of killed runs beside ``out`` (``.<name>.tmp-*`` and
    ``.<name>.old-*`` whose marker says a run was writing and whose process is gone). A folder
    without our marker is never touched; one that cannot be removed is named in a warning."""
    removed: list[Path] = []
    parent = out.parent
    if not parent.is_dir():
        return removed
    for prefix in (f".{out.name}.tmp-", f".{out.name}.old-"):
        for candidate in sorted(parent.glob(prefix + "*")):
            if candidate.is_symlink() or not candidate.is_dir():
                continue
            marker = read_marker(candidate)
            if marker is None:  # an .old- folder holds the replaced output one level down
                inner = candidate / out.name
                marker = read_marker(inner) if inner.is_dir() else None
                if marker is None or marker.get("state") != DONE:
                    continue
            elif marker.get("state") != WRITING or _pid_alive(marker.get("pid")):
                continue
            try:
                shutil.rmtree(candidate)
                removed.append(candidate)
            except OSError as exc:
                if warn is not None:
                    warn(
                        f"warning: cannot remove {candidate}, left by an interrupted run "
                        f"({exc.strerror or exc}); it may hold patient identifiers"
                    )
    return removed


@dataclass
class OutputFolder:
    """A temporary folder beside ``out`` that becomes ``out`` when :meth:`publish` is called.

    Use as a context manager: on any failure the temporary folder, and the folders above
    ``out`` that were created for it, are removed, and ``out`` is left as it was.
    """

    out: Path
    inputs: tuple[Path, ...] = ()
    warn: Callable[[str], None] | None = None
    tmp: Path = field(init=False)
    _created: list[Path] = field(init=False, default_factory=list)
    _published: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.out = check_out_dir(self.out, self.inputs)
        self._created = [d for d in (self.out.parent, *self.out.parent.parents) if not d.exists()]
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(self.out, self.warn)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=self.out.parent))
            self._write_marker(self.tmp, {"state": WRITING, "pid": os.getpid()})
        except OSError as exc:
            self._remove_created()
            raise OutputFolderError(
                f"{self.out}: cannot write the outputs there ({exc.strerror or exc})"
            ) from None

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if not self._published:
            self.discard()

    @property
    def shareable(self) -> Path:
        """``shareable/`` of the temporary folder, created on first use."""
        folder = self.tmp / SHAREABLE
        folder.mkdir(exist_ok=True)
        return folder

    @property
    def internal(self) -> Path:
        """``internal/`` of the temporary folder, created on first use."""
        folder = self.tmp / INTERNAL
        folder.mkdir(exist_ok=True)
        return folder

    def files(self) -> list[str]:
        """Every file written so far (relative POSIX paths, sorted), the marker excepted."""
        return sorted(
            rel
            for rel, size in _listing(self.tmp).items()
            if size is not None and rel != MARKER_NAME
        )

    def publish(self, run_id: str) -> Path:
        """Mark the folder as a complete run of ``run_id`` and move it into place, replacing an
        earlier run's folder (checked again now: it may have changed while this run worked)."""
        files = {rel: (self.tmp / rel).stat().st_size for rel in self.files()}
        self._write_marker(self.tmp, {"state": DONE, "run_id": run_id, "files": files})
        check_out_dir(self.out, self.inputs)
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent))
            self.out.rename(old / self.out.name)
            self.tmp.rename(self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.tmp.rename(self.out)
        self._published = True
        return self.out

    def discard(self) -> None:
        """Remove the temporary folder and the folders created for it (a failed run)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._remove_created()

    def _remove_created(self) -> None:
        for folder in self._created:  # deepest first, while empty
            try:
                folder.rmdir()
            except OSError:
                return

    def _write_marker(self, folder: Path, fields: dict[str, Any]) -> None:
        marker = {
            "tool": TOOL,
            "layout": LAYOUT_VERSION,
            "run_id": fields.pop("run_id", ""),
            **fields,
        }
        marker.setdefault("files", {})
        (folder / MARKER_NAME).write_text(
            json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
