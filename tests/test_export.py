"""`spine-audit export` (issue 13, docs/export.md): pseudonyms under a secret key that link
exports with the same key and no others, the allow-list, top-coded ages, the date modes, the
Hive partitions and the OMOP cohort table."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from audit import export as export_module
from audit.cli import main
from audit.errors import OutputFolderError
from audit.export import (
    SHIFT_DAYS,
    TOP_AGE,
    ExportError,
    ExportKey,
    export_run,
    load_schema,
)
from audit.publish import MARKER_NAME
from audit.resources import sample_data_dir, sql_dir
from tests.helpers import cli, one_line_error
from tests.test_portability import FORBIDDEN

ROOT = Path(__file__).resolve().parent.parent
OMOP_FIXTURE = ROOT / "sample_data" / "formats" / "omop"
KEY_A = bytes(range(1, 33))
KEY_B = bytes(range(101, 133))
EXPORT_SQL = sorted((sql_dir() / "export").glob("*.sql"))


def _run(out: Path, *options: str, input_dir: Path | None = None) -> Path:
    args = ["run", str(input_dir or sample_data_dir()), "--out", str(out), "--as-of"]
    assert main([*args, "2026-12-01", "-q", *options]) == 0
    return out


def _key_file(folder: Path, key: bytes) -> Path:
    path = folder / f"key-{key[0]}.hex"
    path.write_text(key.hex() + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    return {
        "all": _run(base / "all"),
        "2023": _run(base / "y2023", "--from", "2023-01-01", "--to", "2023-12-31"),
        "2024": _run(base / "y2024", "--from", "2024-01-01", "--to", "2024-12-31"),
        "omop": _run(base / "omop", input_dir=OMOP_FIXTURE),
    }


@pytest.fixture(scope="module")
def month_export(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports") / "month"
    export_run(runs["all"], out, ExportKey(KEY_A))
    return out


def _sessions(path: Path, columns: str = "*") -> list[tuple]:
    con = duckdb.connect()
    try:
        if (path / "internal").is_dir():
            source = str(path / "internal" / "sessions.parquet")
            return con.execute(f"SELECT {columns} FROM read_parquet($p)", {"p": source}).fetchall()
        glob = str(path / "sessions" / "*" / "*" / "*.parquet")
        return con.execute(
            f"SELECT {columns} FROM read_parquet($p, hive_partitioning = true)", {"p": glob}
        ).fetchall()
    finally:
        con.close()


def _patients(path: Path) -> set[str]:
    column = "patient_id" if (path / "internal").is_dir() else "patient_pseudonym"
    return {r[0] for r in _sessions(path, f"DISTINCT {column}")}


DATE_COLUMNS = "session_date, exclusion_date, chronic_evidence_date, history_start"


def _expected_dates(run: Path, key: bytes, move) -> list[tuple]:
    """The run's sessions as the export should hold them: pseudonym, site, family and every
    date passed through ``move(date, patient_id)`` (the test holds the key)."""
    k = ExportKey(key)
    rows = _sessions(run, f"patient_id, site_id, family, {DATE_COLUMNS}")
    return sorted(
        (
            (k.pseudonym(p), site, family, *(None if d is None else move(d, p) for d in dates))
            for p, site, family, *dates in rows
        ),
        key=repr,
    )


def _exported_dates(export: Path) -> list[tuple]:
    return sorted(
        _sessions(export, f"patient_pseudonym, site_id, family, {DATE_COLUMNS}"), key=repr
    )


# --- pseudonyms and the key ---------------------------------------------------------------------


def test_same_key_links_exports_of_two_periods(runs, tmp_path):
    a = export_run(runs["2023"], tmp_path / "a", ExportKey(KEY_A)).folder
    b = export_run(runs["2024"], tmp_path / "b", ExportKey(KEY_A)).folder
    both_runs = _patients(runs["2023"]) & _patients(runs["2024"])
    assert len(both_runs) > 0
    both_exports = _patients(a) & _patients(b)
    assert len(both_exports) == len(both_runs)
    assert both_exports == {ExportKey(KEY_A).pseudonym(p) for p in both_runs}
    key_ids = {json.loads((d / "manifest.json").read_text())["key_id"] for d in (a, b)}
    assert len(key_ids) == 1


def test_different_keys_do_not_link(runs, tmp_path):
    a = export_run(runs["2023"], tmp_path / "a", ExportKey(KEY_A)).folder
    b = export_run(runs["2024"], tmp_path / "b", ExportKey(KEY_B)).folder
    assert _patients(runs["2023"]) & _patients(runs["2024"])
    assert not _patients(a) & _patients(b)
    key_ids = {json.loads((d / "manifest.json").read_text())["key_id"] for d in (a, b)}
    assert len(key_ids) == 2


def test_pseudonym_is_hmac_sha256_of_the_patient_id(runs, month_export):
    # docs/export.md: HMAC-SHA256(key, label NUL patient_id), hex; never a plain hash
    expected = {
        hmac.new(KEY_A, b"spine-audit/patient-pseudonym/v1\x00" + p.encode(), "sha256").hexdigest()
        for p in _patients(runs["all"])
    }
    assert _patients(month_export) == expected
    plain = {hashlib.sha256(p.encode()).hexdigest() for p in _patients(runs["all"])}
    assert not plain & _patients(month_export)


def test_key_id_is_the_documented_hmac_of_a_label(month_export):
    manifest = json.loads((month_export / "manifest.json").read_text())
    label = hmac.new(KEY_A, b"spine-audit/key-id/v1", "sha256").hexdigest()[:16]
    assert manifest["key_id"] == label
    assert label in (month_export / "README.md").read_text()


def test_no_key_refuses(runs, tmp_path):
    out = tmp_path / "x"
    line = one_line_error(cli("export", runs["all"], "--out", out))
    assert "--key-file" in line and "256 bits" in line
    assert not out.exists()


@pytest.mark.parametrize("hex_digits", [62, 32, 2])
def test_short_key_refuses(runs, tmp_path, hex_digits):
    key = tmp_path / "short.hex"
    key.write_text(KEY_A.hex()[:hex_digits] + "\n")
    out = tmp_path / "x"
    line = one_line_error(cli("export", runs["all"], "--out", out, "--key-file", key))
    assert "at least 256" in line
    assert KEY_A.hex()[:hex_digits] not in line
    assert not out.exists()


@pytest.mark.parametrize("text", ["not hex at all, but long enough " * 3, "00" * 32, "g" * 64])
def test_key_that_is_not_a_random_hex_key_refuses(runs, tmp_path, text):
    key = tmp_path / "bad.hex"
    key.write_text(text)
    out = tmp_path / "x"
    line = one_line_error(cli("export", runs["all"], "--out", out, "--key-file", key))
    assert text.strip() not in line
    assert not out.exists()


def test_key_from_an_unset_environment_variable_refuses(runs, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SPINE_AUDIT_TEST_KEY"}
    out = tmp_path / "x"
    result = cli("export", runs["all"], "--out", out, "--key-env", "SPINE_AUDIT_TEST_KEY", env=env)
    assert "SPINE_AUDIT_TEST_KEY is not set" in one_line_error(result)
    assert not out.exists()


@pytest.mark.parametrize("dates", ["shift", "month"])
def test_key_never_appears_in_any_output_byte(runs, tmp_path, dates):
    env = {**os.environ, "SPINE_AUDIT_TEST_KEY": KEY_A.hex()}
    out = tmp_path / "x"
    result = cli(
        "export",
        runs["all"],
        "--out",
        out,
        "--key-env",
        "SPINE_AUDIT_TEST_KEY",
        "--dates",
        dates,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    forbidden = [
        KEY_A,
        KEY_A.hex().encode(),
        KEY_A.hex().upper().encode(),
        hashlib.sha256(KEY_A).hexdigest().encode(),
        hashlib.sha256(KEY_A.hex().encode()).hexdigest().encode(),
        hashlib.sha256(KEY_A).digest(),
    ]
    blobs = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    blobs += [result.stdout.encode(), result.stderr.encode()]
    assert len(blobs) > 10
    for blob in blobs:
        for secret in forbidden:
            assert secret not in blob


# --- the allow-list -----------------------------------------------------------------------------


def _copy_run_with_extra_column(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    sessions = target / "internal" / "sessions.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT *, 'Jane Doe' AS patient_name FROM read_parquet($src)) TO $dst "
        "(FORMAT parquet)",
        {"src": str(run / "internal" / "sessions.parquet"), "dst": str(sessions)},
    )
    con.close()
    marker = json.loads((target / MARKER_NAME).read_text())
    marker["files"]["internal/sessions.parquet"] = sessions.stat().st_size
    (target / MARKER_NAME).write_text(json.dumps(marker))
    return target


def test_column_not_on_the_allow_list_fails_the_export(runs, tmp_path):
    run = _copy_run_with_extra_column(runs["all"], tmp_path / "run")
    key = _key_file(tmp_path, KEY_A)
    out = tmp_path / "x"
    line = one_line_error(cli("export", run, "--out", out, "--key-file", key))
    assert "'patient_name'" in line and "allow-list" in line
    assert not out.exists()


def test_step_that_writes_a_column_off_the_allow_list_fails(runs, tmp_path, monkeypatch):
    read = export_module._read_sql

    def leaky(step: str) -> str:
        sql = read(step)
        if step == "export_sessions":
            sql = sql.replace(
                "FROM dated_sessions\n", ", patient_pseudonym AS patient_id\nFROM dated_sessions\n"
            )
        return sql

    monkeypatch.setattr(export_module, "_read_sql", leaky)
    out = tmp_path / "x"
    with pytest.raises(ExportError, match="'patient_id' is not on the export allow-list"):
        export_run(runs["all"], out, ExportKey(KEY_A))
    assert not out.exists()


def test_written_files_are_checked_again_after_writing(runs, tmp_path, monkeypatch):
    read = export_module._read_sql

    def leaky(step: str) -> str:
        sql = read(step)
        if step == "export_cohort":
            sql = sql.replace("FROM keyed_spans\n", ", shift_days\nFROM keyed_spans\n")
        return sql

    monkeypatch.setattr(export_module, "_read_sql", leaky)
    monkeypatch.setattr(export_module, "check_columns", lambda *args: None)
    out = tmp_path / "x"
    with pytest.raises(ExportError, match=r"wrote column 'shift_days' in cohort\.(csv|parquet)"):
        export_run(runs["all"], out, ExportKey(KEY_A))
    assert not out.exists()


def test_every_written_column_is_on_the_allow_list(month_export):
    schema = load_schema()
    con = duckdb.connect()
    for path in month_export.rglob("*.parquet"):
        table = path.relative_to(month_export).parts[0].removesuffix(".parquet")
        names = [
            r[0]
            for r in con.execute(
                "DESCRIBE SELECT * FROM read_parquet($p, hive_partitioning = false)",
                {"p": str(path)},
            ).fetchall()
        ]
        assert set(names) <= set(schema[table].types), path
    con.close()


# --- ages and dates -----------------------------------------------------------------------------


def test_ages_90_and_over_are_top_coded(runs, month_export):
    ran = [r[0] for r in _sessions(runs["all"], "age")]
    got = [r[0] for r in _sessions(month_export, "age")]
    assert sum(1 for a in ran if a is not None and a > TOP_AGE) > 0
    assert max(a for a in got if a is not None) == TOP_AGE
    assert sum(1 for a in got if a == TOP_AGE) == sum(
        1 for a in ran if a is not None and a >= TOP_AGE
    )
    assert sorted((a for a in got if a is None or a < TOP_AGE), key=str) == sorted(
        (a for a in ran if a is None or a < TOP_AGE), key=str
    )


def test_patient_table_age_is_top_coded(month_export):
    con = duckdb.connect()
    glob = str(month_export / "patients" / "*" / "*" / "*.parquet")
    top = con.execute(
        "SELECT MAX(age_at_first_session) FROM read_parquet($p, hive_partitioning = true)",
        {"p": glob},
    ).fetchone()[0]
    assert top == TOP_AGE


def test_dates_month_are_the_first_of_their_month(runs, month_export):
    expected = _expected_dates(runs["all"], KEY_A, lambda d, p: d.replace(day=1))
    assert _exported_dates(month_export) == expected


def test_dates_exact_are_unchanged(runs, tmp_path):
    out = export_run(runs["all"], tmp_path / "x", ExportKey(KEY_A), dates="exact").folder
    assert _exported_dates(out) == _expected_dates(runs["all"], KEY_A, lambda d, p: d)


def test_dates_shift_moves_each_patient_by_one_secret_number_of_days(runs, tmp_path):
    out = export_run(runs["all"], tmp_path / "x", ExportKey(KEY_A), dates="shift").folder
    k = ExportKey(KEY_A)
    expected = _expected_dates(runs["all"], KEY_A, lambda d, p: d + timedelta(days=k.shift_days(p)))
    assert _exported_dates(out) == expected
    shifts = {k.shift_days(p) for p in _patients(runs["all"])}
    assert 0 not in shifts
    assert min(shifts) >= -SHIFT_DAYS and max(shifts) <= SHIFT_DAYS
    assert len(shifts) > 50  # one shift per patient, not one for everyone


def test_date_shift_is_the_same_in_two_exports_with_the_same_key(runs, tmp_path):
    a = export_run(runs["2023"], tmp_path / "a", ExportKey(KEY_A), dates="shift").folder
    b = export_run(runs["2024"], tmp_path / "b", ExportKey(KEY_A), dates="shift").folder
    both = _patients(a) & _patients(b)
    assert both
    k = ExportKey(KEY_A)
    by_pseudonym = {k.pseudonym(p): p for p in _patients(runs["2023"])}
    for folder, run in ((a, runs["2023"]), (b, runs["2024"])):
        exact = {}
        for p, d in _sessions(run, "patient_id, session_date"):
            exact.setdefault(k.pseudonym(p), set()).add(d)
        for ps, d in _sessions(folder, "patient_pseudonym, session_date"):
            if ps in both:
                assert d - timedelta(days=k.shift_days(by_pseudonym[ps])) in exact[ps]


# --- layout -------------------------------------------------------------------------------------


def test_partitions_are_year_and_month_of_the_exported_session_date(runs, month_export):
    files = sorted(month_export.glob("sessions/*/*/*"))
    assert len(files) > 12
    con = duckdb.connect()
    total = 0
    for path in files:
        rel = path.relative_to(month_export / "sessions").as_posix()
        m = re.fullmatch(r"year=(\d{4})/month=(\d{1,2})/part-0\.parquet", rel)
        assert m, rel
        names = [
            r[0]
            for r in con.execute(
                "DESCRIBE SELECT * FROM read_parquet($p, hive_partitioning = false)",
                {"p": str(path)},
            ).fetchall()
        ]
        assert "year" not in names and "month" not in names
        dates = con.execute(
            "SELECT DISTINCT YEAR(session_date), MONTH(session_date) FROM read_parquet($p, "
            "hive_partitioning = false)",
            {"p": str(path)},
        ).fetchall()
        assert dates == [(int(m[1]), int(m[2]))]
        total += con.execute("SELECT COUNT(*) FROM read_parquet($p)", {"p": str(path)}).fetchone()[
            0
        ]
    con.close()
    assert total == len(_sessions(runs["all"], "1"))
    assert sorted(p.name for p in month_export.glob("patients/year=*/month=*/*")) == sorted(
        p.name for p in month_export.glob("patients/year=*/month=*/part-0.parquet")
    )


def test_export_holds_a_data_dictionary(month_export):
    readme = (month_export / "README.md").read_text()
    schema = json.loads((month_export / "schema.json").read_text())
    assert "personal data" in readme
    for name, table in load_schema().items():
        assert f"## {name}" in readme
        assert list(schema["$defs"][name]["properties"]) == list(table.types)
        for column in table.types:
            assert f"| {column} |" in readme


def test_export_is_byte_identical_when_repeated(runs, month_export, tmp_path):
    again = export_run(runs["all"], tmp_path / "again", ExportKey(KEY_A)).folder
    ours = sorted(p.relative_to(month_export) for p in month_export.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert ours == theirs
    for rel in ours:
        assert (month_export / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_export_never_replaces_a_folder_it_did_not_write(runs, tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    (out / "thesis.docx").write_text("mine")
    with pytest.raises(OutputFolderError, match="not written by spine-audit"):
        export_run(runs["all"], out, ExportKey(KEY_A))
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


def test_run_dir_must_be_a_spine_audit_output_folder(tmp_path):
    (tmp_path / "internal").mkdir()
    with pytest.raises(ExportError, match="not a spine-audit output folder"):
        export_run(tmp_path, tmp_path.parent / "x", ExportKey(KEY_A))


def test_run_sessions_changed_since_the_run_refused(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs["all"], run)
    with (run / "internal" / "sessions.parquet").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ExportError, match="changed or missing since the run wrote it"):
        export_run(run, tmp_path / "x", ExportKey(KEY_A))


# --- the OMOP cohort ----------------------------------------------------------------------------

# OMOP CDM 5.4 (OMOP_CDM_duckdb_5.4_ddl.sql, results schema): the cohort table
CDM_COHORT_DDL = """
CREATE TABLE cohort (
    cohort_definition_id INTEGER NOT NULL,
    subject_id INTEGER NOT NULL,
    cohort_start_date DATE NOT NULL,
    cohort_end_date DATE NOT NULL
)
"""


def _load_cohort(folder: Path, file: str = "cohort.parquet") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(CDM_COHORT_DDL)
    reader = "read_csv" if file.endswith(".csv") else "read_parquet"
    con.execute(
        f"INSERT INTO cohort SELECT cohort_definition_id, subject_id, cohort_start_date, "
        f"cohort_end_date FROM {reader}($p)",
        {"p": str(folder / file)},
    )
    return con


def _run_cohort_counts(run: Path) -> dict[int, int]:
    """Distinct patients per cohort, from the run's own sessions and the documented outcomes."""
    in_pop = {p for p, o in _sessions(run, "patient_id, outcome") if o != "out_of_population"}
    disc = {p for p, o in _sessions(run, "patient_id, outcome") if o == "discordant"}
    return {1: len(in_pop), 2: len(disc)}


@pytest.mark.parametrize("file", ["cohort.parquet", "cohort.csv"])
def test_cohort_loads_into_the_cdm_cohort_table_with_the_run_counts(runs, month_export, file):
    con = _load_cohort(month_export, file)
    counts = dict(
        con.execute(
            "SELECT cohort_definition_id, COUNT(DISTINCT subject_id) FROM cohort GROUP BY 1"
        ).fetchall()
    )
    assert counts == _run_cohort_counts(runs["all"])
    # the sessions behind each cohort are the run manifest's sessions of its outcomes
    run_manifest = json.loads((runs["all"] / "internal" / "manifest.json").read_text())
    by_outcome = run_manifest["results"]["sessions_by_outcome"]
    export_manifest = json.loads((month_export / "manifest.json").read_text())
    sessions = {c["cohort_definition_id"]: c["sessions"] for c in export_manifest["cohorts"]}
    assert sessions[2] == by_outcome["discordant"]
    assert sessions[1] == sum(n for o, n in by_outcome.items() if o != "out_of_population")
    assert (
        con.execute(
            "SELECT COUNT(*) FROM cohort WHERE cohort_start_date > cohort_end_date"
        ).fetchone()[0]
        == 0
    )


def test_cohort_subjects_map_to_the_pseudonyms(runs, month_export):
    con = duckdb.connect()
    rows = con.execute(
        "SELECT c.cohort_definition_id, s.patient_pseudonym FROM read_parquet($c) AS c "
        "JOIN read_parquet($s) AS s USING (subject_id)",
        {
            "c": str(month_export / "cohort.parquet"),
            "s": str(month_export / "cohort_subjects.parquet"),
        },
    ).fetchall()
    k = ExportKey(KEY_A)
    disc = {
        k.pseudonym(p)
        for p, o in _sessions(runs["all"], "patient_id, outcome")
        if o == "discordant"
    }
    assert {p for c, p in rows if c == 2} == disc


def test_cohort_dates_are_first_and_last_qualifying_session(runs, tmp_path):
    out = export_run(runs["all"], tmp_path / "x", ExportKey(KEY_A), dates="exact").folder
    k = ExportKey(KEY_A)
    spans: dict[str, list[date]] = {}
    for p, d, o in _sessions(runs["all"], "patient_id, session_date, outcome"):
        if o == "discordant":
            spans.setdefault(k.pseudonym(p), []).append(d)
    con = duckdb.connect()
    rows = con.execute(
        "SELECT s.patient_pseudonym, c.cohort_start_date, c.cohort_end_date "
        "FROM read_parquet($c) AS c JOIN read_parquet($s) AS s USING (subject_id) "
        "WHERE c.cohort_definition_id = 2",
        {"c": str(out / "cohort.parquet"), "s": str(out / "cohort_subjects.parquet")},
    ).fetchall()
    assert {p: (a, b) for p, a, b in rows} == {p: (min(d), max(d)) for p, d in spans.items()}


def test_cohort_with_source_person_ids_for_an_omop_run(runs, tmp_path):
    out = export_run(
        runs["omop"], tmp_path / "x", ExportKey(KEY_A), dates="exact", cohort_ids="source"
    ).folder
    con = _load_cohort(out)
    got = {
        r[0]
        for r in con.execute(
            "SELECT subject_id FROM cohort WHERE cohort_definition_id = 2"
        ).fetchall()
    }
    disc = {int(p) for p, o in _sessions(runs["omop"], "patient_id, outcome") if o == "discordant"}
    assert got == disc and len(got) > 0
    assert not (out / "cohort_subjects.parquet").exists()


def test_source_person_ids_refused_for_a_run_that_is_not_omop(runs, tmp_path):
    with pytest.raises(ExportError, match="needs a run of OMOP input"):
        export_run(
            runs["all"], tmp_path / "x", ExportKey(KEY_A), dates="exact", cohort_ids="source"
        )


def test_source_person_ids_need_exact_dates(runs, tmp_path):
    with pytest.raises(ExportError, match="--dates exact"):
        export_run(runs["omop"], tmp_path / "x", ExportKey(KEY_A), cohort_ids="source")


# --- the SQL of the export follows the project's rules ------------------------------------------


def test_export_sql_exists():
    assert [p.stem for p in EXPORT_SQL] == [
        "export_cohort",
        "export_cohort_subjects",
        "export_patients",
        "export_sessions",
    ]


@pytest.mark.parametrize("path", EXPORT_SQL, ids=lambda p: p.stem)
def test_export_sql_transpiles_to_spark_and_has_a_header(path):
    text = path.read_text()
    code = re.sub(r"--[^\n]*", "", text)
    [spark] = sqlglot.transpile(
        code, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    assert spark.strip()
    found = [name for name, pattern in FORBIDDEN.items() if re.search(pattern, code.lower())]
    assert not found
    header = text.split("\n\n")[0]
    assert header.startswith(f"-- {path.stem}\n")
    assert "-- Grain:" in header and "-- Implements:" in header


def test_trace_ids_of_the_run_are_withheld_by_design(runs, month_export):
    """The run's claim and provider ids are identifiers: read at the door, never written."""
    withheld = load_schema()["sessions"].withheld_sources
    assert withheld == {"source_ids", "provider_ids", "billing_provider_ids"}
    ran = pq.read_schema(runs["all"] / "internal" / "sessions.parquet").names
    assert withheld <= set(ran)
    readme = (month_export / "README.md").read_text()
    for path in month_export.rglob("*.parquet"):
        assert not withheld & set(pq.read_schema(path).names), path
    for column in withheld:
        assert f"* `{column}`:" in readme
