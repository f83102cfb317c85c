"""Command-line interface: ``spine-audit run | demo | validate | verify | export | generate |
valuesets``.

Exit codes: 0 ok; 2 a cause the user can act on (bad input, settings or command line; a machine
that cannot carry the run: memory, disk, folders), one line on stderr, no traceback;
3 ``verify`` found a difference (each listed on stderr); 1 internal error (a bug);
130 interrupted (Ctrl-C). See docs/security.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from datetime import date
from pathlib import Path

from audit import __version__
from audit.adapters import FORMATS
from audit.config import (
    FUNNEL_OVERDISPERSION,
    OMOP_SITE_FALLBACKS,
    SUPPRESSION_PROFILES,
    expand_out,
    load_run_file,
    load_settings,
    month_period,
)
from audit.errors import ConfigError, UserError
from audit.progress import StepDone

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_DIFFERS = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that exits with 2 and one line, as every other bad-input error does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"spine-audit: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Progress:
    """Stage-by-stage progress on stderr: a live line on a terminal, a line per stage when
    --verbose, nothing when --quiet."""

    def __init__(self, verbose: bool, quiet: bool) -> None:
        self.verbose = verbose
        self.quiet = quiet
        self.live = sys.stderr.isatty() and not quiet and not verbose
        self.started = time.perf_counter()

    def step(self, done: StepDone) -> None:
        """One finished step (``[ n/total]``) or stage outside the numbered steps (no number)."""
        if self.quiet:
            return
        total, name = done.total, done.name
        if self.verbose:
            counter = f"[{done.number:2d}/{total}]" if done.number else " " * (len(str(total)) + 5)
            print(f"  {counter} {name:<24} {done.seconds:8.3f} s", file=sys.stderr)
        elif self.live and done.number:
            print(f"\r  [{done.number:2d}/{total}] {name:<24}", end="", file=sys.stderr, flush=True)

    def message(self, text: str) -> None:
        if not self.quiet:
            if self.live:
                print("\r" + " " * 60 + "\r", end="", file=sys.stderr)
            print(text, file=sys.stderr)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        dest="input_format",
        choices=("auto", *FORMATS),
        default=None,
        help="input format (default: detected from the file names; see docs/inputs-formats.md)",
    )
    p.add_argument(
        "--from",
        dest="period_from",
        type=_iso_date,
        metavar="DATE",
        help="first session date of the audit period (the lookback reaches before)",
    )
    p.add_argument(
        "--to",
        dest="period_to",
        type=_iso_date,
        metavar="DATE",
        help="last session date of the audit period",
    )
    p.add_argument(
        "--month",
        metavar="YYYY-MM",
        help="audit one calendar month: --from its first day, --to its last (not with "
        "--from/--to); fills {month}, {from}, {to} in the settings file's out pattern",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML settings file: every setting (docs/measure.md), and input, out, format for "
        "a repeatable audit (docs/monthly.md); the command line overrides it",
    )
    p.add_argument("--pack", help="guideline pack name or folder (default bmj2025_spine)")
    p.add_argument(
        "--suppression",
        choices=SUPPRESSION_PROFILES,
        help="disclosure control for published counts (default cms)",
    )
    p.add_argument(
        "--omop-site-fallback",
        choices=OMOP_SITE_FALLBACKS,
        help="OMOP records whose visit and provider name no care site: the provider is the "
        "site, or one site '(site not recorded)' (default: no site; see docs/inputs-formats.md)",
    )
    p.add_argument(
        "--funnel-overdispersion",
        choices=FUNNEL_OVERDISPERSION,
        help="the funnel plot's limits: exact binomial (none, the default) or widened for "
        "overdispersion (multiplicative or additive random effects; docs/reports.md)",
    )
    p.add_argument(
        "--as-of",
        dest="as_of_date",
        type=_iso_date,
        metavar="DATE",
        help="dates after this are impossible (default: today)",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="DuckDB threads (default: all cores); while the data-quality gate runs alongside "
        "the writing of the outputs, the writing adds one thread of its own",
    )
    p.add_argument(
        "--memory-limit", help="DuckDB memory limit (default 1280MB; past it, spill to disk)"
    )
    p.add_argument("--temp-dir", help="folder DuckDB may spill to")
    p.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where the SQL runs: duckdb (default, this machine) or spark (the same SQL on "
        "Apache Spark; needs the spark extra and Java 17+; docs/spark.md)",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the cluster to run on (spark://host:7077, yarn, k8s://...; "
        "default local[2], or the session spark-submit started)",
    )
    p.add_argument(
        "--decimal-comma",
        action="store_true",
        default=None,
        help="numbers written as text use a decimal comma (1.200,50); default a decimal point",
    )
    p.add_argument(
        "--currency",
        metavar="CODE",
        help="ISO 4217 code of the input's allowed amounts, shown beside every amount "
        "(default USD; amounts are never converted)",
    )
    p.add_argument(
        "--case-list",
        action="store_true",
        default=None,
        help="also write the case list for clinical review (internal/case_list.csv, .parquet: "
        "discordant sessions with patient, claim and provider ids; never shareable)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print the stage table")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="spine-audit",
        description="Audit claims or EHR extracts against the BMJ 2025 guideline on "
        "interventional procedures for chronic non-cancer spine pain.",
    )
    parser.add_argument("--version", action="version", version=f"spine-audit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="audit an extract (canonical, claims, OMOP CDM or FHIR)",
        description="Audit a folder holding patients, diagnoses, procedures (and optional "
        "sites, coverage) as CSV or Parquet files, or a claims, OMOP CDM or FHIR bulk extract "
        "(--format; detected from the file names by default).",
    )
    run.add_argument(
        "input_dir", type=Path, nargs="?", metavar="INPUT_DIR", help="or input in --config"
    )
    run.add_argument(
        "--out",
        type=Path,
        metavar="OUT_DIR",
        help="output folder (replaced if it holds an earlier audit); or out in --config",
    )
    _add_run_options(run)

    demo = sub.add_parser(
        "demo",
        help="audit the bundled synthetic sample into out/",
        description="Run the audit on sample_data/ and write reports to out/.",
    )
    demo.add_argument("--out", type=Path, default=Path("out"), metavar="OUT_DIR")
    _add_run_options(demo)

    gen = sub.add_parser(
        "generate",
        help="write a seeded synthetic extract",
        description="Write realistic synthetic canonical data (multi-site, "
        "multi-year) that exercises every rule of the measure.",
    )
    gen.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    gen.add_argument("--patients", type=int, default=3000)
    gen.add_argument("--sites", type=int, default=12)
    gen.add_argument("--seed", type=int, default=20250101)
    gen.add_argument("--format", choices=("csv", "parquet"), default="csv")
    gen.add_argument(
        "--start",
        type=_iso_date,
        default=date(2019, 1, 1),
        metavar="DATE",
        help="first date of the generated history (default 2019-01-01)",
    )
    gen.add_argument(
        "--end",
        type=_iso_date,
        default=date(2025, 12, 31),
        metavar="DATE",
        help="last date of the generated history (default 2025-12-31)",
    )
    gen.add_argument(
        "--hostile-names",
        action="store_true",
        help="give two large sites names with markup and quotes (to test escaping)",
    )
    gen.add_argument("-q", "--quiet", action="store_true")

    val = sub.add_parser(
        "validate",
        help="run the data-quality gate alone",
        description="Check an extract (conformance, completeness, plausibility) and print a "
        "summary; exit 2 when a check finds an error. See docs/data-quality.md.",
    )
    val.add_argument("input_dir", type=Path, metavar="INPUT_DIR")
    val.add_argument(
        "--out",
        type=Path,
        metavar="OUT_DIR",
        help="also write data_quality/checks.csv and data_quality/offending_rows.csv",
    )
    _add_run_options(val)

    exp = sub.add_parser(
        "export",
        help="write a pseudonymised research export of a finished run",
        description="Write a run's sessions, a patient table and an OMOP cohort table as "
        "Parquet, Hive-partitioned by year and month, with patient ids replaced by HMAC-SHA256 "
        "pseudonyms under a secret key (see docs/export.md). The export is still personal data.",
    )
    exp.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the --out folder of a run")
    exp.add_argument("--out", type=Path, required=True, metavar="EXPORT_DIR")
    exp.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="file holding the secret key: 64 or more hex digits (256 bits or more)",
    )
    exp.add_argument(
        "--key-env", metavar="VAR", help="environment variable holding the secret key (hex)"
    )
    exp.add_argument(
        "--dates",
        choices=("month", "shift", "exact"),
        default="month",
        help="month: dates truncated to the first of the month (default); shift: moved per "
        "patient by 1-180 days earlier or later, derived from the key; exact: as in the run",
    )
    exp.add_argument(
        "--cohort-ids",
        choices=("pseudonym", "source"),
        default="pseudonym",
        help="cohort subject_id: numbers mapped to pseudonyms (default), or the source "
        "person_id (OMOP runs only, with --dates exact: identifiers)",
    )
    exp.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    ver = sub.add_parser(
        "verify",
        help="rerun a finished run and confirm every output is byte-identical",
        description="Recompute a run from its manifest (settings, period, format, pack) into a "
        "temporary folder and compare every output with the run folder and the SHA-256 its "
        "manifest records. Exit 0 when identical, 3 when anything differs (each difference "
        "and its cause listed), 2 when RUN_DIR is not a spine-audit output folder.",
    )
    ver.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the --out folder of a run")
    ver.add_argument(
        "input_dir",
        type=Path,
        nargs="?",
        metavar="INPUT",
        help="the input folder (default: the one the manifest records)",
    )

    vs = sub.add_parser(
        "valuesets",
        help="list every code of a guideline pack for review",
        description="List every code of the pack with its value set, dates, "
        "source and confidence, for clinical review.",
    )
    vs.add_argument("--pack", default="bmj2025_spine", help="pack name or folder")
    vs.add_argument("--format", choices=("csv", "md"), default="csv")
    return parser


def _settings_from(args: argparse.Namespace):
    return load_settings(
        args.config,
        pack=args.pack,
        suppression=args.suppression,
        as_of_date=args.as_of_date,
        threads=args.threads,
        memory_limit=args.memory_limit,
        temp_dir=args.temp_dir,
        omop_site_fallback=args.omop_site_fallback,
        funnel_overdispersion=args.funnel_overdispersion,
        decimal_comma=args.decimal_comma,
        currency=args.currency,
        case_list=args.case_list,
    )


def _resolve_run(args: argparse.Namespace, use_out: bool = True) -> None:
    """The settings file's input, out pattern (run and demo) and format under the command
    line's, and --month as --from/--to: what the command does is then in ``args`` alone."""
    run_file = load_run_file(args.config, FORMATS)
    if args.month is not None:
        if args.period_from or args.period_to:
            raise ConfigError("--month sets --from and --to: give either --month or --from/--to")
        args.period_from, args.period_to = month_period(args.month)
    if getattr(args, "input_dir", None) is None:
        args.input_dir = run_file.input
    if args.input_dir is None:
        raise ConfigError("give INPUT_DIR, or input in the --config file")
    if use_out and args.out is None and run_file.out is not None:
        args.out = run_file.base / expand_out(
            run_file.out, args.month, args.period_from, args.period_to
        )
    args.input_format = args.input_format or run_file.format or "auto"


def _cmd_run(args: argparse.Namespace, input_dir: Path) -> int:
    from audit.failures import user_errors
    from audit.run import run_audit

    settings = _settings_from(args)
    if args.out is None:
        raise ConfigError("give --out, or out in the --config file")
    progress = Progress(args.verbose, args.quiet)
    progress.message(f"spine-audit {__version__}: auditing {input_dir}")
    with user_errors(settings, input_dir, args.out):
        result = run_audit(
            input_dir,
            args.out,
            settings,
            args.period_from,
            args.period_to,
            on_step=progress.step,
            fmt=None if args.input_format == "auto" else args.input_format,
            warn=progress.message,
            argv=args.argv,
            engine=args.engine,
            spark_master=args.spark_master,
        )
    for notice in result.notices:
        progress.message(f"  {notice.level}: {notice.message}")
    outcome_text = ", ".join(f"{k} {v}" for k, v in result.outcomes.items()) or "none"
    progress.message(
        f"done in {progress.elapsed():.1f} s: {result.sessions} sessions ({outcome_text}); "
        f"{result.quarantined} rows quarantined; reports in {args.out}/shareable/index.html, "
        f"identifiers in {args.out}/internal/ (not to be shared)"
    )
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from audit.failures import user_errors
    from audit.gate import GateResult, validate, write_gate_outputs
    from audit.publish import OutputFolder

    fmt = None if args.input_format == "auto" else args.input_format
    settings = _settings_from(args)

    def checked() -> GateResult:
        result = validate(
            args.input_dir, settings, fmt=fmt, engine=args.engine, spark_master=args.spark_master
        )
        print("\n".join(result.summary_lines()))
        return result

    with user_errors(settings, args.input_dir, args.out):
        if not args.out:
            result = checked()
            return EXIT_OK if result.ok else EXIT_USAGE
        warn = lambda text: print(text, file=sys.stderr)  # noqa: E731
        with OutputFolder(args.out, inputs=(args.input_dir,), warn=warn) as folder:
            result = checked()
            write_gate_outputs(folder.internal, result)
            folder.publish(result.digest())
    return EXIT_OK if result.ok else EXIT_USAGE


def _cmd_verify(args: argparse.Namespace) -> int:
    from audit.failures import user_errors
    from audit.verify import verify_run

    with user_errors(load_settings(), args.input_dir or args.run_dir, None):
        result = verify_run(args.run_dir, args.input_dir)
    if result.ok:
        print(f"verified: {len(result.identical)} files identical", file=sys.stderr)
        return EXIT_OK
    print(
        f"not verified: {len(result.differences)} difference(s), "
        f"{len(result.identical)} files identical",
        file=sys.stderr,
    )
    for line in result.differences:
        print(f"  differs: {line}", file=sys.stderr)
    for line in result.causes:
        print(f"  cause: {line}", file=sys.stderr)
    return EXIT_DIFFERS


def _cmd_export(args: argparse.Namespace) -> int:
    from audit.export import export_run, load_key
    from audit.failures import user_errors

    warn = lambda text: print(text, file=sys.stderr)  # noqa: E731
    key = load_key(args.key_file, args.key_env, warn=warn)
    with user_errors(load_settings(), args.run_dir, args.out):
        result = export_run(
            args.run_dir, args.out, key, dates=args.dates, cohort_ids=args.cohort_ids, warn=warn
        )
    if not args.quiet:
        rows = ", ".join(f"{t} {n}" for t, n in result.rows.items())
        print(
            f"wrote {result.folder} (key id {result.key_id}): {rows}; "
            "personal data: share only under a data-use agreement",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:
    from audit.generate import generate

    if args.patients < 1 or args.sites < 1:
        raise UserError("--patients and --sites must be at least 1")
    log = None if args.quiet else (lambda text: print(text, file=sys.stderr))
    try:
        counts = generate(
            args.out_dir,
            patients=args.patients,
            sites=args.sites,
            seed=args.seed,
            fmt=args.format,
            start=args.start,
            end=args.end,
            progress=log,
            hostile_names=args.hostile_names,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not args.quiet:
        rows = ", ".join(f"{t} {n}" for t, n in counts.items())
        print(f"wrote {args.out_dir}: {rows}", file=sys.stderr)
    return EXIT_OK


def _cmd_valuesets(args: argparse.Namespace) -> int:
    from audit.pack import resolve_pack
    from audit.valuesets import render_csv, render_markdown, value_set_rows

    pack = resolve_pack(args.pack)
    text = render_markdown(pack) if args.format == "md" else render_csv(value_set_rows(pack))
    sys.stdout.write(text)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(given)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    # the command line as given (paths as typed): recorded in the internal manifest alone
    args.argv = ["spine-audit", *map(str, given)]
    try:
        if args.command == "run":
            _resolve_run(args)
            return _cmd_run(args, args.input_dir)
        if args.command == "demo":
            from audit.resources import sample_data_dir

            args.input_dir = sample_data_dir()
            _resolve_run(args)
            return _cmd_run(args, args.input_dir)
        if args.command == "verify":
            return _cmd_verify(args)
        if args.command == "generate":
            return _cmd_generate(args)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "validate":
            _resolve_run(args, use_out=False)
            return _cmd_validate(args)
        if args.command == "valuesets":
            return _cmd_valuesets(args)
    except UserError as exc:
        print(f"spine-audit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("spine-audit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback by default
        if args.debug or os.environ.get("SPINE_AUDIT_DEBUG"):
            traceback.print_exc()
        print(
            f"spine-audit: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
