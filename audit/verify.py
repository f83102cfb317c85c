"""``spine-audit verify RUN_DIR [INPUT]``: prove that a finished run can be reproduced.

Why: a QI team must be able to show, months later, that last month's figures came from that
extract with those settings. The internal manifest records everything that decides the
outputs (settings, period, input format, pack, input files' SHA-256, versions) and the SHA-256
of every file written (``outputs``). Verify reruns the audit from that record into a temporary
folder outside RUN_DIR (removed afterwards) and compares, file by file, the run folder, the
record and the rerun. When something differs it says why where it can: an input file whose
SHA-256 is not the recorded one, a library or pack version other than the recorded one, a file
edited after the run (its hash is not the recorded one, though the rerun matches the record).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from audit.config import Settings, load_settings
from audit.errors import ConfigError, UserError
from audit.inputs import sha256
from audit.outputs import MANIFEST_NAME, versions
from audit.pack import resolve_pack
from audit.publish import DONE, INTERNAL, MARKER_NAME, read_marker
from audit.run import run_audit

MANIFEST_FILE = f"{INTERNAL}/{MANIFEST_NAME}"
# manifest keys that say how and where a run was started, not what it computed
NOT_COMPARED = ("invocation",)
# how the versions are named in a message
VERSION_NAMES = {
    "python": "Python",
    "duckdb": "DuckDB",
    "pyarrow": "pyarrow",
    "pandas": "pandas",
    "jinja2": "Jinja2",
    "spine-audit": "spine-audit",
    "pack": "the pack",
    "pack_sha256": "the pack's files (SHA-256)",
}


class NotARunFolder(UserError):
    """RUN_DIR is not a finished spine-audit output folder with a verifiable manifest."""


@dataclass
class Verification:
    """What verify found: the files compared identical, what differs, and the known causes."""

    identical: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.causes


def read_run(run_dir: Path) -> dict[str, Any]:
    """The internal manifest of a finished run folder, or NotARunFolder (exit 2)."""
    marker = read_marker(run_dir) if run_dir.is_dir() else None
    if marker is None or marker.get("state") != DONE:
        raise NotARunFolder(f"{run_dir}: not a spine-audit output folder (no valid {MARKER_NAME})")
    try:
        manifest = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise NotARunFolder(f"{run_dir}: {MANIFEST_FILE} is missing or unreadable") from None
    if not isinstance(manifest, dict) or manifest.get("run_id") != marker["run_id"]:
        raise NotARunFolder(f"{run_dir / MANIFEST_FILE}: not the manifest of this run")
    if not isinstance(manifest.get("outputs"), dict) or not isinstance(
        manifest.get("versions"), dict
    ):
        raise NotARunFolder(
            f"{run_dir}: made by a spine-audit that did not record its outputs' SHA-256; "
            "rerun it with this version to make it verifiable"
        )
    return manifest


def _recorded_settings(manifest: dict[str, Any]) -> Settings:
    recorded = dict(manifest.get("settings") or {})
    try:
        settings = load_settings(None, **recorded)
        # checked as the command line's, kept in the recorded order (the manifests show it)
        statuses = recorded.get("non_counting_statuses")
        if isinstance(statuses, list):
            settings = replace(settings, non_counting_statuses=tuple(statuses))
        return settings
    except TypeError:
        unknown = sorted(set(recorded) - set(Settings.__dataclass_fields__))
        raise NotARunFolder(
            f"{MANIFEST_FILE}: records settings this version does not know: {', '.join(unknown)}"
        ) from None
    except ConfigError as exc:
        raise NotARunFolder(f"{MANIFEST_FILE}: its recorded settings are invalid: {exc}") from None


def _iso(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` but the marker and the manifest: path -> SHA-256."""
    out: dict[str, str] = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel not in (MARKER_NAME, MANIFEST_FILE):
                out[rel] = "(a link)" if path.is_symlink() else sha256(path)
    return out


def version_causes(manifest: dict[str, Any]) -> list[str]:
    """Each recorded version (libraries, tool, pack) that differs on this machine, named."""
    recorded = manifest.get("versions") or {}
    pack = str((manifest.get("settings") or {}).get("pack", ""))
    try:
        here = versions(resolve_pack(pack))
    except UserError as exc:
        return [f"the recorded pack cannot be loaded here: {exc}"]
    return [
        f"{VERSION_NAMES.get(k, k)} differs: recorded {recorded[k]}, here {here.get(k)}"
        for k in recorded
        if recorded[k] != here.get(k)
    ]


def input_causes(manifest: dict[str, Any], input_dir: Path) -> list[str]:
    """Each recorded input file that is missing or whose SHA-256 is not the recorded one."""
    causes = []
    for entry in manifest.get("inputs") or []:
        name, recorded = entry.get("file"), entry.get("sha256")
        if not name or not recorded:
            continue
        path = input_dir / name
        if not path.is_file():
            causes.append(f"input file {name} is missing from {input_dir}")
        elif sha256(path) != recorded:
            causes.append(f"input file {name} changed: its SHA-256 is not the manifest's")
    return causes


def _manifest_keys_differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    keys = [k for k in dict.fromkeys([*a, *b]) if k not in NOT_COMPARED]
    return [k for k in keys if a.get(k) != b.get(k)]


def compare(
    present: dict[str, str], recorded: dict[str, str], rerun: dict[str, str]
) -> tuple[list[str], list[str]]:
    """Identical files and one line per file that differs between folder, record and rerun."""
    identical, differs = [], []
    for rel in sorted({*present, *recorded, *rerun}):
        have, rec, new = present.get(rel), recorded.get(rel), rerun.get(rel)
        if have is not None and have == rec == new:
            identical.append(rel)
        elif rec is None and new is None:
            differs.append(f"{rel}: in the run folder, but the run did not write it")
        elif rec is None:
            differs.append(f"{rel}: written by the rerun, not recorded by the run")
        elif have is None:
            differs.append(f"{rel}: recorded, but missing from the run folder")
        elif have != rec and new == rec:
            differs.append(
                f"{rel}: edited after the run (its SHA-256 is not the recorded one; "
                "the rerun matches the record)"
            )
        elif have != rec:
            differs.append(f"{rel}: its SHA-256 is not the recorded one, nor does the rerun match")
        elif new is None:
            differs.append(f"{rel}: recorded, but the rerun did not write it")
        else:
            differs.append(f"{rel}: the rerun gives other bytes than the run")
    return identical, differs


def verify_run(run_dir: Path, input_dir: Path | None = None) -> Verification:
    """Rerun the run recorded in ``run_dir`` and compare; NotARunFolder (exit 2) when it is not
    a verifiable run folder, a UserError when the input folder is not there."""
    run_dir = Path(run_dir)
    manifest = read_run(run_dir)
    settings = _recorded_settings(manifest)
    invocation = manifest.get("invocation") or {}
    if input_dir is None:
        if not invocation.get("input_dir"):
            raise NotARunFolder(f"{MANIFEST_FILE}: records no input folder; give INPUT")
        input_dir = Path(invocation["input_dir"])
    if not Path(input_dir).is_dir():
        raise UserError(f"{input_dir}: the input folder is not there (give INPUT)")
    period = manifest.get("period") or {}
    result = Verification()
    result.causes = version_causes(manifest) + input_causes(manifest, Path(input_dir))
    scratch = Path(tempfile.mkdtemp(prefix="spine-audit-verify-"))
    if scratch.resolve().is_relative_to(run_dir.resolve()):  # never write inside RUN_DIR
        shutil.rmtree(scratch)
        scratch = Path(tempfile.mkdtemp(prefix="spine-audit-verify-", dir=run_dir.parent))
    try:
        rerun_dir = scratch / "run"
        try:
            run_audit(
                Path(input_dir),
                rerun_dir,
                settings,
                _iso(period.get("from")),
                _iso(period.get("to")),
                fmt=manifest.get("input_format"),
            )
        except UserError as exc:
            result.differences.append(f"the rerun failed: {exc}")
            return result
        rerun_manifest = json.loads((rerun_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        result.identical, result.differences = compare(
            _files(run_dir), manifest["outputs"], _files(rerun_dir)
        )
        keys = _manifest_keys_differing(manifest, rerun_manifest)
        if keys:
            result.differences.append(
                f"{MANIFEST_FILE}: differs from the rerun's in {', '.join(keys)}"
            )
        else:
            result.identical.append(MANIFEST_FILE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result
