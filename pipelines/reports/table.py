"""Reports as tables people read: human headers, one table per currency (so money needs
no currency code and gets a total row), and a fit to the terminal's width.

Money is never cut: when the columns do not fit, names are shortened (with `…`), then
the least useful columns are left out (named under the tables), then the total row moves
into a caption that wraps; only then is the table printed wider than the terminal.
CSV and JSON never pass through here: they keep every column under its machine name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Literal

from rich import box
from rich.console import Console
from rich.table import Table

Kind = Literal["text", "label", "money", "number", "date", "month", "percent", "days", "hours"]
GAP = 2  # characters between two columns (collapsed padding)
TEXT_MIN = 12  # a name column is shortened to this before any column is left out
TEXT_FLOOR = 8  # and to this, last, before the table grows wider than the terminal


@dataclass(frozen=True)
class Column:
    """One result column as the table shows it."""

    name: str  # the result column
    header: str  # what the table calls it (a newline makes a two-line header)
    kind: Kind = "text"
    drop: int = 0  # 0: always shown; when too wide, the highest `drop` goes first
    total: bool = False  # summed in the total row (money only)
    missing: str = ""  # shown for null, e.g. "(no attorney)" for a matter without one


@dataclass(frozen=True)
class Layout:
    """How `--format table` shows one report."""

    columns: tuple[Column, ...]
    section_by: str | None = "currency"  # one table per value, named in its title
    totals: bool = True


def render(
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    layout: Layout,
    title: str,
    out: IO[str],
    width: int | None = None,
) -> None:
    """Print `rows` (with result `columns`) as `layout` says, fitted to `width` (default:
    the terminal's; unlimited when `out` is not a terminal)."""
    console = Console(file=out)
    fit_to = width or (console.width if console.is_terminal else None)  # a pipe: never wrap
    limit = fit_to or 10_000
    index = {name: i for i, name in enumerate(columns)}
    wanted = [c for c in layout.columns if c.name in index]
    hidden: list[str] = []
    sections = _sections(rows, index.get(layout.section_by or ""))
    for number, (key, part) in enumerate(sections.items()):
        cells = [[c.missing if row[index[c.name]] is None else cell(row[index[c.name]], c.kind)
                  for c in wanted] for row in part]
        total = _total_row(part, wanted, index) if layout.totals else None
        shown, in_row, widths = _fit(wanted, cells, total, limit)
        table = Table(
            title=f"{title} ({key})" if key else title, title_justify="left",
            header_style="bold", footer_style="bold", box=box.SIMPLE, show_edge=False,
            pad_edge=False, collapse_padding=True, show_footer=bool(total and in_row),
        )
        for i in shown:
            column = wanted[i]
            table.add_column(
                column.header, footer=total[i] if total else "", width=widths[i],
                no_wrap=True, overflow="ellipsis",
                justify="left" if column.kind in ("text", "label", "date", "month") else "right",
            )
        for row_cells in cells:
            table.add_row(*(row_cells[i] for i in shown))
        if total and not in_row:  # the sums as a caption, which wraps
            table.caption = "Total: " + "; ".join(
                f"{wanted[i].header.replace(chr(10), ' ')} {total[i]}"
                for i in range(len(wanted)) if wanted[i].total)
            table.caption_justify = "left"
        console.width = max(fit_to or 40, sum(widths[i] for i in shown) + GAP * (len(shown) - 1))
        if number:
            console.print()
        console.print(table)
        hidden += [wanted[i].header.replace("\n", " ") for i in range(len(wanted))
                   if i not in shown and wanted[i].header.replace("\n", " ") not in hidden]
    note = f"{len(rows)} row(s)"
    if hidden:
        note += (f"; not shown to fit {limit} columns: {', '.join(hidden)} "
                 "(widen the terminal, or --format csv for every column)")
    console.print(note, style="dim", highlight=False)


def cell(value: Any, kind: Kind) -> str:
    """One value as the table shows it."""
    if value is None:
        return ""
    if kind == "money":
        return "-" if value == 0 else f"{value:,.2f}"
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if kind == "days" and isinstance(value, float | Decimal):
        return f"{value:,.1f}"
    if kind == "hours" and isinstance(value, float | Decimal):
        return "-" if value == 0 else f"{value:,.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("_", " ") if kind == "label" else str(value)


def _sections(rows: Sequence[tuple[Any, ...]], at: int | None) -> dict[str, list[tuple[Any, ...]]]:
    """Rows by section value (sorted; the rows keep their order within a section)."""
    if at is None:
        return {"": list(rows)}
    parts: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        parts.setdefault(row[at] or "", []).append(row)
    return {key: parts[key] for key in sorted(parts)} or {"": []}


def _total_row(rows: list[tuple[Any, ...]], wanted: list[Column],
               index: dict[str, int]) -> list[str] | None:
    if not rows or not any(c.total for c in wanted):
        return None
    total = [""] * len(wanted)
    for i, column in enumerate(wanted):
        if column.total:
            total[i] = cell(sum((r[index[column.name]] or 0 for r in rows), Decimal(0)), "money")
    first_text = next((i for i, c in enumerate(wanted) if c.kind == "text"), 0)
    total[first_text] = "Total"
    return total


def _fit(
    wanted: list[Column], cells: list[list[str]], total: list[str] | None, limit: int
) -> tuple[list[int], bool, list[int]]:
    """(the column positions shown, whether the total fits as a row, each column's width)."""
    def natural(i: int, with_totals: bool) -> int:
        lines = wanted[i].header.split("\n")
        values = [row[i] for row in cells] + ([total[i]] if total and with_totals else [])
        return max([len(line) for line in lines] + [len(v) for v in values])

    text_min = TEXT_MIN

    def smallest(i: int, with_totals: bool) -> int:
        full = natural(i, with_totals)
        return min(full, text_min) if wanted[i].kind == "text" else full

    def needed(shown: list[int], with_totals: bool, measure: Callable[[int, bool], int]) -> int:
        return sum(measure(i, with_totals) for i in shown) + GAP * (len(shown) - 1)

    shown = list(range(len(wanted)))
    with_totals = total is not None
    while needed(shown, with_totals, smallest) > limit:
        droppable = [i for i in shown if wanted[i].drop]
        if droppable:
            shown.remove(max(droppable, key=lambda i: (wanted[i].drop, i)))
        elif with_totals:
            with_totals = False
        elif text_min > TEXT_FLOOR:
            text_min = TEXT_FLOOR
        else:
            break
    widths = [natural(i, with_totals) for i in range(len(wanted))]
    excess = needed(shown, with_totals, natural) - limit
    texts = [i for i in shown if wanted[i].kind == "text"]
    while excess > 0:  # shorten the widest name column, one character at a time
        widest = max(texts, key=lambda i: widths[i], default=None)
        if widest is None or widths[widest] <= smallest(widest, with_totals):
            break
        widths[widest] -= 1
        excess -= 1
    return shown, with_totals, widths
