"""InlineCode nodes: run the node's Python in a fresh, isolated subprocess with limits.

AWS runs the code like an interactive session: inputs are variables, the value of the last
line (when it is an expression) is the node's ``response`` [doc: flows-nodes]. The code never
runs in the server process: a ``python -I`` child gets the code and variables on stdin, caps
its own memory (RLIMIT_AS) and CPU time, and is killed when the wall-clock limit passes.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import anyio
import anyio.abc

from engine.types import JSON

_RUNNER = r'''
import ast, json, resource, sys
request = json.loads(sys.stdin.read())
limit = request["memory"]
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
cpu = request["cpu"]
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
out = sys.stdout
sys.stdout = open("/dev/null", "w")
def answer(body):
    out.write(json.dumps(body))
    out.flush()
try:
    tree = ast.parse(request["code"], "<inline code>")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    scope = dict(request["variables"])
    scope["__name__"] = "__main__"
    exec(compile(tree, "<inline code>", "exec"), scope)
    value = eval(compile(ast.Expression(last.value), "<inline code>", "eval"), scope) if last else None
    try:
        answer({"ok": True, "value": value})
    except (TypeError, ValueError) as exc:
        answer({"ok": False, "error": "TypeError", "message": "The result is not JSON serializable: " + str(exc)})
except MemoryError:
    answer({"ok": False, "error": "MemoryError", "message": "The code exceeded the memory limit."})
except BaseException as exc:
    answer({"ok": False, "error": type(exc).__name__, "message": str(exc)})
'''


@dataclass(frozen=True, slots=True)
class InlineResult:
    """What a run gave: ``value`` when ``ok``, else the error class name and message."""

    ok: bool
    value: JSON = None
    error: str = ""
    message: str = ""


async def run_inline(code: str, variables: dict[str, JSON], *, timeout: float = 5.0,
                     memory_mb: int = 512) -> InlineResult:
    """Run ``code`` with ``variables`` in a child process; never raises for the code's own errors."""
    request = json.dumps({"code": code, "variables": variables, "memory": memory_mb * 1024 * 1024,
                          "cpu": max(1, int(timeout) + 1)}).encode()
    command = [sys.executable, "-I", "-S", "-c", _RUNNER]
    process = await anyio.open_process(command, start_new_session=True)
    try:
        with anyio.fail_after(timeout):
            stdout, stderr = await _communicate(process, request)
    except TimeoutError:
        return InlineResult(False, error="TimeoutError", message=f"The code did not finish within {timeout:g} seconds.")
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.aclose()
    try:
        body = json.loads(stdout.decode() or "null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        reason = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
        return InlineResult(False, error="ProcessError", message=f"The code's process ended abnormally: {reason[0]}")
    if body.get("ok"):
        return InlineResult(True, body.get("value"))
    return InlineResult(False, error=str(body.get("error")), message=str(body.get("message")))


async def _read(stream: anyio.abc.ByteReceiveStream | None, into: list[bytes]) -> None:
    if stream is None:
        return
    async for chunk in stream:
        into.append(chunk)


async def _communicate(process: anyio.abc.Process, request: bytes) -> tuple[bytes, bytes]:
    out: list[bytes] = []
    err: list[bytes] = []
    async with anyio.create_task_group() as group:
        group.start_soon(_read, process.stdout, out)
        group.start_soon(_read, process.stderr, err)
        if process.stdin is not None:
            await process.stdin.send(request)
            await process.stdin.aclose()
        await process.wait()
    return b"".join(out), b"".join(err)
