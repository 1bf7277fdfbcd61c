"""Item codes: the field an item belongs to (in Python and in SQL) and their natural order."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String


def field_code(code: str) -> str:
    """Return the field of an item code, its first two levels: "2.5.a" → "2.5", "2" → "2".

    In a cooperation notice the fields are the numbered items of the content section
    (2.1 state management … 2.9 defence and security); bullets belong to their field.
    """
    return ".".join(code.split(".", 2)[:2])


class field_code_sql(FunctionElement[str]):  # noqa: N801 (a SQL function, named like one)
    """The same as `field_code`, in SQL."""

    type = String()
    inherit_cache = True
    name = "field_code"


def _field_sqlite(code: str) -> str:
    first = f"instr({code}, '.')"
    second = f"instr(substr({code}, {first} + 1), '.')"
    return (
        f"CASE WHEN {first} > 0 AND {second} > 0 "
        f"THEN substr({code}, 1, {first} + {second} - 1) ELSE {code} END"
    )


def _field_postgresql(code: str) -> str:
    return (
        f"CASE WHEN split_part({code}, '.', 2) = '' THEN {code} "
        f"ELSE split_part({code}, '.', 1) || '.' || split_part({code}, '.', 2) END"
    )


@compiles(field_code_sql)
def _field_code_default(element: field_code_sql, compiler: Any, **kw: Any) -> str:
    return _field_sqlite(compiler.process(element.clauses, **kw))


@compiles(field_code_sql, "postgresql")
def _field_code_postgresql(element: field_code_sql, compiler: Any, **kw: Any) -> str:
    return _field_postgresql(compiler.process(element.clauses, **kw))


def natural_key(code: str) -> tuple[Any, ...]:
    """Sort "2" before "10" and "2.5.a" after "2.5"."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))
