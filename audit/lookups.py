"""The small tables a run loads before its steps: the pack's and the settings'.

They are built with a scratch DuckDB on this machine (the pack's CSV files are read, and its
definition checked, the same way whatever the engine) and handed to the run's engine as Arrow
tables: value_set_codes, the largest, has a few thousand rows.
"""

from __future__ import annotations

from audit.config import Settings
from audit.engine import DuckDBEngine, Engine
from audit.errors import PackError
from audit.pack import Notice, Pack, definition_check, load_pack
from audit.resources import data_dir


def load_pack_tables(engine: Engine, pack: Pack) -> list[Notice]:
    """Load the pack's tables (pack_*) into ``engine`` after its definition check; an error of
    the check is a PackError naming the first (and how many more)."""
    local = DuckDBEngine.scratch()
    try:
        load_pack(local.con, pack)
        notices = definition_check(local.con)
        errors = [f for f in notices if f.level == "error"]
        if errors:
            raise PackError(
                f"pack {pack.name}: {errors[0].message}"
                + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
            )
        _copy_tables(local, engine)
    finally:
        local.close()
    return notices


def load_settings_tables(engine: Engine, settings: Settings) -> None:
    """Settings that are lists or switches become small tables the SQL joins to; so do the
    as-of date and the number notation, which views (which cannot bind parameters) and the
    adapters' steps read; and the tool's table of code systems."""
    local = DuckDBEngine.scratch()
    con = local.con
    try:
        con.execute("CREATE TABLE run_settings (as_of_date DATE, decimal_comma BOOLEAN)")
        con.execute(
            "INSERT INTO run_settings VALUES ($d, $comma)",
            {"d": settings.resolved_as_of(), "comma": settings.decimal_comma},
        )
        con.execute("CREATE TABLE non_counting_statuses (status VARCHAR)")
        if settings.non_counting_statuses:  # none is a valid choice: every status counts
            con.executemany(
                "INSERT INTO non_counting_statuses VALUES (?)",
                [[s] for s in settings.non_counting_statuses],
            )
        con.execute("CREATE TABLE rule_switches (switch VARCHAR, enabled BOOLEAN)")
        con.execute(
            "INSERT INTO rule_switches VALUES ('other_specific_cause', $on)",
            {"on": settings.other_specific_cause},
        )
        con.execute(
            "CREATE TABLE input_code_systems AS "
            "SELECT domain, code_system, match_system FROM read_csv($p, all_varchar = true)",
            {"p": str(data_dir() / "code_systems.csv")},
        )
        _copy_tables(local, engine)
    finally:
        local.close()


def _copy_tables(local: DuckDBEngine, engine: Engine) -> None:
    """Every table of the scratch database into ``engine``, as it is (types and row order)."""
    for (name,) in local.rows("SELECT table_name FROM duckdb_tables() ORDER BY table_name"):
        # S608: a name DuckDB lists, of a table this module created
        engine.load_table(name, local.query(f'SELECT * FROM "{name}"'))  # noqa: S608
