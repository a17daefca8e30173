"""Receiving a multipart/form-data upload without holding it in memory.

The body is parsed as it streams in (python-multipart's push parser): each file part goes
straight into a staging file in the evidence vault's `tmp/` (never the system's temporary
folder, never whole in memory), and is refused with 413 as soon as it passes its field's
limit, before the rest of the body is read. Text fields are small and capped. A malformed
body, a part naming no field or one the route does not take, or a body that ends before its
closing boundary is a 400; anything but multipart/form-data a 415. The staging files are
removed when the `ReceivedForm` closes, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Final

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from changeproof.api.problems import ProblemError, pointer
from changeproof.services.evidence_vault import too_large

__all__ = ["FileField", "ReceivedFile", "ReceivedForm", "receive_form"]

_TEXT_LIMIT: Final = 1024  # bytes of one text field
_MAX_PARTS: Final = 1000


@dataclass(frozen=True, slots=True)
class FileField:
    """A field that takes files: how large one may be, and what it is called in errors."""

    limit: int
    what: str  # "evidence file", "public key file"
    setting: str  # the config setting that decides `limit`, for the hint


@dataclass(slots=True)
class ReceivedFile:
    field: str
    name: str
    handle: IO[bytes]
    size: int = 0


@dataclass(slots=True)
class ReceivedForm:
    """The parts of one form: files by field in the order sent, text fields by name."""

    files: list[ReceivedFile] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)

    def of(self, name: str) -> list[ReceivedFile]:
        return [f for f in self.files if f.field == name]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> ReceivedForm:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Parts:
    """python-multipart's callbacks: the current part's headers, then its data."""

    def __init__(
        self,
        form: ReceivedForm,
        file_fields: Mapping[str, FileField],
        text_fields: frozenset[str],
        staging: Callable[[], AbstractContextManager[IO[bytes]]],
    ) -> None:
        self.form = form
        self.file_fields = file_fields
        self.text_fields = text_fields
        self.staging = staging
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.file: ReceivedFile | None = None
        self.text: tuple[str, bytearray] | None = None
        self.pending: list[tuple[IO[bytes], bytes]] = []  # written outside the event loop
        self.parts = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > _MAX_PARTS:
            raise ProblemError("invalid-request", f"the form has more than {_MAX_PARTS} parts")
        self.disposition, self.file, self.text = b"", None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        kind, options = parse_options_header(self.disposition)
        if kind != b"form-data" or b"name" not in options:
            raise ProblemError(
                "invalid-request", "a part has no Content-Disposition: form-data; name=…"
            )
        name = _text(options[b"name"], "a part's field name")
        if name in self.file_fields:
            if b"filename" not in options:
                raise _field_error(name, f"{name} takes files: the part has no filename")
            filename = _text(options[b"filename"], f"the file name of a {name} part")
            handle = self.form._stack.enter_context(self.staging())
            self.file = ReceivedFile(name, filename, handle)
            self.form.files.append(self.file)
        elif name in self.text_fields:
            if name in self.form.texts:
                raise _field_error(name, f"{name} is given twice")
            self.text = (name, bytearray())
        else:
            raise _field_error(name, f"the form takes no field {name!r}")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.file is not None:
            self.file.size += len(chunk)
            spec = self.file_fields[self.file.field]
            if self.file.size > spec.limit:
                raise too_large(
                    self.file.name, spec.limit, spec.what, spec.setting, self.file.field
                )
            self.pending.append((self.file.handle, chunk))
        elif self.text is not None:
            self.text[1].extend(chunk)
            if len(self.text[1]) > _TEXT_LIMIT:
                raise _field_error(self.text[0], f"{self.text[0]} is over {_TEXT_LIMIT} bytes")

    def on_part_end(self) -> None:
        if self.text is not None:
            name, value = self.text
            self.form.texts[name] = _text(bytes(value), name)

    def on_end(self) -> None:
        self.ended = True


def _text(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError("invalid-request", f"{what} is not UTF-8") from None


def _field_error(name: str, detail: str) -> ProblemError:
    return ProblemError("invalid-request", detail, errors=((pointer(name), detail),))


def _write(pending: list[tuple[IO[bytes], bytes]]) -> None:
    for handle, chunk in pending:
        handle.write(chunk)


async def receive_form(
    request: Request,
    file_fields: Mapping[str, FileField],
    text_fields: frozenset[str],
    staging: Callable[[], AbstractContextManager[IO[bytes]]],
) -> ReceivedForm:
    """The request's multipart/form-data body, files staged and rewound for reading."""
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data":
        raise ProblemError("unsupported-media-type", "the body must be multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary:
        raise ProblemError("invalid-request", "the multipart/form-data type has no boundary")
    form = ReceivedForm()
    try:
        parts = _Parts(form, file_fields, text_fields, staging)
        callbacks = {
            name: getattr(parts, name)
            for name in (
                "on_part_begin",
                "on_part_data",
                "on_part_end",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_end",
            )
        }
        try:
            parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]  # a TypedDict of callables
        except (FormParserError, ValueError) as e:
            raise ProblemError(
                "invalid-request", f"the multipart boundary is not valid: {e}"
            ) from e
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except FormParserError as e:
                raise ProblemError(
                    "invalid-request", f"the multipart body is malformed: {e}"
                ) from e
            if parts.pending:
                pending, parts.pending = parts.pending, []
                await run_in_threadpool(_write, pending)
        if not parts.ended:
            raise ProblemError(
                "invalid-request", "the multipart body ends before its last boundary"
            )
        for received in form.files:
            received.handle.flush()
            received.handle.seek(0)
    except BaseException:  # a refusal, a client gone (ClientDisconnect): nothing is left staged
        form.close()
        raise
    return form
