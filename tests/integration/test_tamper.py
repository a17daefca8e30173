"""A database administrator edits the ledger behind the instance's back; verify names the entry.

Each test builds a small ledger through the CLI on both backends, tampers with it in raw
SQL (the append-only triggers lifted first, as a DBA can), and checks what a user relies
on: `ledger verify` exits 4 and names the first bad entry, in JSON and in the text on stderr.

The ledger every test starts from (one signed checkpoint per transaction):

    seq 0      instance.initialized (by `init`)    checkpoint at size 1
    seq 1      a.tar.gz                            checkpoint at size 2
    seq 2-4    b, c, d (one transaction)           checkpoint at size 5
    seq 5      e.tar.gz                            checkpoint at size 6
    seq 6-7    f, g (one transaction)              checkpoint at size 8
    seq 8      h.tar.gz                            checkpoint at size 9
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from changeproof.domain.canonical import canonical_json
from changeproof.ledger import (
    Checkpoint,
    CompactRange,
    NoteSigner,
    parse_note,
    verify_inclusion,
)
from changeproof.ledger.keys import parse_public_key
from tests.conftest import Cli, query, tamper

TRANSACTIONS: Final = (("a",), ("b", "c", "d"), ("e",), ("f", "g"), ("h",))
SIZE: Final = 9
LAST: Final = SIZE - 1
CHECKPOINT_SIZES: Final = (1, 2, 5, 6, 8, 9)


# --- building ledgers -------------------------------------------------------------------------


def _attest(cli: Cli, home: Path, folder: Path, *names: str) -> list[int]:
    """Record one file per name in a single transaction; return the seqs it got."""
    folder.mkdir(exist_ok=True)
    files = []
    for name in names:
        path = folder / f"{name}.tar.gz"
        path.write_bytes(f"build of {name}\n".encode())
        files.append(path)
    result = cli(
        "attest", "artifact", *files, "--service", "payments", "--home", home, "--output", "json"
    )
    assert result.code == 0, result.err
    recorded = json.loads(result.out)
    # One record prints as an object, several as a list.
    return [int(r["seq"]) for r in (recorded if isinstance(recorded, list) else [recorded])]


@pytest.fixture
def ledger(home: Path, tmp_path: Path, cli: Cli) -> Path:
    """`home` holding the nine entries drawn in the module docstring."""
    seqs = [s for names in TRANSACTIONS for s in _attest(cli, home, tmp_path / "dist", *names)]
    assert seqs == list(range(1, SIZE))
    stored = query(home, "SELECT tree_size FROM ledger_checkpoints ORDER BY tree_size")
    assert [_int(size) for (size,) in stored] == list(CHECKPOINT_SIZES)
    return home


@pytest.fixture
def big_ledger(home: Path, tmp_path: Path, cli: Cli) -> Path:
    """`home` with 32 entries, so the height-4 subtrees (4, 0) and (4, 1) are stored."""
    for first, count in ((1, 10), (11, 11), (22, 10)):
        names = [f"part{n:02}" for n in range(first, first + count)]
        _attest(cli, home, tmp_path / "dist", *names)
    subtrees = query(home, "SELECT height, idx FROM ledger_subtrees ORDER BY height, idx")
    assert [(_int(h), _int(i)) for h, i in subtrees] == [(4, 0), (4, 1)]
    return home


# --- reading and writing rows as a DBA ---------------------------------------------------------


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _bytes(value: object) -> bytes:
    assert isinstance(value, bytes | memoryview)
    return bytes(value)


def _row(home: Path, seq: int) -> tuple[bytes, bytes, str]:
    """(leaf_hash, body, event_type) of entry `seq`."""
    rows = query(home, f"SELECT leaf_hash, body, event_type FROM ledger_events WHERE seq = {seq}")
    leaf, body, event_type = rows[0]
    return _bytes(leaf), _bytes(body), str(event_type)


def _leaves(home: Path) -> list[bytes]:
    rows = query(home, "SELECT leaf_hash FROM ledger_events ORDER BY seq")
    return [_bytes(leaf) for (leaf,) in rows]


def _newest_note(home: Path) -> str:
    rows = query(home, "SELECT note FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1")
    return str(rows[0][0])


def _origin(home: Path) -> str:
    return parse_note(_newest_note(home))[0].origin


def _backdate(body: bytes) -> bytes:
    """One byte changed: the entry's year 2xxx becomes 1xxx."""
    at = body.index(b'"time":"') + len(b'"time":"')
    assert body[at : at + 1] == b"2"
    return body[:at] + b"1" + body[at + 1 :]


def _forged_body(home: Path, seq: int) -> tuple[bytes, bytes]:
    """A well-formed entry body for `seq`, modelled on the last real one, and its leaf hash."""
    _, template, _ = _row(home, LAST)
    doc = json.loads(template)
    doc["seq"] = seq
    doc["data"]["name"] = "backdoor.tar.gz"
    doc["data"]["sha256"] = hashlib.sha256(b"backdoor").hexdigest()
    body = canonical_json(doc)
    return body, hashlib.sha256(b"\x00" + body).digest()


def _root(leaves: list[bytes]) -> bytes:
    tree = CompactRange()
    tree.extend(leaves)
    return tree.root()


def _append_forged_entry(home: Path) -> bytes:
    """Insert entry SIZE with a correct leaf hash; return the root of the forged tree."""
    body, leaf = _forged_body(home, SIZE)
    tamper(
        home,
        "INSERT INTO ledger_events (seq, leaf_hash, body, event_type) VALUES (:s, :h, :b, :t)",
        params={"s": SIZE, "h": leaf, "b": body, "t": "artifact.recorded"},
    )
    return _root(_leaves(home))


# --- what the user reads ---------------------------------------------------------------------


def _verify_json(cli: Cli, home: Path, *extra: str | Path) -> tuple[int, dict[str, object]]:
    result = cli("ledger", "verify", *extra, "--home", home, "--output", "json")
    doc = json.loads(result.out)
    assert isinstance(doc, dict)
    return result.code, doc


def _assert_tampered_at(cli: Cli, home: Path, seq: int, *extra: str | Path) -> str:
    """`ledger verify` exits 4 and names `seq` in JSON and on stderr; return the message."""
    code, doc = _verify_json(cli, home, *extra)
    assert code == 4, doc
    assert doc["ok"] is False
    assert doc["first_bad_seq"] == seq, doc
    findings = doc["findings"]
    assert isinstance(findings, list)
    assert findings
    assert findings[0]["seq"] == seq
    text = cli("ledger", "verify", *extra, "--home", home)
    assert text.code == 4
    assert text.out == ""
    tampered = [line for line in text.err.splitlines() if line.startswith("TAMPERED: ")]
    assert tampered, text.err
    assert re.search(rf"\b{seq}\b", tampered[0]), tampered[0]
    message = findings[0]["message"]
    assert isinstance(message, str)
    assert message in tampered[0]
    return message


def _assert_verifies(cli: Cli, home: Path, entries: int, *extra: str | Path) -> None:
    code, doc = _verify_json(cli, home, *extra)
    assert code == 0, doc
    assert doc["ok"] is True
    assert doc["entries"] == entries
    assert doc["first_bad_seq"] is None
    assert doc["findings"] == []


# --- an untouched ledger ---------------------------------------------------------------------


def test_untampered_ledger_verifies_and_projections_match(ledger: Path, cli: Cli) -> None:
    _assert_verifies(cli, ledger, SIZE)
    text = cli("ledger", "verify", "--home", ledger)
    assert text.code == 0, text.err
    assert text.out.startswith(f"OK: {SIZE} entries re-hashed")
    assert f"matches {len(CHECKPOINT_SIZES)} checkpoint(s)" in text.out

    rebuilt = cli("ledger", "rebuild", "--check", "--home", ledger)
    assert rebuilt.code == 0, rebuilt.err
    assert "OK: every projection equals its rebuild from the ledger" in rebuilt.out


def test_ledger_entries_prints_a_range_as_the_export_holds_it(
    ledger: Path, cli: Cli, tmp_path: Path
) -> None:
    export = tmp_path / "all.jsonl"
    assert cli("ledger", "export", "--out", export, "--home", ledger).code == 0
    exported = [
        line
        for line in export.read_text(encoding="utf-8").splitlines()
        if "leaf_hash" in json.loads(line)
    ]

    some = cli("ledger", "entries", "--start", "2", "--end", "5", "--home", ledger)
    every = cli("ledger", "entries", "--home", ledger)
    beyond = cli("ledger", "entries", "--start", "3", "--end", str(SIZE + 1), "--home", ledger)

    assert some.code == 0, some.err
    assert some.out.splitlines() == exported[2:5]
    assert [json.loads(line)["seq"] for line in some.out.splitlines()] == [2, 3, 4]
    assert every.out.splitlines() == exported
    assert beyond.code == 2
    assert f"entries 3..{SIZE + 1} are not in the ledger of {SIZE} entries" in beyond.err
    assert "--start" in beyond.err
    assert "--end" in beyond.err


def test_an_exported_checkpoint_keeps_verifying_as_the_ledger_grows(
    home: Path, cli: Cli, tmp_path: Path
) -> None:
    _attest(cli, home, tmp_path / "dist", "a")
    early = tmp_path / "early.checkpoint"
    assert cli("ledger", "checkpoint", "--out", early, "--home", home).code == 0
    _attest(cli, home, tmp_path / "dist", "b", "c")

    _assert_verifies(cli, home, 4, "--checkpoint", early)
    consistent = cli("ledger", "consistency", "--old", early, "--home", home)
    assert consistent.code == 0, consistent.err
    assert "the tree of size 4 extends the tree of size 2" in consistent.out


# --- (a) a body edited, (b) a leaf hash edited -----------------------------------------------


@pytest.mark.parametrize("seq", [0, 3, LAST], ids=["first", "inside-a-transaction", "last"])
def test_one_byte_of_a_body_changed_is_named(ledger: Path, cli: Cli, seq: int) -> None:
    _, body, _ = _row(ledger, seq)
    tamper(
        ledger,
        "UPDATE ledger_events SET body = :b WHERE seq = :s",
        params={"b": _backdate(body), "s": seq},
    )

    message = _assert_tampered_at(cli, ledger, seq)
    assert message == f"entry {seq}: leaf hash does not match its body (one was altered)"


@pytest.mark.parametrize("seq", [0, 3, LAST], ids=["first", "inside-a-transaction", "last"])
def test_a_leaf_hash_changed_is_named(ledger: Path, cli: Cli, seq: int) -> None:
    leaf, _, _ = _row(ledger, seq)
    forged = bytes([leaf[0] ^ 0x01]) + leaf[1:]
    tamper(
        ledger,
        "UPDATE ledger_events SET leaf_hash = :h WHERE seq = :s",
        params={"h": forged, "s": seq},
    )

    message = _assert_tampered_at(cli, ledger, seq)
    assert message == f"entry {seq}: leaf hash does not match its body (one was altered)"


@pytest.mark.parametrize(
    ("seq", "named", "span"),
    [(5, 5, "entries 5..5"), (3, 2, "entries 2..4")],
    ids=["alone-in-its-transaction", "inside-a-transaction"],
)
def test_a_body_rewritten_with_its_leaf_hash_is_pinned_to_its_checkpoint_interval(
    ledger: Path, cli: Cli, seq: int, named: int, span: str
) -> None:
    """Entry and hash rewritten together: the signed roots bound it to one transaction."""
    _, body, _ = _row(ledger, seq)
    forged = _backdate(body)
    tamper(
        ledger,
        "UPDATE ledger_events SET body = :b, leaf_hash = :h WHERE seq = :s",
        params={"b": forged, "h": hashlib.sha256(b"\x00" + forged).digest(), "s": seq},
    )

    message = _assert_tampered_at(cli, ledger, named)
    assert message.startswith(f"{span} do not hash to the root in the stored signed checkpoint")


# --- (c) an entry deleted --------------------------------------------------------------------


def test_an_entry_deleted_in_the_middle_is_named(ledger: Path, cli: Cli) -> None:
    tamper(ledger, "DELETE FROM ledger_events WHERE seq = 3")

    message = _assert_tampered_at(cli, ledger, 3)
    assert message == "entry 3 is missing (the next entry present is 4)"


def test_the_last_entry_deleted_is_named(ledger: Path, cli: Cli) -> None:
    tamper(ledger, f"DELETE FROM ledger_events WHERE seq = {LAST}")

    message = _assert_tampered_at(cli, ledger, LAST)
    assert message == (
        f"a signed checkpoint covers {SIZE} entries but the ledger holds {LAST}: "
        f"entries {LAST}..{LAST} were removed"
    )


# --- (d) entries moved -----------------------------------------------------------------------


def _swap(home: Path, first: int, second: int) -> None:
    """Move two rows: each seq takes the other's body, leaf hash and event type."""
    statements: list[str] = []
    params: dict[str, object] = {}
    for seq, source in ((first, second), (second, first)):
        leaf, body, event_type = _row(home, source)
        statements.append(
            f"UPDATE ledger_events SET leaf_hash = :h{seq}, body = :b{seq}, "
            f"event_type = :t{seq} WHERE seq = {seq}"
        )
        params |= {f"h{seq}": leaf, f"b{seq}": body, f"t{seq}": event_type}
    tamper(home, *statements, params=params)


@pytest.mark.parametrize(
    ("first", "second"),
    [(3, 6), (1, 2), (2, 4), (0, LAST)],
    ids=["across-transactions", "neighbours", "same-transaction", "first-and-last"],
)
def test_two_entries_swapped_names_the_first(
    ledger: Path, cli: Cli, first: int, second: int
) -> None:
    _swap(ledger, first, second)

    message = _assert_tampered_at(cli, ledger, first)
    assert message == f"entry {first} holds the body of entry {second} (entries were moved)"


# --- (e) entries forged after the end --------------------------------------------------------


def test_a_forged_entry_without_a_checkpoint_is_named_as_unsigned(ledger: Path, cli: Cli) -> None:
    _append_forged_entry(ledger)

    message = _assert_tampered_at(cli, ledger, SIZE)
    assert message == (
        f"entries {SIZE}..{SIZE} are not covered by any signed checkpoint "
        "(written behind the instance's back)"
    )


Signer = Callable[[Path, Checkpoint], str]


def _foreign_signature(home: Path, checkpoint: Checkpoint) -> str:
    """Signed with a fresh key under the instance's own name: the key id gives it away."""
    return NoteSigner(checkpoint.origin, Ed25519PrivateKey.generate()).sign(checkpoint)


def _altered_signature(home: Path, checkpoint: Checkpoint) -> str:
    """The new text under the instance's real signature line for the previous checkpoint."""
    note = _newest_note(home)
    signature_line = note[note.rindex("\n\n") + 2 :]
    return f"{checkpoint.text()}\n{signature_line}"


@pytest.mark.parametrize("sign", [_foreign_signature, _altered_signature])
def test_a_forged_entry_with_a_forged_checkpoint_fails(
    ledger: Path, cli: Cli, sign: Signer
) -> None:
    note = _forge_entry_and_checkpoint(ledger, sign)
    assert parse_note(note)[0].size == SIZE + 1

    code, doc = _verify_json(cli, ledger)
    assert code == 4, doc
    assert doc["ok"] is False
    findings = doc["findings"]
    assert isinstance(findings, list)
    assert findings[0]["seq"] == SIZE
    assert findings[0]["message"].startswith(
        f"entries {SIZE}..{SIZE} are covered only by checkpoints that are not validly signed "
        f"(at sizes {SIZE + 1})"
    )
    text = cli("ledger", "verify", "--home", ledger)
    assert text.code == 4
    assert f"TAMPERED: entries {SIZE}..{SIZE} are covered only by" in text.err


def _forge_entry_and_checkpoint(home: Path, sign: Signer) -> str:
    root = _append_forged_entry(home)
    checkpoint = Checkpoint(_origin(home), SIZE + 1, root)
    note = sign(home, checkpoint)
    tamper(
        home,
        "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, signed_at) "
        "VALUES (:n, :r, :note, '2026-11-25T12:00:00.000000Z')",
        "UPDATE ledger_head SET tree_size = :n, root_hash = :r",
        params={"n": SIZE + 1, "r": root, "note": note},
    )
    return note


@pytest.mark.parametrize("sign", [_foreign_signature, _altered_signature])
def test_a_forged_entry_with_a_forged_checkpoint_is_named(
    ledger: Path, cli: Cli, sign: Signer
) -> None:
    _forge_entry_and_checkpoint(ledger, sign)

    _assert_tampered_at(cli, ledger, SIZE)


# --- (f) the tail truncated with its checkpoints ---------------------------------------------


def _truncate(home: Path, keep: int, *, projections: bool = True) -> None:
    """Delete entries keep.. and every checkpoint covering them; point the head back."""
    tidy = ["DELETE FROM artifacts WHERE seq >= :n"] if projections else []
    tamper(
        home,
        *tidy,
        "DELETE FROM ledger_events WHERE seq >= :n",
        "DELETE FROM ledger_checkpoints WHERE tree_size > :n",
        "UPDATE ledger_head SET tree_size = :n, root_hash = "
        "(SELECT root_hash FROM ledger_checkpoints WHERE tree_size = :n)",
        params={"n": keep},
    )


@pytest.mark.parametrize("removed", [1, 3])
def test_a_truncated_tail_is_caught_only_by_a_checkpoint_kept_elsewhere(
    ledger: Path, cli: Cli, tmp_path: Path, removed: int
) -> None:
    old = tmp_path / "witnessed.checkpoint"
    exported = cli("ledger", "checkpoint", "--out", old, "--home", ledger)
    assert exported.code == 0, exported.err
    keep = SIZE - removed
    _truncate(ledger, keep)

    # The threat model: what is left is a consistent, signed, shorter ledger.
    _assert_verifies(cli, ledger, keep)
    assert cli("ledger", "rebuild", "--check", "--home", ledger).code == 0

    message = _assert_tampered_at(cli, ledger, keep, "--checkpoint", old)
    assert message == (
        f"a signed checkpoint covers {SIZE} entries but the ledger holds {keep}: "
        f"entries {keep}..{SIZE - 1} were removed"
    )
    consistency = cli("ledger", "consistency", "--old", old, "--home", ledger)
    assert consistency.code == 4
    assert f"entries {keep}..{SIZE - 1} were removed" in consistency.err


def test_a_truncated_tail_written_over_by_new_entries_is_caught_by_the_old_checkpoint(
    ledger: Path, cli: Cli, tmp_path: Path
) -> None:
    """Truncate, then let the instance sign new entries past the old size: a split view."""
    old = tmp_path / "witnessed.checkpoint"
    assert cli("ledger", "checkpoint", "--out", old, "--home", ledger).code == 0
    _truncate(ledger, 6)
    assert _attest(cli, ledger, tmp_path / "rewrite", "w", "x", "y", "z") == [6, 7, 8, 9]
    _assert_verifies(cli, ledger, 10)

    # A split view is a rewrite only a key holder can sign: no entry can be named as the one
    # that changed, only that the ledger differs at or before the witnessed size.
    code, doc = _verify_json(cli, ledger, "--checkpoint", old)
    assert code == 4
    assert doc["first_bad_seq"] is None
    message = str(doc["findings"][0]["message"])  # type: ignore[index]
    assert message.startswith(
        f"the ledger differs from the tree of the witnessed checkpoint at size {SIZE}: "
        f"an entry at or before entry {SIZE - 1}"
    )
    assert "a checkpoint cannot tell which entry changed" in message
    assert f"so if they are genuine the change is in entries 6..{SIZE - 1}" in message
    export = tmp_path / "split.jsonl"
    assert cli("ledger", "export", "--out", export, "--home", ledger).code == 0
    offline = subprocess.run(
        [sys.executable, "-m", "changeproof.verify", str(export), "--public-key",
         str(ledger / "public-key.pem"), "--checkpoint", str(old), "--output", "json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert offline.returncode == 4, offline.stderr
    verdict = json.loads(offline.stdout)
    assert verdict["first_bad_seq"] is None
    assert verdict["findings"][0]["message"] == message
    consistency = cli("ledger", "consistency", "--old", old, "--home", ledger)
    assert consistency.code == 4
    assert f"the ledger is not an extension of {old} (size {SIZE})" in consistency.err


def test_appending_over_a_truncated_tail_with_stale_projections_is_an_integrity_failure(
    ledger: Path, cli: Cli, tmp_path: Path
) -> None:
    _truncate(ledger, 6, projections=False)
    new = tmp_path / "w.tar.gz"
    new.write_bytes(b"build of w\n")

    result = cli("attest", "artifact", new, "--service", "payments", "--home", ledger)

    assert result.code == 4, result.err


@pytest.mark.parametrize(
    ("planted", "command"),
    [
        # artifacts is written through the driver, in the batch with the ledger's own rows
        # (one pipeline on PostgreSQL); policy_activations through SQLAlchemy Core, before it.
        (
            "INSERT INTO artifacts (seq, service, version, name, size, sha256, actor, "
            "recorded_at, release) VALUES (9, 'payments', NULL, 'w.tar.gz', 11, "
            "'00', 'dba', '2026-11-25T00:00:00Z', NULL)",
            ("attest", "artifact", "{w}", "--service", "payments"),
        ),
        (
            "INSERT INTO policy_activations (seq, digest, previous_digest, source, actor, "
            f"activated_at) VALUES (9, '{'0' * 64}', NULL, NULL, 'dba', '2026-11-25T00:00:00Z')",
            ("policy", "activate", "{policy}"),
        ),
    ],
    ids=["driver-projection", "core-projection"],
)
def test_a_projection_row_planted_ahead_of_the_ledger_stops_the_next_append(
    ledger: Path, cli: Cli, tmp_path: Path, planted: str, command: tuple[str, ...]
) -> None:
    tamper(ledger, planted)
    files = {"{w}": tmp_path / "w.tar.gz", "{policy}": tmp_path / "changeproof.yaml"}
    files["{w}"].write_bytes(b"build of w\n")
    files["{policy}"].write_text(
        "version: 1\nenvironments:\n  production:\n    controls: [ticket-reference]\n"
    )
    table = planted.split()[2]

    result = cli(*(str(files.get(part, part)) for part in command), "--home", ledger)

    assert result.code == 4, result.err
    assert f"table {table} holds a row for entry {SIZE}, which the ledger does not hold" in (
        result.err
    )
    assert query(ledger, "SELECT tree_size FROM ledger_head") == [(SIZE,)]
    _assert_verifies(cli, ledger, SIZE)


# --- proofs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [0, 17, 31])
def test_an_inclusion_proof_re_verifies_against_the_signed_checkpoint(
    big_ledger: Path, cli: Cli, seq: int
) -> None:
    result = cli("ledger", "prove", str(seq), "--home", big_ledger)
    assert result.code == 0, result.err
    doc = json.loads(result.out)

    verifier = parse_public_key((big_ledger / "public-key.pem").read_bytes())
    checkpoint = verifier.open(doc["checkpoint"])
    assert (doc["seq"], doc["tree_size"]) == (seq, 32)
    assert checkpoint.size == 32
    assert checkpoint.root_hash.hex() == doc["root_hash"]
    leaf = hashlib.sha256(b"\x00" + doc["body"].encode()).digest()
    assert leaf.hex() == doc["leaf_hash"]
    assert json.loads(doc["body"])["seq"] == seq
    proof = [bytes.fromhex(h) for h in doc["proof"]]
    assert len(proof) == 5
    verify_inclusion(leaf, seq, checkpoint.size, proof, checkpoint.root_hash)
    # The last sibling is the other half of the tree, read from its stored subtree hash.
    other_half = query(big_ledger, f"SELECT hash FROM ledger_subtrees WHERE idx = {1 - seq // 16}")
    assert proof[-1] == _bytes(other_half[0][0])


@pytest.mark.parametrize(("index", "seq"), [(1, 3), (0, 20)])
def test_a_tampered_subtree_hash_stops_a_proof_that_uses_it(
    big_ledger: Path, cli: Cli, index: int, seq: int
) -> None:
    """Proving `seq` in a tree of 32 takes subtree (4, index) as its last sibling."""
    tamper(
        big_ledger,
        "UPDATE ledger_subtrees SET hash = :h WHERE height = 4 AND idx = :i",
        params={"h": hashlib.sha256(b"forged").digest(), "i": index},
    )

    result = cli("ledger", "prove", str(seq), "--home", big_ledger)
    assert result.code == 4
    assert result.out == ""
    assert "the stored ledger does not rebuild the signed root at size 32" in result.err


def test_a_tampered_subtree_hash_is_reported_by_verify(big_ledger: Path, cli: Cli) -> None:
    tamper(
        big_ledger,
        "UPDATE ledger_subtrees SET hash = :h WHERE height = 4 AND idx = 1",
        params={"h": hashlib.sha256(b"forged").digest()},
    )
    proved = cli("ledger", "prove", "3", "--home", big_ledger)
    assert proved.code == 4
    assert "run `changeproof ledger verify` to find the altered entry" in proved.err

    assert cli("ledger", "verify", "--home", big_ledger).code == 4


def test_an_append_over_a_tampered_subtree_hash_signs_the_true_root(
    big_ledger: Path, cli: Cli, tmp_path: Path
) -> None:
    """Appends extend the edge kept on the head, never the proof cache: a forged subtree
    hash cannot reach a signature, and verify names it rather than the new entry."""
    tamper(
        big_ledger,
        "UPDATE ledger_subtrees SET hash = :h WHERE height = 4 AND idx = 1",
        params={"h": hashlib.sha256(b"forged").digest()},
    )
    new = tmp_path / "next.tar.gz"
    new.write_bytes(b"the next build\n")

    result = cli("attest", "artifact", new, "--service", "payments", "--home", big_ledger)
    assert result.code == 0, result.err

    message = _assert_tampered_at(cli, big_ledger, 16)
    assert message == (
        "the stored subtree hash (4, 1) over entries 16..31 does not match them "
        "(the proof cache was altered)"
    )


def test_an_append_over_a_stale_head_edge_and_altered_subtrees_is_refused(
    big_ledger: Path, cli: Cli, tmp_path: Path
) -> None:
    """With the head's edge unusable, the edge comes from the subtrees, which must rebuild
    the signed root, or nothing is signed over them."""
    tamper(
        big_ledger,
        "UPDATE ledger_head SET edge = NULL",
        "UPDATE ledger_subtrees SET hash = :h WHERE height = 4 AND idx = 1",
        params={"h": hashlib.sha256(b"forged").digest()},
    )
    new = tmp_path / "next.tar.gz"
    new.write_bytes(b"the next build\n")

    result = cli("attest", "artifact", new, "--service", "payments", "--home", big_ledger)
    assert result.code == 4, result.out
    assert "refusing to sign over an altered tree" in result.err


def test_an_emptied_ledger_does_not_verify(ledger: Path, cli: Cli) -> None:
    tamper(
        ledger,
        "DELETE FROM ledger_events",
        "DELETE FROM ledger_checkpoints",
        "DELETE FROM ledger_subtrees",
        "DELETE FROM artifacts",
    )
    message = _assert_tampered_at(cli, ledger, 0)
    assert message == "entry 0 is missing: the ledger holds no entries and no checkpoints"


def test_a_head_that_disagrees_with_the_entries_is_named(ledger: Path, cli: Cli) -> None:
    tamper(ledger, "UPDATE ledger_head SET root_hash = :r", params={"r": bytes(32)})
    message = _assert_tampered_at(cli, ledger, SIZE)
    assert "ledger_head was altered" in message
