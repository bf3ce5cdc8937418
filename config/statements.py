"""Compiled statements, reused: the SQL the ORM builds for a queryset, kept under a key that determines it.

Building and compiling a queryset costs more than running it for the few-row reads that clients poll (the status
summary, the indicator list): about a millisecond of Python each, against a tenth of that to send a known
statement and read its rows. `statement_rows` (values() and values_list() querysets) and `statement_objects`
(model instances, with their select_related relations) keep, per database connection (so per thread and per
database), the SQL, parameters and column converters of the first queryset built for a key, and afterwards only
run that statement. Nothing but the statement is kept: every call reads the rows as they are now.

The key must determine the queryset: every input the builder reads (ids, years, the person's scope and roles),
never the person's id standing in for their scope. Tests run with STATEMENT_CHECK on, which builds the queryset
on every call anyway and fails when its SQL or parameters differ from those kept under the same key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import django.db.models.query as django_query
from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldError
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesIterable, ValuesListIterable

M = TypeVar("M", bound=Model)

# A statement around the queryset's, given its SQL: the outer SQL (reading the queryset's columns as `page.<name>`,
# first and in order) and the names of the columns it adds. For what the ORM cannot say, such as joining a few
# names to the rows of a LIMIT after the limit instead of before it.
Around = Callable[[str, BaseDatabaseWrapper], tuple[str, tuple[str, ...]]]

STATEMENTS_KEPT = 500  # per connection; the least recently used is dropped beyond this


@dataclass(frozen=True)
class _Instances:
    """How ModelIterable makes instances of a row: the model's columns, its select_related relations, annotations."""

    model: type[Model]
    start: int
    end: int
    attnames: list[str]
    related: list[Any]  # django's RelatedPopulator for each select_related relation
    annotations: dict[str, int]


@dataclass(frozen=True)
class _Statement:
    sql: str | None  # None: the queryset can match nothing (e.g. an empty `__in`), so no statement is sent
    params: tuple[Any, ...]
    converters: tuple[tuple[int, tuple[Any, list[Any]]], ...]  # Django's (position, (converters, expression))
    shape: str  # "dicts" (values()), "tuples" (values_list()), "flat" (values_list(flat=True)), "instances", "parts"
    names: tuple[str, ...] = ()  # values(): the dict keys
    instances: _Instances | None = None
    width: int = 0  # columns of the queryset's own
    kinds: tuple[str, ...] = ()  # what each of them holds (_kind), which statement_parts' parts must agree on
    parts: tuple[_Statement, ...] = ()  # statement_parts: each part as compiled alone (its width and converters)


class StatementMismatch(AssertionError):
    """A key did not determine its queryset (STATEMENT_CHECK): the key is missing one of the builder's inputs."""


_SHAPES = {
    ValuesIterable: "dicts",
    ValuesListIterable: "tuples",
    FlatValuesListIterable: "flat",
    ModelIterable: "instances",
}


def _compile(queryset: QuerySet[Any], alias: str, around: Around | None) -> _Statement:
    shape = _SHAPES.get(queryset._iterable_class)
    if shape is None or (shape == "instances" and queryset._known_related_objects):  # type: ignore[attr-defined]
        raise TypeError("kept statements take values(), values_list() or plain model querysets")
    query = queryset.query
    compiler = query.get_compiler(using=alias)
    names: tuple[str, ...] = ()
    if shape == "dicts":
        names = tuple(query.selected or [*query.extra_select, *query.values_select, *query.annotation_select])
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Statement(None, (), (), shape, names)
    select = compiler.select
    fields = [s[0] for s in select[0 : compiler.col_count]]
    converters = tuple(compiler.get_converters(fields).items())
    instances = None
    if shape == "instances":
        klass_info = compiler.klass_info
        assert klass_info is not None  # a model query always has one
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        instances = _Instances(
            model=klass_info["model"],
            start=start,
            end=end,
            attnames=[f[0].target.attname for f in select[start:end]],
            related=django_query.get_related_populators(klass_info, select, alias),  # type: ignore[attr-defined]
            annotations=dict(compiler.annotation_col_map or {}),
        )
    if around is not None:
        if shape != "dicts":
            raise TypeError("around takes values() querysets")
        sql, more = around(sql, connections[alias])
        names = (*names, *more)
    kinds = tuple(_kind(field) for field in fields)
    return _Statement(sql, tuple(params), converters, shape, names, instances, width=compiler.col_count, kinds=kinds)


def _kind(expression: Any) -> str:
    """What a column holds, as far as a UNION cares: integers, text, or the field type itself. SQLite converts every
    row of a UNION by the first part's declared column types (a date, a boolean), so the parts must agree."""
    try:
        kind = str(expression.output_field.get_internal_type())
    except (AttributeError, FieldError):  # an expression whose type Django cannot tell: agrees with nothing
        return "unknown"
    if kind.endswith(("IntegerField", "AutoField")) or kind == "ForeignKey":
        return "integer"
    return "text" if kind in ("CharField", "TextField", "SlugField") else kind


def _compile_parts(builds: Sequence[Callable[[], QuerySet[Any]]], alias: str) -> _Statement:
    """One statement for several values_list() querysets: each part's rows tagged with its index and padded with
    NULLs to the widest part (the parts' columns must agree in type where they overlap)."""
    parts = tuple(_compile(build(), alias, None) for build in builds)
    if any(part.shape != "tuples" for part in parts):
        raise TypeError("statement_parts takes values_list() querysets")
    widest = max(part.width for part in parts)
    for column in range(widest):
        kinds = {part.kinds[column] for part in parts if part.sql is not None and column < part.width}
        if len(kinds) > 1:
            raise TypeError(f"statement_parts: column {column + 1} holds {sorted(kinds)} in different parts")
    selects: list[str] = []
    params: list[Any] = []
    for index, part in enumerate(parts):
        if part.sql is not None:
            padding = ", NULL" * (widest - part.width)
            selects.append(f"SELECT {index} AS part, part_{index}.*{padding} FROM ({part.sql}) part_{index}")
            params += part.params
    sql = " UNION ALL ".join(selects) if selects else None
    return _Statement(sql, tuple(params), (), "parts", parts=parts)


def _kept(connection: BaseDatabaseWrapper) -> OrderedDict[Hashable, _Statement]:
    kept = getattr(connection, "_kept_statements", None)
    if kept is None:
        kept = OrderedDict()
        connection._kept_statements = kept  # type: ignore[attr-defined]  # one store per connection wrapper
    return kept


def _statement(alias: str, key: Hashable | None, compile: Callable[[], _Statement]) -> _Statement:
    if key is None:
        return compile()
    kept = _kept(connections[alias])
    statement = kept.get(key)
    if statement is None:
        statement = kept[key] = compile()
        while len(kept) > STATEMENTS_KEPT:
            kept.popitem(last=False)
        return statement
    kept.move_to_end(key)
    if getattr(settings, "STATEMENT_CHECK", False):
        built = compile()
        if (built.sql, built.params) != (statement.sql, statement.params):
            raise StatementMismatch(f"{key!r} 对应的语句与所存的不同：键缺少构建查询所用的输入。")
    return statement


def _fetch(alias: str, statement: _Statement) -> list[Any]:
    if statement.sql is None:
        return []
    return prepared_rows(alias, statement.sql, statement.params)


def prepared_rows(alias: str, sql: str, params: Sequence[Any]) -> list[Any]:
    """The rows of a statement run on every request, prepared on PostgreSQL where settings.DB_PREPARED_STATEMENTS
    leaves psycopg to prepare only what it is told to (prepare_threshold None): PostgreSQL then parses it once per
    connection and may keep a generic plan for it."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        raw = connection.connection
        if connection.settings_dict["OPTIONS"].get("server_side_binding") is True and raw.prepare_threshold is None:
            raw.prepare_threshold = 0  # psycopg prepares the next statement it runs
            try:
                cursor.execute(sql, params)
            finally:
                raw.prepare_threshold = None
        else:
            cursor.execute(sql, params)
        return cursor.fetchall()


def _converted(alias: str, statement: _Statement, rows: list[Any]) -> list[Any]:
    """The rows, each value converted as the queryset would (e.g. SQLite's text datetimes)."""
    if not statement.converters:
        return rows
    connection = connections[alias]
    converted = []
    for row in rows:
        values = list(row)
        for position, (functions, expression) in statement.converters:
            value = values[position]
            for function in functions:
                value = function(value, expression, connection)
            values[position] = value
        converted.append(values)
    return converted


def _run(alias: str, statement: _Statement) -> list[Any]:
    return _converted(alias, statement, _fetch(alias, statement))


def statement_rows(
    model: type[Model], key: Hashable | None, build: Callable[[], QuerySet[Any]], *, around: Around | None = None
) -> list[Any]:
    """The rows of `build()` (a values() or values_list() queryset of `model`) as the queryset gives them (with
    `around`: the rows of that statement), running the statement compiled the first time `key` was asked for on
    this connection. A None key compiles the queryset on every call."""
    alias = router.db_for_read(model) or "default"
    statement = _statement(alias, key, lambda: _compile(build(), alias, around))
    if statement.shape in ("instances", "parts"):
        raise TypeError("statement_rows takes values() querysets; statement_objects takes model querysets")
    rows = _run(alias, statement)
    if statement.shape == "flat":
        return [row[0] for row in rows]
    if statement.shape == "dicts":
        names = statement.names
        return [dict(zip(names, row, strict=True)) for row in rows]
    return [tuple(row) for row in rows]


def statement_objects(model: type[M], key: Hashable, build: Callable[[], QuerySet[M]]) -> list[M]:
    """The instances `build()` (a queryset of `model`, select_related relations included) gives, as statement_rows
    reads rows: with the statement compiled the first time `key` was asked for on this connection."""
    alias = router.db_for_read(model) or "default"
    statement = _statement(alias, key, lambda: _compile(build(), alias, None))
    shape = statement.instances
    if statement.shape != "instances":
        raise TypeError("statement_objects takes model querysets; statement_rows takes values() querysets")
    found: list[M] = []
    if shape is None:  # nothing can match
        return found
    for row in _run(alias, statement):
        instance = shape.model.from_db(alias, shape.attnames, row[shape.start : shape.end])
        for populator in shape.related:
            populator.populate(row, instance)
        for name, position in shape.annotations.items():
            setattr(instance, name, row[position])
        found.append(instance)  # type: ignore[arg-type]  # an instance of build()'s model, which is `model`
    return found


def statement_parts(
    model: type[Model], key: Hashable, builds: Sequence[Callable[[], QuerySet[Any]]]
) -> list[list[tuple[Any, ...]]]:
    """The rows of several values_list() querysets (`builds`, of `model`'s database) as statement_rows gives each,
    read by one statement kept under `key`: for a few rows each, a round trip per queryset costs more than the
    reading. Where the parts' columns overlap they must agree in type (the statement is their UNION ALL)."""
    alias = router.db_for_read(model) or "default"
    statement = _statement(alias, key, lambda: _compile_parts(builds, alias))
    found: list[list[Any]] = [[] for _ in statement.parts]
    for row in _fetch(alias, statement):
        found[row[0]].append(row[1:])
    return [
        [tuple(row[: part.width]) for row in _converted(alias, part, rows)]
        for part, rows in zip(statement.parts, found, strict=True)
    ]
