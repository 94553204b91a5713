"""SQL storage (SQLite, PostgreSQL) through SQLAlchemy 2 Core."""
