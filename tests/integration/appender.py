"""A separate OS process that appends to an instance's ledger (for concurrency and crash tests).

    python -m tests.integration.appender HOME WORKER BATCHES SIZE...

Appends BATCHES transactions, cycling through the SIZE list, each a batch of
`artifact.recorded` events tagged with the worker and batch number; after each commit
it prints `committed WORKER BATCH SIZE` and flushes, so a parent knows what is durable.
BATCHES 0 means: forever (until killed).
"""

from __future__ import annotations

import hashlib
import itertools
import sys
from pathlib import Path

from changeproof.bootstrap import SystemClock, open_instance
from changeproof.domain.artifacts import Artifact, ArtifactRecorded, Sha256
from changeproof.domain.events import Event
from changeproof.services.instance import load_signer
from changeproof.store.unit_of_work import UnitOfWork


def main(argv: list[str]) -> None:
    home, worker, batches, *sizes = argv
    instance = open_instance(Path(home))
    clock = SystemClock()
    signer = load_signer(instance.config)
    counter = itertools.count() if int(batches) == 0 else iter(range(int(batches)))
    size_cycle = itertools.cycle(int(s) for s in sizes)
    for batch in counter:
        size = next(size_cycle)
        with UnitOfWork(instance.db, signer, clock) as uow:
            for k in range(size):
                artifact = Artifact(
                    service=f"worker-{worker}",
                    version=f"{worker}-{batch}",
                    name=f"{k}/{size}",
                    size=k,
                    sha256=Sha256(hashlib.sha256(f"{worker}/{batch}/{k}".encode()).hexdigest()),
                )
                uow.record(Event.of(ArtifactRecorded.of(artifact), worker, clock.now()))
        sys.stdout.write(f"committed {worker} {batch} {size}\n")
        sys.stdout.flush()
    instance.close()


if __name__ == "__main__":
    main(sys.argv[1:])
