"""A worker process reading changed paths for `changeproof.ingest.git`: run, never imported.

    python -m changeproof.ingest.gitworker REPOSITORY fast|exact

Reads tasks from stdin, each a pickled list of commit SHAs, and answers each on stdout with
a pickled list holding, per commit, its changed paths as (path, added, deleted, old_path)
tuples, or None when reading failed (the parent then reads that task itself and raises the
error there). Exits at the end of stdin. Both pipes belong to the parent process that
started this one: pickles from anyone else never reach it.
"""

from __future__ import annotations

import pickle
import sys

import pygit2

from changeproof.ingest.git import changed_paths

__all__ = ["main"]


def main(argv: list[str]) -> int:
    path, mode = argv
    tasks, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers on the answer pipe
    repo = pygit2.Repository(path)
    fast = mode == "fast"
    while True:
        try:
            shas: list[str] = pickle.load(tasks)  # noqa: S301 - our parent's own pipe
        except EOFError:
            return 0
        answer: list[list[tuple[str, int | None, int | None, str | None]]] | None
        try:
            answer = []
            for sha in shas:
                commit = repo[sha]
                assert isinstance(commit, pygit2.Commit)
                answer.append(
                    [(p.path, p.added, p.deleted, p.old_path) for p in changed_paths(commit, fast)]
                )
        except Exception:  # the parent reads the task again and raises it there
            answer = None
        try:
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
        except BrokenPipeError:  # the parent is gone or stopped listening
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
