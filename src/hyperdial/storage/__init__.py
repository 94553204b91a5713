"""Where studies live: in memory, or in SQLite / PostgreSQL through SQLAlchemy.

`InMemoryStorage` and `SQLStorage` are loaded when first named, so `import hyperdial`
never imports SQLAlchemy.

>>> from hyperdial.storage import InMemoryStorage, SQLStorage
>>> SQLStorage("sqlite://").list_studies()
[]
"""

from typing import Any

from hyperdial.storage.base import Changes, Storage, StudyInfo, StudySummary, get_storage

__all__ = ["Changes", "InMemoryStorage", "SQLStorage", "Storage", "StudyInfo", "StudySummary", "get_storage"]


def __getattr__(name: str) -> Any:
    if name == "InMemoryStorage":
        from hyperdial.storage.memory import InMemoryStorage

        return InMemoryStorage
    if name == "SQLStorage":
        from hyperdial.storage.sql.storage import SQLStorage

        return SQLStorage
    raise AttributeError(f"module 'hyperdial.storage' has no attribute {name!r}")
