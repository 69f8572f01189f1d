"""The models' SQL on another engine: DuckDB SQL transpiled with sqlglot.

The files in `sql/` are written in DuckDB's dialect and stay the one source of truth. On
another engine (PostgreSQL) each statement is parsed as DuckDB SQL and written in the
target's dialect by sqlglot (which dlt already depends on), with three rewrites sqlglot
does not make on its own:

- `getvariable('clio_sync_x')` (DuckDB session variables, see `settings.py`) reads the
  custom setting `clio_sync.x` (`current_setting`, set with `set_config`), NULL when unset;
- `group by all` groups by the position of every projection that is not an aggregate;
- `unnest(generate_series(...))` (DuckDB's series is a list) is the set-returning
  `generate_series(...)` itself;
- `try_cast(x as T)` (NULL where x does not read as T; PostgreSQL has none, and sqlglot
  would write a plain cast, which fails the whole query) asks the helper function
  `staging.clio_sync_reads_as(text, type)` first: `case when ... then cast(x as T) end`.

What sqlglot cannot express in the target raises `UntranslatableSQL` naming the construct,
rather than SQL that means something else; such a model is written portably instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from pipelines.errors import ClioSyncError

SOURCE = "duckdb"  # the dialect of every file in sql/
READS_AS = "staging.clio_sync_reads_as"  # the try_cast helper on PostgreSQL (runner creates it)
READS_AS_DDL = f"""create or replace function {READS_AS}(value text, type_name text)
returns boolean language plpgsql stable as $reads_as$
begin
    -- whether `value` reads as `type_name` (DuckDB's try_cast, made of a cast that may fail)
    execute format('select cast(%L as %s)', value, type_name);
    return true;
exception when others then
    return false;
end
$reads_as$"""
SETTING_PREFIX = "clio_sync_"  # DuckDB variable clio_sync_today -> setting clio_sync.today
PARAMETER = "__clio_sync_parameter__"  # stands in for a `?` while `%` is escaped


class UntranslatableSQL(ClioSyncError):
    """DuckDB SQL that sqlglot cannot write in another dialect with the same meaning."""


def setting_name(variable: str) -> str:
    """`clio_sync_today` -> `clio_sync.today` (a custom setting needs a dotted name)."""
    return "clio_sync." + variable.removeprefix(SETTING_PREFIX)


def translate(sql: str, dialect: str, placeholders: str = "?") -> str:
    """`sql` (DuckDB) in `dialect`; the same text when the dialect is DuckDB's.

    Args:
        placeholders: `?` keeps sqlglot's placeholder of the dialect; `pyformat` writes
            `%s` and doubles every other `%` (for DB-API drivers such as psycopg2, which
            read `%` so only when given parameters).

    Raises:
        UntranslatableSQL: sqlglot cannot parse it or cannot say it in `dialect`.
    """
    if dialect == SOURCE:
        return sql
    return _translate(sql, dialect, placeholders)


@lru_cache(maxsize=512)
def _translate(sql: str, dialect: str, placeholders: str) -> str:
    try:
        statements = [cast(exp.Expression, s) for s in sqlglot.parse(sql, read=SOURCE) if s]
    except SqlglotError as exc:
        raise _untranslatable(exc, dialect) from None
    return ";\n".join(_write(statement, dialect, placeholders) for statement in statements)


def _write(tree: exp.Expression, dialect: str, placeholders: str) -> str:
    try:
        tree = tree.transform(_portable)
        if dialect == "postgres":
            tree = tree.transform(_guarded_cast)
        if placeholders == "pyformat":
            tree = tree.transform(_mark_parameter)
        text = tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise _untranslatable(exc, dialect) from None
    if placeholders == "pyformat":
        text = text.replace("%", "%%").replace(PARAMETER, "%s")
    return text


def _untranslatable(exc: SqlglotError, dialect: str) -> UntranslatableSQL:
    return UntranslatableSQL(
        f"sqlglot cannot write this DuckDB SQL for {dialect}: {' '.join(str(exc).split())} "
        "Write that construct portably (SQL that DuckDB and the other engine read the "
        "same way), as docs/reports.md describes under \"On PostgreSQL\"."
    )


def function_body(sql: str, params: tuple[str, ...], dialect: str) -> tuple[str, list[str]]:
    """A DuckDB table macro's SELECT as the body of a SQL function of `dialect`.

    Each unqualified reference to a parameter becomes its position (`$1`), and its type
    is the one the macro casts it to (`cast(as_of_date as date)`): a macro's parameters
    are untyped, a function's are not.

    Returns:
        The body in `dialect`, and the parameters' types in that dialect.

    Raises:
        UntranslatableSQL: a parameter is never cast, or sqlglot cannot write the body.
    """
    try:
        (parsed,) = [s for s in sqlglot.parse(sql, read=SOURCE) if s is not None]
        tree = cast(exp.Expression, parsed)
    except (SqlglotError, ValueError) as exc:
        raise _untranslatable(exc, dialect) if isinstance(exc, SqlglotError) else \
            UntranslatableSQL(f"A table macro must be one SELECT: {exc}") from None
    types: list[str] = []
    for position, name in enumerate(params, start=1):
        uses = [c for c in tree.find_all(exp.Column) if not c.table and c.name == name]
        casts = [c.parent.to for c in uses if isinstance(c.parent, exp.Cast)]
        if not casts:
            raise UntranslatableSQL(
                f"The macro's parameter {name} is never cast to a type, which a {dialect} "
                f"function needs: write cast({name} as <type>) where the macro first uses it."
            )
        types.append(casts[0].sql(dialect=dialect))
        for column in uses:
            column.replace(exp.Parameter(this=exp.Literal.number(position)))
    return _write(tree, dialect, "?"), types


def _portable(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable":
        return _setting(node)
    if isinstance(node, exp.Select) and isinstance(node.args.get("group"), exp.Group) \
            and node.args["group"].args.get("all"):
        return _group_by_positions(node)
    if isinstance(node, exp.Unnest) and len(node.expressions) == 1 \
            and isinstance(node.expressions[0], exp.GenerateSeries):
        return node.expressions[0]
    if isinstance(node, exp.Explode) and isinstance(node.this, exp.GenerateSeries):
        return node.this
    return node


def _guarded_cast(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.TryCast):
        return node
    value = node.this.transform(_guarded_cast)  # the children of a replaced node are not visited
    type_name = exp.Literal.string(node.to.sql(dialect="postgres"))
    reads = exp.func(READS_AS, exp.cast(value.copy(), "text"), type_name)
    typed = exp.Cast(this=value, to=node.to)
    return cast(exp.Expression, exp.Case(ifs=[exp.If(this=reads, true=typed)]))


def _setting(node: exp.Anonymous) -> exp.Expression:
    (name,) = node.expressions
    if not isinstance(name, exp.Literal) or not name.is_string:
        raise UntranslatableSQL(
            f"getvariable() needs a literal name to become a setting, not {name.sql(SOURCE)}."
        )
    read = exp.func("current_setting", exp.Literal.string(setting_name(name.this)), exp.true())
    return cast(exp.Expression, exp.func("nullif", read, exp.Literal.string("")))


def _group_by_positions(select: exp.Select) -> exp.Select:
    """In place: a replaced node's children would not be visited (getvariable inside)."""
    positions = [
        exp.Literal.number(i)
        for i, projection in enumerate(select.expressions, start=1)
        if not _aggregates(projection)
    ]
    if positions:
        select.set("group", exp.Group(expressions=positions))
    else:
        select.set("group", None)
    return select


def _aggregates(projection: exp.Expression) -> bool:
    """Whether a projection holds an aggregate outside any window (a grouped value)."""
    return any(agg.find_ancestor(exp.Window) is None for agg in projection.find_all(exp.AggFunc))


def _mark_parameter(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Placeholder):
        return exp.var(PARAMETER)
    return node
