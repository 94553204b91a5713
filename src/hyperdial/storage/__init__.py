"""Where studies live: in memory, or in SQLite / PostgreSQL through SQLAlchemy."""

from hyperdial.storage.base import Changes, Storage, StudyInfo, StudySummary, get_storage

__all__ = ["Changes", "Storage", "StudyInfo", "StudySummary", "get_storage"]
