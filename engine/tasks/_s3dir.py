"""A local directory standing for S3 (``statesim serve --s3-dir DIR``): ``DIR/<bucket>/<key>``.

Answers the S3 calls Step Functions makes itself (Distributed Map ItemReader and ResultWriter)
and the ``s3:getObject`` / ``s3:putObject`` / ``s3:listObjectsV2`` integrations, with S3's
error names (``S3.NoSuchKeyException``, ``S3.NoSuchBucketException``).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from engine.errors import StatesError
from engine.types import JSON


def _bucket(root: Path, params: dict[str, Any]) -> Path:
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or not bucket or "/" in bucket or bucket in (".", ".."):
        raise StatesError("S3.InvalidBucketNameException", f"The specified bucket is not valid: {bucket!r}")
    path = root / bucket
    if not path.is_dir():
        raise StatesError("S3.NoSuchBucketException", f"The specified bucket does not exist (Bucket: {bucket})")
    return path


def _object(root: Path, params: dict[str, Any]) -> Path:
    bucket = _bucket(root, params)
    key = params.get("Key")
    if not isinstance(key, str) or not key:
        raise StatesError("S3.InvalidKeyException", "The specified key is not valid")
    path = (bucket / key).resolve()
    if bucket.resolve() not in path.parents:
        raise StatesError("S3.InvalidKeyException", f"The specified key is not valid: {key}")
    return path


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def get_object(root: Path, params: dict[str, Any]) -> JSON:
    path = _object(root, params)
    if not path.is_file():
        raise StatesError("S3.NoSuchKeyException", f"The specified key does not exist. (Key: {params['Key']})")
    data = path.read_bytes()
    return {"Body": data.decode("utf-8", errors="replace"), "ContentLength": len(data), "ETag": _etag(data),
            "ContentType": "application/octet-stream"}


def put_object(root: Path, params: dict[str, Any]) -> JSON:
    path = _object(root, params)
    body = params.get("Body", "")
    data = body.encode() if isinstance(body, str) else bytes(body) if isinstance(body, (bytes, bytearray)) else \
        str(body).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"ETag": _etag(data)}


def list_objects_v2(root: Path, params: dict[str, Any]) -> JSON:
    bucket = _bucket(root, params)
    prefix = params.get("Prefix") or ""
    contents = []
    for path in sorted(p for p in bucket.rglob("*") if p.is_file()):
        key = path.relative_to(bucket).as_posix()
        if key.startswith(prefix):
            stat = path.stat()
            contents.append({"Etag": _etag(path.read_bytes()), "Key": key, "LastModified": int(stat.st_mtime),
                             "Size": stat.st_size, "StorageClass": "STANDARD"})
    return {"Contents": contents, "KeyCount": len(contents), "Name": bucket.name, "Prefix": prefix}


ACTIONS = {"getObject": get_object, "putObject": put_object, "listObjectsV2": list_objects_v2}
