"""Streaming multipart for ingest uploads: several file parts (the product's images, or one zip) and small form
fields, each file written to a blob-store temp file chunk by chunk and cut off with 413 past its limit.

Zips are read entry by entry with their declared and real sizes capped, so a zip bomb is refused while it inflates.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from api.errors import ApiError

MAX_FIELD_BYTES = 16 * 1024
MAX_FIELDS = 100
_CHUNK = 256 * 1024


@dataclass
class FilePart:
    field: str
    filename: str
    content_type: str | None
    path: Path
    size: int = 0
    head: bytes = b""


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[FilePart] = field(default_factory=list)

    def discard(self) -> None:
        for f in self.files:
            f.path.unlink(missing_ok=True)


def too_large(limit: int, what: str = "a file") -> ApiError:
    return ApiError(
        413,
        f"{what} is larger than the limit of {limit} bytes",
        code="payload_too_large",
        details={"limit_bytes": limit},
    )


async def receive(
    body: AsyncIterator[bytes],
    content_type: str,
    *,
    tmp: Callable[[], Path],
    max_file_bytes: int,
    max_files: int,
) -> Received:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "multipart body without a boundary", code="bad_request")
    out = Received()
    state: dict[str, Any] = {
        "headers": {},
        "hf": b"",
        "hv": b"",
        "file": None,
        "fh": None,
        "name": None,
        "value": bytearray(),
    }

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["hf"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hv"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["hf"].decode("latin-1").lower()] = state["hv"].decode("utf-8", "replace")
        state["hf"], state["hv"] = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(state["headers"].get("content-disposition", ""))
        name = (opts.get(b"name") or b"").decode("utf-8", "replace")
        filename = opts.get(b"filename")
        if filename is not None:
            if len(out.files) >= max_files:
                raise ApiError(413, f"more than {max_files} files in one upload", code="payload_too_large")
            part = FilePart(
                field=name,
                filename=filename.decode("utf-8", "replace")[-300:] or f"file-{len(out.files)}",
                content_type=state["headers"].get("content-type"),
                path=tmp(),
            )
            out.files.append(part)
            state["file"], state["fh"] = part, part.path.open("wb")
        else:
            if len(out.fields) >= MAX_FIELDS:
                raise ApiError(400, f"more than {MAX_FIELDS} form fields", code="bad_request")
            state["name"], state["value"] = name, bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        part: FilePart | None = state["file"]
        if part is not None:
            part.size += len(chunk)
            if part.size > max_file_bytes:
                raise too_large(max_file_bytes, f"file {part.filename[:80]!r}")
            if len(part.head) < 64:
                part.head += chunk[: 64 - len(part.head)]
            state["fh"].write(chunk)
        else:
            state["value"] += chunk
            if len(state["value"]) > MAX_FIELD_BYTES:
                raise ApiError(
                    413, f"form field {state['name'][:40]!r} is too long", code="payload_too_large"
                )

    def on_part_end() -> None:
        if state["fh"] is not None:
            state["fh"].close()
        elif state["name"] is not None:
            out.fields[state["name"]] = bytes(state["value"]).decode("utf-8", "replace")
        state.update(file=None, fh=None, name=None, headers={})

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
        _close(state)
        out.discard()
        raise
    except Exception as exc:  # python-multipart's own errors on malformed bodies
        _close(state)
        out.discard()
        raise ApiError(400, f"malformed multipart body: {exc}", code="bad_request") from exc
    _close(state)
    return out


def _close(state: dict[str, Any]) -> None:
    if state.get("fh") is not None:
        state["fh"].close()


def is_zip(part: FilePart) -> bool:
    return part.head.startswith(b"PK\x03\x04")


def _safe_name(name: str) -> str | None:
    p = PurePosixPath(name)
    if (
        p.is_absolute()
        or ".." in p.parts
        or name.endswith("/")
        or any(part.startswith(".") for part in p.parts)
    ):
        return None  # directories, hidden files (__MACOSX/._x), and names that try to escape are skipped
    return p.as_posix()


def zip_members(
    path: Path, *, max_entries: int, max_total: int
) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ApiError(415, "the zip file is damaged or not a zip", code="unsupported_media_type") from None
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > max_entries:
        archive.close()
        raise ApiError(
            413, f"the zip holds {len(infos)} files; at most {max_entries}", code="payload_too_large"
        )
    if sum(i.file_size for i in infos) > max_total:
        archive.close()
        raise too_large(max_total, "the zip's content")
    members = {}
    for info in infos:
        name = _safe_name(info.filename)
        if name is not None:
            members[name] = info
    # one top folder holding everything (a zipped folder): names are taken relative to it
    tops = {PurePosixPath(n).parts[0] for n in members}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in members):
        top = next(iter(tops))
        members = {n[len(top) + 1 :]: i for n, i in members.items()}
    return archive, members


def extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, limit: int) -> None:
    """Copy one entry out, counting the bytes really inflated (a lying header does not get past `limit`)."""
    written = 0
    with archive.open(info) as src, dest.open("wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise too_large(limit, f"zip entry {info.filename[:80]!r}")
            out.write(chunk)


def read_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = 5 * 1024 * 1024) -> str:
    if info.file_size > limit:
        raise too_large(limit, "the manifest")
    with archive.open(info) as src:
        raw: bytes = _read_capped(src, limit)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "the manifest is not UTF-8 text", code="bad_encoding") from None


def _read_capped(src: BinaryIO, limit: int) -> bytes:
    data = src.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit, "the manifest")
    return data
