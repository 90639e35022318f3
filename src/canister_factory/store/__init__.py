"""The store port's implementations: SQLAlchemy (SQLite, PostgreSQL) and, for unit tests, in memory.

``sql.SqlUnitOfWork`` is the one the factory runs on: ``db`` (the engine, transactions, migrations),
``factory_tables`` (the tables), one repository module per concern (``settings``, ``counters``, ``uploads``,
``modules``, ``callers``, ``creations``, ``spends``, ``chunk_stores``) and ``nonces`` (the HTTP face's replay
protection). ``memory.MemoryUnitOfWork`` keeps the same records and transaction semantics in memory.

SQLAlchemy is imported only in this package (not by ``memory``)."""
