"""Whether the database is set up, so a command can say what to run instead of dying with a traceback.

A command on a database that `xiaoneng migrate` has not prepared fails on its first query
("no such table", "relation … does not exist"). `xiaoneng` (see __main__.py) catches that
database error and asks `problem()` why; the deadline calculator asks `tables_exist()` before
it reads the calendar and falls back on the bundled calendar data.
"""
from __future__ import annotations

from pathlib import Path

from django.db import DatabaseError, connections
from django.utils.translation import gettext as _


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _missing_sqlite_file(alias: str = "default") -> bool:
    """A SQLite path that does not exist yet: connecting would only create an empty file."""
    connection = connections[alias]
    name = str(connection.settings_dict.get("NAME") or "")
    return connection.vendor == "sqlite" and name not in ("", ":memory:") and "mode=memory" not in name and not Path(
        name).exists()


def problem(alias: str = "default") -> str | None:
    """One line saying what to do if the database cannot serve the commands, else None."""
    from django.db.migrations.executor import MigrationExecutor

    if _missing_sqlite_file(alias):
        return _("数据库尚未初始化：请先运行 xiaoneng migrate")
    connection = connections[alias]
    try:
        connection.close()  # a failed statement may have left the transaction aborted (PostgreSQL)
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return _("无法连接数据库（%(error)s）：请检查 DATABASE_URL") % {"error": _first_line(exc)}
    if not plan:
        return None
    if not executor.loader.applied_migrations:
        return _("数据库尚未初始化：请先运行 xiaoneng migrate")
    return _("数据库结构不是最新（%(n)d 个迁移未应用）：请先运行 xiaoneng migrate") % {"n": len(plan)}


def tables_exist(*models, alias: str = "default") -> bool:
    """Whether the tables of these models are there (False if the database cannot be reached)."""
    if _missing_sqlite_file(alias):
        return False
    try:
        names = set(connections[alias].introspection.table_names())
    except DatabaseError:
        return False
    return all(m._meta.db_table in names for m in models)
