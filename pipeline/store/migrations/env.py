"""Alembic environment of the claims store.

`Store.migrate()` passes its open connection in `config.attributes["connection"]`;
the command line (`alembic -c pipeline/store/alembic.ini ...`) connects to
CLAIMCHECK_DATABASE_URL or the default SQLite file. Offline (`--sql`) mode
renders SQL for that URL's dialect.
"""

from __future__ import annotations

from alembic import context

from pipeline.store.store import default_url, make_engine
from pipeline.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kw: object) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, **kw)  # type: ignore[arg-type]


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url") or default_url(), literal_binds=True,
               dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or default_url())
    try:
        with engine.begin() as conn:
            _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
