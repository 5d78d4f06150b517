"""Shared reading of small CSV tables: existence, encoding, header lookup, numbers, ordering."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from edss.errors import DataError

# Cell texts that mean "no value" in the tables we read.
MISSING_TOKENS = frozenset({"", "n/a", "na", "nan", "none", "null", "-", "?"})


class Row:
    """One data row of a CSV table: its 1-based line number and its cells."""

    __slots__ = ("cells", "line")

    def __init__(self, line: int, cells: list[str]) -> None:
        self.line = line
        self.cells = cells


def read_csv(path: Path, what: str) -> tuple[list[str], list[Row]]:
    """Read a CSV file as a header and its non-blank rows.

    A UTF-8 byte-order mark (as spreadsheet programs write it) is accepted. Rows whose cells
    are all blank hold no data and are skipped.

    Args:
        path: the CSV file.
        what: a noun phrase for messages, e.g. ``"the patient table"``.

    Returns:
        The header cells, as written, and the data rows.

    Raises:
        DataError: the file is missing, not UTF-8 text, not parseable CSV, or has no header.
    """
    if path.is_dir():
        raise DataError.about(path, f"{what} (a CSV file)", "a folder")
    if not path.exists():
        raise DataError.about(path, f"{what} (a CSV file)", "no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError.about(
            path, f"{what} as UTF-8 text", f"undecodable bytes at offset {exc.start}"
        ) from exc
    except OSError as exc:
        raise DataError.about(path, f"{what} (a readable file)", f"{exc}") from exc

    reader = csv.reader(io.StringIO(text))
    rows: list[Row] = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append(Row(reader.line_num, cells))
    except csv.Error as exc:
        raise DataError.about(
            path, f"{what} in CSV format", f"{exc} at line {reader.line_num}"
        ) from exc
    if not rows:
        raise DataError.about(path, f"{what} with a header row", "an empty file")
    return rows[0].cells, rows[1:]


def column_positions(
    path: Path, header: list[str], required: list[str], optional: list[str], what: str
) -> dict[str, int]:
    """Find columns by name, ignoring case and surrounding spaces.

    Args:
        path: the table, for messages.
        header: the header cells.
        required: names that must be present.
        optional: names used when present.
        what: a noun phrase for messages.

    Returns:
        The position of each present column, keyed by the lower-case name.

    Raises:
        DataError: a required column is missing or a column name appears twice.
    """
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        if key in positions and key in (*required, *optional):
            raise DataError.about(
                path, f"{what} with one column named {key!r}", f"it twice in {header}"
            )
        positions.setdefault(key, index)
    missing = [name for name in required if name not in positions]
    if missing:
        raise DataError.about(
            path,
            f"{what} with columns {required}",
            f"no column {missing} among {[cell.strip() for cell in header]}",
        )
    return {name: positions[name] for name in (*required, *optional) if name in positions}


def check_width(path: Path, header: list[str], row: Row, what: str) -> None:
    """Raise unless ``row`` has as many cells as the header.

    Raises:
        DataError: the counts differ.
    """
    if len(row.cells) != len(header):
        raise DataError.about(
            path,
            f"{what} rows of {len(header)} cells like the header",
            f"{len(row.cells)} cells at line {row.line}",
        )


def is_missing(text: str) -> bool:
    """Whether a cell means "no value" (blank, N/A, NA, NaN, none, null, -, ?)."""
    return text.strip().lower() in MISSING_TOKENS


def parse_number(text: str) -> float | None:
    """A finite float from a cell, or None when the text is not one."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def natural_key(text: str) -> list[object]:
    """Sort key that orders embedded numbers by value: ``p2`` before ``p10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def valid_edss(value: float) -> bool:
    """Whether a number lies on the EDSS scale, 0 to 10."""
    return 0.0 <= value <= 10.0
