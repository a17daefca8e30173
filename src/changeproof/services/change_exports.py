"""Exporting a change to ServiceNow or Jira, and remembering the record it made there."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from changeproof.domain.changes import ChangeExported, change_id
from changeproof.domain.clock import Clock
from changeproof.domain.errors import ConfigError, NotFoundError
from changeproof.domain.events import Event
from changeproof.services.changes import ChangeService, ChangeView
from changeproof.services.ticketing import RemoteTicket, export_change, load_ticketing_config
from changeproof.store import changes as queries
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["ChangeExportService"]


class ChangeExportService:
    def __init__(
        self,
        changes: ChangeService,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        ticketing: Mapping[str, Mapping[str, object]],
        config_file: Path,
        rfc_base_url: str | None = None,
    ) -> None:
        self._changes = changes
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._ticketing = ticketing
        self._config_file = config_file
        self._rfc_base_url = rfc_base_url

    def export(
        self,
        ident: str,
        system: str,
        *,
        by: str,
        environ: Mapping[str, str],
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> tuple[ChangeView, RemoteTicket]:
        """Create or update the change's ticket in ServiceNow or Jira, then record its id
        (`change.exported`) when it is new or the RFC's digest changed since the last export.

        The remote call happens outside any transaction: the ledger is never locked while a
        tracker answers. An export whose record fails afterwards is found again next time.
        """
        where = str(self._config_file)
        table = self._ticketing.get(system)
        if table is None and system in ("servicenow", "jira"):
            raise ConfigError(
                f"{where} has no [{system}] table", hint="docs/ticketing.md shows what to put there"
            )
        config = load_ticketing_config(system, table or {}, environ, where=where)
        view = self._changes.show(ident)
        last = next((e for e in reversed(view.exports) if e.system == system), None)
        remote = (
            None
            if last is None
            else RemoteTicket(config.system, last.remote_id, last.remote_key or "", last.url or "")
        )
        document = view.document()
        if self._rfc_base_url is not None:  # else the ticket names the change and its digest
            document["url"] = f"{self._rfc_base_url.rstrip('/')}/{view.id}"
        ticket = export_change(document, config, remote, transport=transport, sleep=sleep)
        if last is not None and (last.remote_id, last.digest) == (
            ticket.remote_id,
            view.row.digest,
        ):
            return view, ticket
        with self._unit_of_work() as uow:
            row = queries.find_change(uow.conn, view.row.seq)
            if row is None:  # changes are never removed; the store was altered
                raise NotFoundError(f"no change {change_id(view.row.seq)}")
            exported = ChangeExported(
                change=row.seq,
                system=system,
                remote_id=ticket.remote_id,
                key=ticket.key or None,
                url=ticket.url or None,
                digest=row.digest,
            )
            uow.record(Event.of(exported, by, self._clock.now()))
        return self._changes.show(str(row.seq)), ticket
