"""Real git repositories built in temporary folders with the git command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._tick = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, author: str = "Ada Lovelace <ada@example.com>") -> str:
        name, _, email = author.partition(" <")
        self._tick += 1
        moment = f"2026-01-01T10:{self._tick // 60:02d}:{self._tick % 60:02d}+01:00"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_AUTHOR_DATE": moment,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_DATE": moment,
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes] | None = None,
        *,
        author: str = "Ada Lovelace <ada@example.com>",
    ) -> str:
        for name, content in (files or {f"file-{self._tick}.txt": f"{message}\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
            self.git("add", name)
        self.git("commit", "-q", "-m", message, author=author)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def numstat(self, sha: str) -> list[tuple[str, str, str]]:
        """`git log --numstat` for one commit: (added, deleted, path), '-' for binary."""
        text = self.git("show", "--numstat", "--format=", sha)
        return [tuple(line.split("\t", 2)) for line in text.splitlines() if line]  # type: ignore[misc]


def every_kind_of_change(repo: GitRepo) -> None:
    """Commits holding each kind of change the fast path reads or hands to the tree diff."""
    text = "".join(f"line {n}\n" for n in range(40))
    repo.commit(
        "PAY-1 root",
        {
            "a.txt": text,
            "a-b.txt": "x\n",
            "a.b": "y\n",
            "docs/deep/er/z.md": "z\n",
            "logo.png": b"\x89PNG\x00\x01" * 40,
            "empty.txt": "",
            "no-newline.txt": "last",
            "run.sh": "#!/bin/sh\n",
            "é/ünïcode.txt": "u\n",
        },
    )
    repo.commit(
        "PAY-2 edit text and binary", {"a.txt": text + "end\n", "logo.png": b"\x89PNG\x00\x02"}
    )
    (repo.path / "run.sh").chmod(0o755)
    repo.git("add", "run.sh")
    repo.commit("PAY-3 mode only, and an edit", {"a.b": "y\nz\n"})
    (repo.path / "link").symlink_to("a.txt")
    repo.git("add", "link")
    repo.commit("PAY-4 a symlink", {"docs/new/folder/file.md": "n\n"})
    (repo.path / "link").unlink()
    (repo.path / "link").symlink_to("a.b")
    repo.git("add", "link")
    repo.commit("PAY-5 symlink target", {"empty.txt": "now text\n"})
    (repo.path / "link").unlink()
    repo.commit("PAY-6 symlink turned file", {"link": "a file\n"})
    repo.git("rm", "-q", "-r", "docs/deep")
    repo.commit("PAY-7 delete a folder", {"no-newline.txt": "last\nmore"})
    repo.git("mv", "a.txt", "moved.txt")
    repo.commit("PAY-8 rename and edit", {"moved.txt": text.replace("line 3\n", "three\n")})
    repo.git("rm", "-q", "a-b.txt")
    repo.commit("PAY-9 file turned folder", {"a-b.txt/inside.txt": "i\n"})
    repo.commit("PAY-10 copy of an edited file", {"copy.txt": text, "é/ünïcode.txt": "u\nv\n"})
    repo.git("rm", "-q", "copy.txt", "logo.png")
    repo.git("commit", "-q", "-m", "PAY-11 deletes only")
