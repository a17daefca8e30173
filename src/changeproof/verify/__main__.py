"""python -m changeproof.verify EXPORT --public-key KEY [--checkpoint FILE …] [--output json]

Exit 0: every entry re-hashes, the rebuilt tree matches every checkpoint in the export and
every witnessed checkpoint given, and every entry is covered by a valid signature.
Exit 4: something was altered; the first bad entry is named. Exit 2: bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from changeproof.ledger import (
    Checkpoint,
    Finding,
    KeyMismatchError,
    LedgerError,
    NoteFormatError,
    NoteVerifier,
    SignatureError,
    VerificationReport,
    verify_log,
)
from changeproof.ledger.checkpoint import MAX_NOTE_BYTES
from changeproof.ledger.keys import parse_public_key
from changeproof.verify.export import (
    ExportFile,
    ExportFormatError,
    NotRegularFileError,
    open_regular,
)

OK, USAGE, TAMPERED = 0, 2, 4


class _Usage(Exception):
    pass


def _read(path: Path, what: str, limit: int = MAX_NOTE_BYTES) -> bytes:
    try:
        with open_regular(path) as handle:
            return handle.read(limit + 1)
    except NotRegularFileError as e:
        raise _Usage(f"{e}, not a {what}: only regular files are read") from e
    except OSError as e:
        raise _Usage(f"cannot read {what} {path}: {e.strerror}") from e


def _public_key(path: Path) -> NoteVerifier:
    try:
        return parse_public_key(_read(path, "public key file"))
    except LedgerError as e:
        raise _Usage(f"{path} is not an Ed25519 public key: {e}") from e


def _witnessed(path: Path, verifier: NoteVerifier, origin: str) -> Checkpoint:
    data = _read(path, "checkpoint file")
    if len(data) > MAX_NOTE_BYTES:
        raise _Usage(f"{path} is larger than the {MAX_NOTE_BYTES:,}-byte limit for a checkpoint")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Usage(f"{path} is not a signed checkpoint: not UTF-8 text (byte {e.start})") from e
    try:
        checkpoint = verifier.open(text)
    except NoteFormatError as e:
        raise _Usage(f"{path} is not a signed checkpoint: {e}") from e
    except KeyMismatchError as e:
        raise _Usage(f"{path} is not signed by the given public key: {e}") from e
    if checkpoint.origin != origin:
        raise _Usage(f"{path} is a checkpoint of log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def _check_key(export: ExportFile, verifier: NoteVerifier, key_path: Path) -> None:
    """Tell a wrong key (the auditor's mistake, exit 2) from a forged signature (exit 4)."""
    newest = next(export.checkpoint_notes(newest_first=True), None)
    if newest is None:
        return
    try:
        verifier.open(newest)
    except KeyMismatchError as e:
        raise _Usage(f"{key_path} is not the key that signed {export.path}: {e}") from e
    except (SignatureError, NoteFormatError):
        pass  # reported with its seq by the verification itself


def _check_declared_size(export: ExportFile, report: VerificationReport) -> None:
    """The header is not signed, but a file cut short in transit still shows here."""
    declared = export.header.get("tree_size")
    if report.ok and isinstance(declared, int) and declared != report.entries:
        report.findings.append(
            Finding(
                min(declared, report.entries),
                f"the export's header says it holds {declared} entries, but it holds "
                f"{report.entries} (the file was cut short or added to)",
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m changeproof.verify", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("export", type=Path, help="a file made by `changeproof ledger export`")
    parser.add_argument("--public-key", type=Path, required=True, help="PEM or verifier key file")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint kept earlier (witnessed); repeatable",
    )
    parser.add_argument("--output", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    try:
        verifier = _public_key(args.public_key)
        export = ExportFile(args.export)
        _check_key(export, verifier, args.public_key)
        witnessed = [_witnessed(path, verifier, export.origin) for path in args.checkpoint]
        report = verify_log(export, verifier, export.origin, witnessed)
        _check_declared_size(export, report)
    except (_Usage, ExportFormatError) as e:
        print(f"error: {e}", file=sys.stderr)  # noqa: T201
        return USAGE
    except SignatureError as e:
        print(f"TAMPERED: a checkpoint given does not verify: {e}", file=sys.stderr)  # noqa: T201
        return TAMPERED
    if args.output == "json":
        findings = [{"seq": f.seq, "message": f.message} for f in report.findings]
        doc = {
            "ok": report.ok,
            "origin": report.origin,
            "entries": report.entries,
            "root_hash": report.root_hash.hex(),
            "signed_size": report.signed_size,
            "checkpoints_checked": report.checkpoints_checked,
            "first_bad_seq": report.first_bad_seq,
            "findings": findings,
        }
        print(json.dumps(doc, indent=2))  # noqa: T201
    elif report.ok:
        print(  # noqa: T201
            f"OK: {report.entries} entries of {report.origin} verified against "
            f"{report.checkpoints_checked} signed checkpoint(s)"
        )
    else:
        for finding in report.findings:
            print(f"TAMPERED: {finding.message}", file=sys.stderr)  # noqa: T201
    return OK if report.ok else TAMPERED


def _main() -> int:
    try:
        return main()
    except Exception as e:  # last resort: never let a bug look like a verdict (1) or tampering (4)
        print(f"internal error ({type(e).__name__}): a bug in the verifier", file=sys.stderr)  # noqa: T201
        return 70


if __name__ == "__main__":
    sys.exit(_main())
