"""One file finder for every input format: which file in a folder holds which table.

Extracts arrive as real systems write them: `Coverage.csv`, `PERSON.csv`, `Patient.000.ndjson`.
Names are matched without regard to case, so two files whose names match one table (also
`patients.csv` next to `PATIENTS.csv`) stop the run instead of one being picked silently. A name
that matches but cannot be opened as a file (a dangling symbolic link, a link loop, a folder) is
an error naming it, never an absent file: an absent optional table reads as zero rows and the
manifest would balance. The canonical loader and every adapter find their files here.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from audit.errors import InputError

# the one list of suffixes of a table file (canonical, claims, OMOP), and of the other kinds
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")
NDJSON_SUFFIXES: tuple[str, ...] = (".ndjson", ".ndjson.gz")
DB_SUFFIXES: tuple[str, ...] = (".duckdb", ".ddb")


def check_usable(path: Path) -> Path:
    """``path`` when it can be opened as a file; an InputError naming it when it is a dangling
    symbolic link, a link loop, a folder or not a regular file (a pipe would block the run)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: symbolic link loop; link it to the file itself") from None
        if path.is_symlink():
            target = os.readlink(path)
            raise InputError(
                f"{path}: broken symbolic link (its target {target} does not exist)"
            ) from None
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a folder, not a file; give one file per table")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file")
    return path


@dataclass(frozen=True)
class Listing:
    """The entries of an input folder (one level) by lower-case name: several entries under
    one name when names differ only by letter case. Hidden entries (starting with '.') are
    left out: editors' and file systems' side files (`._patients.csv`) are never inputs."""

    folder: Path
    entries: dict[str, tuple[Path, ...]]

    def has(self, stem: str, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> bool:
        """Whether some entry is named <stem><suffix> (any case)."""
        return any(f"{stem.lower()}{s}" in self.entries for s in suffixes)

    def find(self, stems: Iterable[str], suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> Path | None:
        """The one file named <stem><suffix> (any case); two candidates, or a candidate that
        cannot be opened as a file, is an InputError naming it."""
        matches = [
            path
            for stem in stems
            for suffix in suffixes
            for path in self.entries.get(f"{stem.lower()}{suffix}", ())
        ]
        if len(matches) > 1:
            names = " and ".join(m.name for m in matches)
            raise InputError(f"{self.folder}: both {names} present; keep one file per table")
        return check_usable(matches[0]) if matches else None

    def ending(self, suffixes: tuple[str, ...]) -> list[Path]:
        """Every entry whose name ends with one of ``suffixes`` (any case), in name order."""
        return sorted(
            (p for name, paths in self.entries.items() if name.endswith(suffixes) for p in paths),
            key=lambda p: p.name,
        )


def list_folder(folder: Path) -> Listing:
    """The listing of an input folder; a missing folder, or a file given as one, is an
    InputError."""
    folder = Path(folder)
    if folder.is_file():
        raise InputError(
            f"{folder}: is a file, not a folder (INPUT_DIR is the folder holding the extract)"
        )
    if not folder.is_dir():
        raise InputError(f"{folder}: input folder not found")
    entries: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.name.startswith("."):
            entries.setdefault(path.name.lower(), []).append(path)
    return Listing(folder=folder, entries={k: tuple(v) for k, v in entries.items()})
