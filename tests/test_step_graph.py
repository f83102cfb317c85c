"""The core steps' order is derived from what each reads (audit/steps.py): these tests hold the
derivation to sqlglot's parse, the stages to their order, every read to a table something
writes, and the step graph in docs/development.md to the SQL."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from audit import steps as steps_module
from audit.adapters import load_adapter
from audit.config import load_settings
from audit.engine import DuckDBEngine
from audit.gate import CHECKS, gate_steps
from audit.lookups import load_pack_tables, load_settings_tables
from audit.pack import resolve_pack
from audit.pipeline import STEPS
from audit.resources import sample_data_dir, sql_dir
from audit.steps import (
    StepGraphError,
    core_steps,
    discover,
    graph_markdown,
    order,
    steps_needed,
    tables_read,
)

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("canonical", "claims", "omop", "fhir")
CHECK_FILES = sorted((sql_dir() / "checks").glob("*.sql"))


def _sqlglot_reads(sql: str) -> frozenset[str]:
    """The tables a SELECT reads, as sqlglot (dialect duckdb) parses it."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes)


@lru_cache(maxsize=1)
def _loader_tables() -> frozenset[str]:
    """The tables every format's loading writes before the steps run (the pack, the settings,
    the adapter's input tables): the sources a step may read besides other steps."""
    settings = replace(load_settings(), as_of_date=date(2026, 1, 1))
    found = None
    for fmt in FORMATS:
        engine = DuckDBEngine.scratch()
        try:
            load_pack_tables(engine, resolve_pack(settings.pack))
            load_settings_tables(engine, settings)
            load_adapter(engine, sample_data_dir() / "formats" / fmt, fmt)
            tables = {row[0] for row in engine.rows("SHOW TABLES")}
        finally:
            engine.close()
        found = tables if found is None else found & tables
    return frozenset(found)


# ------------------------------------------------------------------ the reads are the real ones
@pytest.mark.parametrize("step", sorted(core_steps()))
def test_reads_of_a_step_are_those_sqlglot_finds(step):
    path = core_steps()[step].path
    assert tables_read(path.read_text(encoding="utf-8")) == _sqlglot_reads(
        path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.stem)
def test_reads_of_a_check_are_those_sqlglot_finds(path):
    text = path.read_text(encoding="utf-8")
    assert tables_read(text) == _sqlglot_reads(text)


def test_reading_skips_comments_literals_ctes_and_distinct_from():
    sql = (
        "-- FROM commented_out\n"
        "WITH kept AS (SELECT a FROM real_one), more AS (SELECT a FROM kept)\n"
        "SELECT 'FROM literal' AS x FROM more JOIN real_two AS r "
        "ON r.a IS NOT DISTINCT FROM more.a JOIN read_csv('f') AS c ON TRUE"
    )
    assert tables_read(sql) == {"real_one", "real_two"}


# ------------------------------------------------------------------------ the graph is sound
def test_no_step_reads_a_later_stage():
    steps = core_steps()
    later = [
        f"{s.name} ({s.stage}) reads {t} ({steps[t].stage})"
        for s in steps.values()
        for t in s.reads
        if t in steps and steps[t].stage_order > s.stage_order
    ]
    assert not later


def test_every_table_a_step_reads_is_written_by_a_step_or_a_loader():
    known = set(core_steps()) | _loader_tables()
    unknown = {s.name: sorted(s.reads - known) for s in core_steps().values() if s.reads - known}
    assert not unknown


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.stem)
def test_every_table_a_check_reads_is_a_gate_step_or_a_loader_table(path):
    reads = tables_read(path.read_text(encoding="utf-8"))
    assert reads <= set(gate_steps()) | _loader_tables()


def test_the_gate_runs_only_the_steps_its_checks_need():
    needed = set(gate_steps())
    read = set().union(*(tables_read(c.path.read_text(encoding="utf-8")) for c in CHECKS))
    assert read & set(STEPS) <= needed
    # each gate step is read by a check or by another gate step
    assert all(s in read or any(s in core_steps()[o].reads for o in needed) for s in needed)
    assert "session_outcomes" not in needed


def test_every_step_runs_after_the_steps_it_reads():
    position = {name: i for i, name in enumerate(STEPS)}
    for step in core_steps().values():
        for table in step.reads & set(position):
            assert position[table] < position[step.name], (step.name, table)


def test_the_order_does_not_depend_on_the_order_files_are_found():
    steps = core_steps()
    names = list(steps)
    random.Random(7).shuffle(names)
    assert order({n: steps[n] for n in names}) == STEPS


def test_steps_needed_follows_reads_to_the_sources():
    assert steps_needed(["index_lines"])[-1] == "index_lines"
    assert "procedures_kept" in steps_needed(["index_lines"])
    assert "diagnoses_kept" not in steps_needed(["index_lines"])


# --------------------------------------------------------- the checks can fail (on a copy of sql/)
def _copy_sql(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    return root


def test_a_cycle_is_refused(tmp_path):
    root = _copy_sql(tmp_path)
    (root / "1_checked_inputs" / "value_set_codes.sql").write_text(
        "SELECT code FROM procedures_kept", encoding="utf-8"
    )
    with pytest.raises(StepGraphError, match="cycle"):
        order(discover(root))


def test_a_forward_read_is_found(tmp_path):
    root = _copy_sql(tmp_path)
    (root / "1_checked_inputs" / "early.sql").write_text(
        "SELECT patient_id FROM session_outcomes", encoding="utf-8"
    )
    steps = discover(root)
    forward = [
        (s.name, t)
        for s in steps.values()
        for t in s.reads
        if t in steps and steps[t].stage_order > s.stage_order
    ]
    assert forward == [("early", "session_outcomes")]


def test_a_table_nothing_writes_is_found(tmp_path):
    root = _copy_sql(tmp_path)
    (root / "5_summaries" / "odd.sql").write_text("SELECT a FROM no_such_table", encoding="utf-8")
    steps = discover(root)
    known = set(steps) | _loader_tables()
    assert {t for s in steps.values() for t in s.reads} - known == {"no_such_table"}


def test_a_new_file_is_a_step_placed_by_what_it_reads(tmp_path):
    root = _copy_sql(tmp_path)
    (root / "5_summaries" / "aaa_first_by_name.sql").write_text(
        "SELECT site_id FROM site_period_counts", encoding="utf-8"
    )
    run = order(discover(root))
    assert run.index("site_period_counts") < run.index("aaa_first_by_name")


def test_two_files_for_one_table_are_refused(tmp_path):
    root = _copy_sql(tmp_path)
    shutil.copy(root / "4_outcomes" / "session_outcomes.sql", root / "6_accounting")
    with pytest.raises(StepGraphError, match="two steps produce session_outcomes"):
        discover(root)


# ---------------------------------------------------------------------------- the picture
def test_the_step_graph_in_the_docs_is_current():
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    begin = "<!-- step graph: generated by tools/step_graph.py, do not edit -->\n"
    end = "<!-- end of step graph -->\n"
    assert begin in text and end in text
    shown = text.split(begin, 1)[1].split(end, 1)[0]
    assert shown == graph_markdown(), "run .venv/bin/python tools/step_graph.py"


def test_the_graph_names_every_step_and_what_it_reads():
    graph = graph_markdown()
    for step in core_steps().values():
        row = next(line for line in graph.splitlines() if f"[`{step.name}`]" in line)
        for table in step.reads:
            assert table in row


def test_the_command_prints_the_order(capsys):
    assert steps_module.main(["--order"]) == 0
    assert capsys.readouterr().out.split() == list(STEPS)
    assert steps_module.main(["--nonsense"]) == 2
