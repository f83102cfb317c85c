"""The shared patterns that read input values (docs/development.md, "Reading values").

SQL macros would not run on Spark, so each pattern is written out wherever a value is read. These
tests hold every copy in sql/ to the one definition below, and hold the definition to what
docs/inputs.md ("How values are read") promises, run by DuckDB as the steps run it.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from audit.resources import sql_dir

# the blank class: the one definition of a blank character
BLANK = (
    r"[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}"
    r"\x{3000}\x{feff}]"
)
_B = BLANK + "*"
PATTERNS: dict[str, str] = {
    "blank": BLANK,
    "trim": f"^{BLANK}+|{BLANK}+$",
    "code": "[." + BLANK[1:],
    "blank_only": f"^{_B}$",
    "date": (
        f"^{_B}([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})"
        r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?"
        f"{_B}$"
    ),
    "number_point": f"^{_B}" + r"([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)" + f"{_B}$",
    "number_comma": f"^{_B}" + r"([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)(,[0-9]+)?)" + f"{_B}$",
    "whole_point": f"^{_B}" + r"([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?" + f"{_B}$",
    "whole_comma": f"^{_B}" + r"([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?" + f"{_B}$",
    "amount_point": f"^{_B}"
    + r"(([+-]|[+-]?\$ ?|\$ ?[+-])?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)"
    + f"{_B}$",
    "amount_comma": f"^{_B}"
    + r"(([+-]|[+-]?\$ ?|\$ ?[+-])?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)(,[0-9]+)?)"
    + f"{_B}$",
}
# steps that read the pack's own CSV files (checked by the pack's definition check), not inputs
PACK_STEPS = {"value_set_codes", "unmeasurable_rules"}
SQL_FILES = sorted(sql_dir().rglob("*.sql"))
CORE_FILES = [p for p in SQL_FILES if "adapters" not in p.parts and p.stem not in PACK_STEPS]
TEXT = "UPPER(TYPEOF({x})) NOT IN ('VARCHAR', 'STRING')"


def _code(path: Path) -> str:
    return re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))


def _literals(code: str) -> list[str]:
    return re.findall(r"'((?:[^']|'')*)'", code)


# ----------------------------------------------------------------------------- every copy alike
@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_every_blank_class_is_the_shared_one(path):
    """A literal naming any blank character is one of the shared patterns, verbatim."""
    for literal in _literals(_code(path)):
        if r"\x{" in literal or r"\t" in literal:
            assert literal in PATTERNS.values(), f"{path.name}: {literal[:60]}..."


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_every_trim_has_its_guard(path):
    """The trimming regular expression runs only behind the shared cheap test, on the same
    value, and gives the value back unchanged otherwise."""
    code = _code(path)
    trim = re.escape(PATTERNS["trim"])
    for match in re.finditer(r"REGEXP_REPLACE\(([\w.]+), '" + trim + r"', '', 'g'\)", code):
        x = re.escape(match.group(1))
        guard = (
            rf"WHEN {x} < '!' OR SUBSTRING\({x}, -1\) < '!' OR OCTET_LENGTH\(ENCODE\({x}\)\) "
            rf"<> LENGTH\({x}\)\s+THEN $"
        )
        assert re.search(guard, code[: match.start()]), f"{path.name}: {match.group(1)}"
        assert re.match(rf"\s+ELSE {x}\s+END", code[match.end() :]), path.name


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_codes_are_normalised_once_per_distinct_value(path):
    """The code pattern runs in input_codes (the values as written, once each) and on the pack's
    own codes, never once per input row."""
    code = _code(path)
    if f"'{PATTERNS['code']}'" in code:
        assert path.stem in {"input_codes", "value_set_codes"}, path.name
        assert code.count("REGEXP_REPLACE(") == code.count(f"'{PATTERNS['code']}', '', 'g')")


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_every_blank_only_test_per_row_has_its_guard(path):
    """A per-row test for a cell of blanks only runs its regular expression only on a value that
    starts with a blank (an ASCII one or a non-ASCII character), or on a value already found
    unreadable."""
    code = _code(path)
    blank_only = re.escape(PATTERNS["blank_only"])
    for match in re.finditer(r"REGEXP_MATCHES\(([\w.]+), '" + blank_only + r"'\)", code):
        x = re.escape(match.group(1))
        before = code[max(0, match.start() - 80) : match.start()]
        assert re.search(rf"\({x} < '!' OR {x} >= CHR\(128\)\) AND $", before), path.name
        assert path.stem in {"procedures_checked", "diagnoses_without_site"}, path.name


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_no_step_trims_input_with_trim(path):
    """TRIM removes only some blanks in DuckDB and only the space on Spark."""
    assert not re.search(r"(?<![A-Z_])TRIM\(", _code(path)), path.name


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_every_date_is_read_by_the_shared_pattern(path):
    """A text date is cast only after the shape test; only a typed date is cast directly."""
    code = _code(path)
    for match in re.finditer(r"TRY_CAST\(([^()]+|REGEXP_EXTRACT\(.*?\)) AS DATE\)", code):
        inner = match.group(1)
        if inner.startswith("REGEXP_EXTRACT("):
            assert inner.endswith(f"'{PATTERNS['date']}', 1)"), path.name
        else:
            before = code[: match.start()]
            assert re.search(re.escape(TEXT.format(x=inner)) + r"\s+THEN $", before), inner


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(sql_dir())))
def test_typeof_tells_text_the_same_way_everywhere(path):
    for match in re.finditer(r"UPPER\(TYPEOF\(([\w.]+)\)\)(.{0,30})", _code(path)):
        assert match.group(2).startswith(
            (" NOT IN ('VARCHAR', 'STRING')", " IN ('VARCHAR', 'STRING')")
        ), path.name


def test_the_patterns_are_documented():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "development.md").read_text("utf-8")
    assert BLANK in docs


# ----------------------------------------------------------------------------- what they read
def _sql(pattern: str) -> str:
    return PATTERNS[pattern].replace("'", "''")


def _run(expression: str, value: object) -> object:
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT {expression} FROM (SELECT $v AS x)", {"v": value}).fetchone()[0]
    finally:
        con.close()


def trimmed(x: str = "x") -> str:
    return (
        f"CASE WHEN {x} < '!' OR SUBSTRING({x}, -1) < '!'"
        f" OR OCTET_LENGTH(ENCODE({x})) <> LENGTH({x})"
        f" THEN REGEXP_REPLACE({x}, '{_sql('trim')}', '', 'g') ELSE {x} END"
    )


DATE = f"TRY_CAST(REGEXP_EXTRACT(CAST(x AS VARCHAR), '{_sql('date')}', 1) AS DATE)"
AMOUNT_POINT = (
    "TRY_CAST(REPLACE(REPLACE(REPLACE(REGEXP_EXTRACT(CAST(x AS VARCHAR), "
    f"'{_sql('amount_point')}', 1), '$', ''), ' ', ''), ',', '') AS DECIMAL(18, 2))"
)
AMOUNT_COMMA = (
    "TRY_CAST(REPLACE(REPLACE(REPLACE(REPLACE(REGEXP_EXTRACT(CAST(x AS VARCHAR), "
    f"'{_sql('amount_comma')}', 1), '$', ''), ' ', ''), '.', ''), ',', '.') AS DECIMAL(18, 2))"
)
WHOLE_POINT = (
    f"TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(x AS VARCHAR), '{_sql('whole_point')}', 1), ',', '')"
    " AS BIGINT)"
)
WHOLE_COMMA = (
    f"TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(x AS VARCHAR), '{_sql('whole_comma')}', 1), '.', '')"
    " AS BIGINT)"
)
BLANKS = (
    "\t\n\r\x0b\x0c \x85\xa0\u1680\u2000\u2005\u200a\u200b\u2028\u2029\u202f\u205f\u2060"
    "\u3000\ufeff"
)


@pytest.mark.parametrize("blank", list(BLANKS), ids=lambda c: f"U+{ord(c):04X}")
def test_every_blank_is_trimmed_from_both_ends(blank):
    assert _run(trimmed(), f"{blank}{blank}P 1{blank}") == "P 1"


@pytest.mark.parametrize("value", ["P1", "P 1", "Ünal", "", "!x!"])
def test_trimming_leaves_other_values_alone(value):
    assert _run(trimmed(), value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-03-15", "2023-03-15"),
        (" 2023-03-15\t", "2023-03-15"),
        ("\xa02023-03-15\u3000", "2023-03-15"),
        ("2023-03-15T10:30:00Z", "2023-03-15"),
        ("2023-03-15 10:30", "2023-03-15"),
        ("2023-03-15T10:30:00.123+01:00", "2023-03-15"),
        ("2023-02-30", None),
        ("2023-3-5", None),
        ("2023/03/15", None),
        ("03/15/2023", None),
        ("20230315", None),
        ("2023-03-15 garbage", None),
        ("-2023-03-15", None),
        ("12023-03-15", None),
        ("2023-03-15 (BC)", None),
    ]
    + [(word, None) for word in ("epoch", "EPOCH", "infinity", "-infinity", "inf", "today")]
    + [(word, None) for word in ("now", "yesterday", "tomorrow", "allballs", "")],
)
def test_date_shapes(value, expected):
    got = _run(DATE, value)
    assert (got.isoformat() if got else None) == expected


@pytest.mark.parametrize(
    ("value", "point", "comma"),
    [
        ("1200.50", "1200.50", None),
        ("1,200.50", "1200.50", None),
        ("$1,200.50", "1200.50", None),
        ("-$12.00", "-12.00", None),
        ("$-12.00", "-12.00", None),
        ("$ 12", "12.00", "12.00"),
        ("+3", "3.00", "3.00"),
        ("1,200", "1200.00", "1.20"),
        ("1.200", "1.20", "1200.00"),
        ("1.200,50", None, "1200.50"),
        ("$1.200,50", None, "1200.50"),
        ("1,5", None, "1.50"),
        ("1200,50", None, "1200.50"),
        ("12,34,567", None, None),
        ("1,20", None, "1.20"),
        ("1.20", "1.20", None),
        ("\t1,200.50\xa0", "1200.50", None),
        ("(12.00)", None, None),
        ("1e3", None, None),
        (".5", None, None),
        ("12.", None, None),
        ("€12", None, None),
        ("n/a", None, None),
        ("$-$1", None, None),
    ],
)
def test_amounts_in_each_notation(value, point, comma):
    for expression, expected in ((AMOUNT_POINT, point), (AMOUNT_COMMA, comma)):
        got = _run(expression, value)
        assert (None if got is None else str(got)) == expected, (value, expression[:40])


@pytest.mark.parametrize(
    ("value", "point", "comma"),
    [
        ("12", 12, 12),
        ("12.0", 12, None),
        ("12,0", None, 12),
        ("1,200", 1200, None),
        ("1.200", None, 1200),
        ("12.5", None, None),
        ("12,5", None, None),
        ("-3", -3, -3),
        (" 7\t", 7, 7),
    ],
)
def test_whole_numbers(value, point, comma):
    assert (_run(WHOLE_POINT, value), _run(WHOLE_COMMA, value)) == (point, comma)


BLANK_ONLY = (
    f"x IS NULL OR ((x < '!' OR x >= CHR(128)) AND REGEXP_MATCHES(x, '{_sql('blank_only')}'))"
)


@pytest.mark.parametrize("value", ["", " ", "\t\xa0\u3000\ufeff", "\u2003"])
def test_blank_only_cells_are_empty(value):
    assert _run(BLANK_ONLY, value) is True


@pytest.mark.parametrize("value", ["S1", " S1", "\tS1", "\xa0S1", "Ünal", "!"])
def test_cells_with_something_in_them_are_not_empty(value):
    assert _run(BLANK_ONLY, value) is False


def test_a_code_loses_dots_and_blanks_of_every_kind():
    code = f"NULLIF(UPPER(REGEXP_REPLACE(x, '{_sql('code')}', '', 'g')), '')"
    assert _run(code, " m54 .5\t") == "M545"
    assert _run(code, "\ufeff62\u00a0321\u3000") == "62321"
    assert _run(code, "623\t21") == "62321"
    assert _run(code, "62321-50") == "62321-50"
    assert _run(code, "\t \xa0") is None
