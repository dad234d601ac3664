"""The one CSV writer every export uses: string cells that a spreadsheet would read as a
formula (OWASP: leading =, +, -, @, tab, carriage return) get a leading single quote.
Numbers produced by our code stay numbers; only strings are neutralised."""

from __future__ import annotations

import csv
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """Like `csv.writer`, with every string cell neutralised for spreadsheets."""

    def __init__(self, fileobj: Any, **kwargs: Any):
        self._writer = csv.writer(fileobj, **kwargs)

    def writerow(self, row: list[Any]) -> Any:
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: list[list[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fileobj: Any, **kwargs: Any) -> SafeWriter:
    return SafeWriter(fileobj, **kwargs)
