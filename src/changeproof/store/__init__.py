"""SQL storage: the ledger's tables, projections and the unit of work (SQLite and PostgreSQL)."""

from changeproof.store.database import Database, normalize_url
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["Database", "UnitOfWork", "normalize_url"]
