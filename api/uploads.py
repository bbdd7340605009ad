"""Streaming catalog uploads: raw bodies or multipart, written to the blob store chunk by chunk.

The body is never held in memory: each chunk is counted (413 as soon as the limit is passed), hashed (the
import id), checked as UTF-8 (a wrong encoding is refused with its line number) and written to a temp file.
The header line is checked as soon as it has arrived, so a file without the required columns is refused
before the rest of it is read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from api.errors import ApiError
from domain.catalog.exports import header_check
from domain.catalog.presets import ImportOptions, delimiter_of

CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"}
JSONL_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/json-lines",
    "application/jsonlines",
}
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MULTIPART_OVERHEAD = 64 * 1024  # part headers and boundaries around the file
_FIRST_LINE_MAX = 1024 * 1024
MAX_HEADER_ECHO = 50
_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def reject(message: str, code: str, status: int = 422, details: Any = None) -> ApiError:
    return ApiError(status, message, code=code, details=details)


def format_from(content_type: str | None, filename: str | None) -> str | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in CSV_TYPES:
        return "csv"
    if media in JSONL_TYPES:
        return "jsonl"
    suffix = Path(filename or "").suffix.lower()
    return EXTENSIONS.get(suffix)


class UploadSink:
    """Receives the file's bytes in order. `close()` returns the import id (sha256 of format + bytes)."""

    def __init__(
        self,
        path: Path,
        *,
        limit: int,
        file_format: str,
        filename: str,
        options: ImportOptions | None = None,
        header_check: Callable[[list[str]], Any] | None = None,
        rows_noun: str = "product",
    ) -> None:
        self.path, self.limit, self.file_format, self.filename = path, limit, file_format, filename
        self.options = options
        # the catalog's header rules (with its import options) by default; other imports (sales) bring their own
        self.header_check, self.rows_noun = header_check, rows_noun
        self._file = path.open("wb")
        # the format is part of the identity: the same bytes read as CSV and as JSON lines are two imports; so are
        # the reading options (preset, mapping, stock mode) when not the defaults
        identity = options.identity() if options is not None else ""
        self._hash = hashlib.sha256(
            file_format.encode() + (b"\x00" + identity.encode() if identity else b"") + b"\n"
        )
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.size = 0
        self._newlines = 0
        self._first_line = bytearray()
        self._first_line_done = False
        self._has_data = False

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.size == 0:
            self._check_start(chunk)
        self.size += len(chunk)
        if self.size > self.limit:
            raise reject(
                f"the upload is larger than the limit of {self.limit} bytes",
                "payload_too_large",
                413,
                {"limit_bytes": self.limit},
            )
        if b"\x00" in chunk:
            raise reject(
                "the file contains NUL bytes: it is binary or UTF-16, not a UTF-8 text file", "binary_file"
            )
        try:
            self._utf8.decode(chunk)
        except UnicodeDecodeError as exc:
            line = self._newlines + chunk.count(b"\n", 0, exc.start) + 1
            raise self._encoding_error(line) from exc
        self._track_lines(chunk)
        self._hash.update(chunk)
        self._file.write(chunk)

    def close(self) -> str:
        try:
            self._utf8.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise self._encoding_error(self._newlines + 1) from exc
        finally:
            self._file.close()
        if not self._first_line_done:
            self._check_first_line(bytes(self._first_line))
        if not self._has_data:
            noun = self.rows_noun
            what = f"{noun} rows after the header" if self.file_format == "csv" else f"{noun} lines"
            raise reject(f"the file has no {what}", "empty_file")
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    # ------------------------------------------------------------------------------------------------
    def _check_start(self, chunk: bytes) -> None:
        for bom, name in _BOMS.items():
            if chunk.startswith(bom) and not chunk.startswith(codecs.BOM_UTF8):
                raise reject(f"the file is {name} encoded; save it as UTF-8 and upload again", "bad_encoding")

    def _encoding_error(self, line: int) -> ApiError:
        return reject(
            f"line {line} is not valid UTF-8 (perhaps Latin-1 or Windows-1252); save the file as UTF-8 and "
            "upload again",
            "bad_encoding",
            details={"line": line},
        )

    def _track_lines(self, chunk: bytes) -> None:
        newlines = chunk.count(b"\n")
        if not self._first_line_done:
            cut = chunk.find(b"\n")
            head = chunk if cut < 0 else chunk[: cut + 1]
            self._first_line += head
            if cut >= 0:
                self._first_line_done = True
                self._check_first_line(bytes(self._first_line))
                self._has_data = self._has_data or bool(chunk[cut + 1 :].strip())
            elif len(self._first_line) > _FIRST_LINE_MAX:
                self._first_line_done = True  # too long to be a header; JSON lines are checked by the import
                if self.file_format == "csv":
                    raise reject(
                        "the first line is longer than 1 MiB: it is not a CSV header", "missing_columns"
                    )
        elif not self._has_data:
            self._has_data = bool(chunk.strip())
        self._newlines += newlines

    def _check_first_line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
        if not text.strip():
            if self.file_format == "csv" or self.size == 0:
                raise reject(
                    "the file is empty"
                    if self.size == 0
                    else "the first line is empty: expected a CSV header naming the columns",
                    "empty_file",
                )
            return
        if self.file_format == "jsonl":
            self._has_data = True
            try:
                first = json.loads(text)
            except ValueError as exc:
                raise reject(f"line 1 is not valid JSON: {exc}", "malformed_file") from exc
            if not isinstance(first, dict):
                raise reject(
                    f"each line must be a JSON object describing one {self.rows_noun}", "malformed_file"
                )
            return
        custom = self.options is not None and self.options.custom_columns
        if custom and self.options is not None and self.options.preset == "amazon":
            return  # flat files put template rows above the header: the import's scan finds and checks it
        try:
            delimiter = delimiter_of(text) if custom else ","
            cells = next(csv.reader([text], strict=True, delimiter=delimiter))
        except (csv.Error, StopIteration) as exc:
            raise reject(f"the header line cannot be read as CSV: {exc}", "malformed_file") from exc
        header = self.header_check(cells) if self.header_check else header_check(cells, self.options)
        if header.fatal:
            problems = [i.message for i in header.issues if i.severity == "error"]
            # domain.catalog.rows caps the problems; the header echoed back is capped here (cells and their length)
            shown = [cell[:100] for cell in cells[:MAX_HEADER_ECHO]]
            details = {"header": shown, "columns": len(cells)}
            raise reject("; ".join(problems), "missing_columns", details=details)


async def stream_raw(body: AsyncIterator[bytes], sink: UploadSink) -> None:
    async for chunk in body:
        sink.write(chunk)


async def stream_multipart(
    body: AsyncIterator[bytes], content_type: str, open_sink: Callable[[str | None, str | None], UploadSink]
) -> UploadSink:
    """Feeds the first file part to a sink opened from its filename and content type; other parts are ignored."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise reject("multipart body without a boundary", "bad_request", 400)
    state: dict[str, Any] = {
        "headers": {},
        "field": b"",
        "value": b"",
        "sink": None,
        "in_file": False,
        "done": False,
    }

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].decode("latin-1").lower()] = state["value"].decode("utf-8", "replace")
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(state["headers"].get("content-disposition", ""))
        filename = opts.get(b"filename")
        state["in_file"] = filename is not None and not state["done"]
        if state["in_file"]:
            state["sink"] = open_sink(
                filename.decode("utf-8", "replace"), state["headers"].get("content-type")
            )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["in_file"]:
            state["sink"].write(data[start:end])

    def on_part_end() -> None:
        state["done"] = state["done"] or state["in_file"]
        state["in_file"], state["headers"] = False, {}

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except (ApiError, HTTPException, ClientDisconnect):
        # ours, a stalled body (408), a client gone: passed on as they are
        if state["sink"] is not None:
            state["sink"].discard()
        raise
    except Exception as exc:  # python-multipart raises its own errors on malformed bodies
        if state["sink"] is not None:
            state["sink"].discard()
        raise reject(f"malformed multipart body: {exc}", "bad_request", 400) from exc
    if state["sink"] is None:
        raise reject(
            "the multipart body has no file part (send the file as field 'file')", "bad_request", 400
        )
    return state["sink"]  # type: ignore[no-any-return]
