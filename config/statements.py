"""Compiled statements, reused: the SQL the ORM builds for a values() queryset, kept under a key that determines it.

Building and compiling a queryset costs more than running it for the few-row reads that clients poll (the status
summary, the indicator list): about a millisecond of Python each, against a tenth of that to send a known
statement and read its rows. `statement_rows` keeps, per database connection (so per thread and per database),
the SQL, parameters and column converters of the first queryset built for a key, and afterwards only runs that
statement. Nothing but the statement is kept: every call reads the rows as they are now.

The key must determine the queryset: every input the builder reads (ids, years, the person's scope and roles),
never the person's id standing in for their scope. Tests run with STATEMENT_CHECK on, which builds the queryset
on every call anyway and fails when its SQL or parameters differ from those kept under the same key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import FlatValuesListIterable, ValuesIterable, ValuesListIterable

# A statement around the queryset's, given its SQL: the outer SQL (reading the queryset's columns as `page.<name>`,
# first and in order) and the names of the columns it adds. For what the ORM cannot say, such as joining a few
# names to the rows of a LIMIT after the limit instead of before it.
Around = Callable[[str, BaseDatabaseWrapper], tuple[str, tuple[str, ...]]]

STATEMENTS_KEPT = 500  # per connection; the least recently used is dropped beyond this


@dataclass(frozen=True)
class _Statement:
    sql: str | None  # None: the queryset can match nothing (e.g. an empty `__in`), so no statement is sent
    params: tuple[Any, ...]
    converters: tuple[tuple[int, tuple[Any, list[Any]]], ...]  # Django's (position, (converters, expression))
    names: tuple[str, ...] | None  # values(): the dict keys; None for values_list()
    flat: bool


class StatementMismatch(AssertionError):
    """A key did not determine its queryset (STATEMENT_CHECK): the key is missing one of the builder's inputs."""


def _compile(queryset: QuerySet[Any], alias: str, around: Around | None) -> _Statement:
    iterable = queryset._iterable_class
    if iterable not in (ValuesIterable, ValuesListIterable, FlatValuesListIterable):
        raise TypeError("statement_rows takes values() or values_list() querysets")
    query = queryset.query
    compiler = query.get_compiler(using=alias)
    names = None
    if iterable is ValuesIterable:
        selected = list(query.selected) if query.selected else None
        names = tuple(selected or [*query.extra_select, *query.values_select, *query.annotation_select])
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Statement(None, (), (), names, iterable is FlatValuesListIterable)
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    converters = tuple(compiler.get_converters(fields).items())
    if around is not None:
        if names is None:
            raise TypeError("around takes values() querysets")
        sql, more = around(sql, connections[alias])
        names = (*names, *more)
    return _Statement(sql, tuple(params), converters, names, iterable is FlatValuesListIterable)


def _kept(connection: BaseDatabaseWrapper) -> OrderedDict[Hashable, _Statement]:
    kept = getattr(connection, "_kept_statements", None)
    if kept is None:
        kept = OrderedDict()
        connection._kept_statements = kept  # type: ignore[attr-defined]  # one store per connection wrapper
    return kept


def statement_rows(
    model: type[Model], key: Hashable | None, build: Callable[[], QuerySet[Any]], *, around: Around | None = None
) -> list[Any]:
    """The rows of `build()` (a values() or values_list() queryset of `model`), as the queryset gives them (with
    `around`: the rows of that statement), running the statement compiled the first time `key` was asked for on this
    connection. A None key compiles the queryset on every call."""
    alias = router.db_for_read(model) or "default"
    connection = connections[alias]
    kept = _kept(connection)
    statement = kept.get(key) if key is not None else None
    if statement is None:
        statement = _compile(build(), alias, around)
        if key is not None:
            kept[key] = statement
            if len(kept) > STATEMENTS_KEPT:
                kept.popitem(last=False)
    else:
        kept.move_to_end(key)
        if getattr(settings, "STATEMENT_CHECK", False):
            built = _compile(build(), alias, around)
            if (built.sql, built.params) != (statement.sql, statement.params):
                raise StatementMismatch(f"{key!r} 对应的语句与所存的不同：键缺少构建查询所用的输入。")
    if statement.sql is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows: list[Any] = cursor.fetchall()
    if statement.converters:
        converted = []
        for row in rows:
            values = list(row)
            for position, (functions, expression) in statement.converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
            converted.append(values)
        rows = converted
    if statement.flat:
        return [row[0] for row in rows]
    if statement.names is not None:
        names = statement.names
        return [dict(zip(names, row, strict=True)) for row in rows]
    return [tuple(row) for row in rows]
