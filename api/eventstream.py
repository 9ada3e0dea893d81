"""The binary ``application/vnd.amazon.eventstream`` encoding (spec §1.4).

Message = prelude (total length, headers length: big-endian uint32) + prelude CRC-32 +
headers + payload + CRC-32 of everything before it. Only string headers (type 7) are needed.
"""
from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Headers block: name length (1 byte), name, type 7, value length (2 bytes), value."""
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
        out += struct.pack("!B", len(raw_name)) + raw_name
        out += struct.pack("!BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One complete event-stream message."""
    header_bytes = encode_headers(headers)
    prelude = struct.pack("!II", 16 + len(header_bytes) + len(payload), len(header_bytes))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + header_bytes + payload
    return message + struct.pack("!I", zlib.crc32(message))


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def event(event_type: str, body: Any) -> bytes:
    """An ``event`` message whose payload is the event structure's members."""
    return encode_message({":event-type": event_type, ":content-type": "application/json",
                           ":message-type": "event"}, _json(body))


def exception(exception_type: str, body: Any) -> bytes:
    """An ``exception`` message; ``exception_type`` is the lowerCamel stream member name."""
    return encode_message({":exception-type": exception_type, ":content-type": "application/json",
                           ":message-type": "exception"}, _json(body))
