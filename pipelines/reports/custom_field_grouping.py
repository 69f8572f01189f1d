"""`--by custom-field NAME`: find the matter custom field a report is grouped by.

NAME is the field's name as Clio shows it (`"Referral Source"`, any case) or its column
in `reports.matter_custom_fields` (`referral_source`, or `referral_source_19` when two
fields share a name). The grouping reads that typed column, so a picklist groups by its
labels and a date field by dates.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.errors import ClioSyncError, ConfigError
from pipelines.reports.custom_field_tables import Definition, column_names
from pipelines.reports.engine import Engine, as_engine


class CustomFieldColumnMissing(ClioSyncError):
    """The field exists but the wide table was built before it: the models are stale."""


@dataclass(frozen=True)
class FieldColumn:
    """A live matter custom field and its column in `reports.matter_custom_fields`."""

    field_id: int
    field_name: str
    field_type: str
    column: str


def resolve_matter_field(con: duckdb.DuckDBPyConnection | Engine, name: str) -> FieldColumn:
    """The live matter custom field called `name` (its name, any case, or its column).

    Raises:
        ConfigError: no live matter field answers to `name`, or two do (their columns
            are named so the user can pick one).
        CustomFieldColumnMissing: the field is newer than the last `clio-sync models`.
    """
    engine = as_engine(con)
    fields = _matter_fields(engine)
    wanted = name.strip().casefold()
    by_name = [f for f in fields if f.field_name.strip().casefold() == wanted]
    by_column = [f for f in fields if f.column == wanted]
    found = by_column or by_name
    if len(found) > 1:
        raise ConfigError(
            f"Several matter custom fields are called {name!r}: give the column of the one "
            f"you mean instead ({', '.join(f.column for f in found)})."
        )
    if not found:
        listing = ", ".join(f"{f.field_name!r} ({f.column})" for f in fields)
        raise ConfigError(
            f"There is no live matter custom field {name!r}. "
            + (f"Choose one of: {listing}." if fields else
               "This warehouse holds none: sync custom fields (clio-sync run) first.")
        )
    field = found[0]
    if field.column not in _built_columns(engine):
        raise CustomFieldColumnMissing(
            f"The matter custom field {field.field_name!r} is newer than the reports: "
            f"reports.matter_custom_fields has no column {field.column} yet. Rebuild the "
            "models with `clio-sync models` (a `clio-sync run` does too), then try again."
        )
    return field


def _matter_fields(con: Engine) -> list[FieldColumn]:
    rows = con.execute(
        "select custom_field_id, field_name, field_type from staging.custom_fields "
        "where parent_type = 'Matter' and is_deleted is not true and custom_field_id is not null"
    ).fetchall()
    definitions = [Definition(i, n or "", "Matter", t or "") for i, n, t in rows]
    columns = column_names(definitions, "matter_id")
    return [FieldColumn(d.id, d.name, d.field_type, columns[d.id]) for d in definitions]


def _built_columns(con: Engine) -> set[str]:
    return {c for (c,) in con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? "
        "and table_name = 'matter_custom_fields'", [con.schemas.reports]
    ).fetchall()}
