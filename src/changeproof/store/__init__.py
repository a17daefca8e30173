"""SQL storage: the ledger's tables, projections and the unit of work (SQLite and PostgreSQL).

Import from the modules: this package re-exports nothing, so importing one part never
drags in the rest (a command pays only for the modules it uses).
"""
