"""Persistence: the database (SQLite or PostgreSQL), the factory's tables and the embedded IC's tables.

SQLAlchemy is imported only in this package."""
