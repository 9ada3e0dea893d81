"""TaskRegistry: maps a Task state's ``Resource`` (ARN or ARN pattern) to a Python callable.

An instance is passed in (never a module-level dict). Registration is validated at once;
a miss names what is registered. Sync callables run through ``anyio.to_thread``.
"""
from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from engine.clock import Clock, SystemClock
from engine.errors import ErrorName, StatesError
from engine.types import JSON

TaskHandler = Callable[..., Any]
"""``fn(payload)`` or ``fn(payload, ctx)``; sync or async; returns the task result (JSON)."""


@dataclass(slots=True)
class TaskContext:
    """What a task handler may know about the call."""

    resource: str
    state_name: str = ""
    execution_arn: str = ""
    task_token: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    heartbeat: Callable[[], Awaitable[None]] | None = None
    """Handlers of long tasks call this to reset the HeartbeatSeconds timer."""
    credentials: JSON = None
    submitted: Callable[[JSON], None] | None = None
    """For ``.sync`` / ``.waitForTaskToken``: record TaskSubmitted with the API call's response."""
    extra: dict[str, Any] = field(default_factory=dict)


class TaskFailure(Exception):
    """Raised by a handler to fail the task with an exact ASL ``error`` and ``cause``."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        self.error = error
        self.cause = cause
        super().__init__(error if cause is None else f"{error}: {cause}")


class NoHandler(StatesError):
    """Nothing answers a resource: States.TaskFailed with a cause naming what is registered."""

    def __init__(self, cause: str) -> None:
        super().__init__(ErrorName.TASK_FAILED, cause)


_ARN_PATTERN = re.compile(r"^(arn:[^\s]+|[A-Za-z0-9_.:*?\-/]+)$")


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: str
    handler: TaskHandler
    takes_context: bool
    is_async: bool


def _describe(fn: TaskHandler) -> tuple[bool, bool]:
    """(takes_context, is_async) for a handler, or TypeError when it cannot be called so."""
    if not callable(fn):
        raise TypeError(f"task handler must be callable, got {type(fn).__name__}")
    sig = inspect.signature(fn)
    positional = [
        p for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    if len(positional) not in (1, 2) and not has_varargs:
        raise TypeError(
            f"task handler {getattr(fn, '__name__', fn)!r} must take (payload) or (payload, ctx), "
            f"it takes {len(positional)} required positional arguments"
        )
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))
    return (len(positional) == 2 or has_varargs), is_async


class TaskRegistry:
    """Resource ARN or pattern (``*`` and ``?`` wildcards) -> handler."""

    def __init__(self) -> None:
        self._exact: dict[str, _Entry] = {}
        self._patterns: list[_Entry] = []
        self._fallback: _Entry | None = None

    def register(self, pattern: str, handler: TaskHandler) -> None:
        """Register ``handler`` for ``pattern``; raises ValueError/TypeError at once when invalid."""
        if not isinstance(pattern, str) or not pattern or not _ARN_PATTERN.match(pattern):
            raise ValueError(f"invalid resource pattern: {pattern!r}")
        if pattern in self._exact or any(e.pattern == pattern for e in self._patterns):
            raise ValueError(f"a handler is already registered for {pattern!r}")
        takes_context, is_async = _describe(handler)
        entry = _Entry(pattern, handler, takes_context, is_async)
        if any(ch in pattern for ch in "*?["):
            self._patterns.append(entry)
        else:
            self._exact[pattern] = entry

    def task(self, pattern: str) -> Callable[[TaskHandler], TaskHandler]:
        """Decorator form of :meth:`register`."""
        def decorate(fn: TaskHandler) -> TaskHandler:
            self.register(pattern, fn)
            return fn
        return decorate

    def fallback(self, handler: TaskHandler) -> TaskHandler:
        """Register one handler for every resource nothing else matches."""
        takes_context, is_async = _describe(handler)
        self._fallback = _Entry("*", handler, takes_context, is_async)
        return handler

    @property
    def patterns(self) -> list[str]:
        """Every registered pattern, exact ones first."""
        return [*self._exact, *(e.pattern for e in self._patterns)]

    def items(self) -> list[tuple[str, TaskHandler]]:
        """(pattern, handler) for every registration, exact ones first."""
        return [(e.pattern, e.handler) for e in (*self._exact.values(), *self._patterns)]

    def _match(self, resource: str, *, fallback: bool = True) -> _Entry | None:
        entry = self._exact.get(resource)
        if entry is not None:
            return entry
        for candidate in self._patterns:
            if fnmatch.fnmatchcase(resource, candidate.pattern):
                return candidate
        return self._fallback if fallback else None

    def has(self, resource: str) -> bool:
        """True when some handler (or the fallback) answers ``resource``."""
        return self._match(resource) is not None

    def registered(self, resource: str) -> bool:
        """True when a registered resource or pattern (not the fallback) answers ``resource``."""
        return self._match(resource, fallback=False) is not None

    @property
    def has_fallback(self) -> bool:
        return self._fallback is not None

    async def call(self, resource: str, payload: JSON, ctx: TaskContext, *, fallback: bool = True) -> JSON:
        """Run the handler for ``resource`` and let its exceptions through unchanged (NoHandler on a miss)."""
        entry = self._match(resource, fallback=fallback)
        if entry is None:
            raise NoHandler(self.missing_cause(resource))
        args: tuple[Any, ...] = (payload, ctx) if entry.takes_context else (payload,)
        if entry.is_async:
            return await entry.handler(*args)
        result = await anyio.to_thread.run_sync(lambda: entry.handler(*args))
        if inspect.isawaitable(result):
            result = await result
        return result

    def missing_cause(self, resource: str) -> str:
        """The cause text for a resource nothing answers."""
        known = ", ".join(self.patterns) or "none"
        return f"No task handler is registered for resource '{resource}'. Registered: {known}."

    async def invoke(self, resource: str, payload: JSON, ctx: TaskContext) -> JSON:
        """Run the handler for ``resource``; its exceptions become StatesError (see to_states_error)."""
        try:
            return await self.call(resource, payload, ctx)
        except anyio.get_cancelled_exc_class():
            raise
        except StatesError:
            raise
        except Exception as exc:  # the one place a callable's exception becomes (error, cause)
            raise to_states_error(exc) from exc


@contextmanager
def held(clock: object) -> Iterator[None]:
    """While a task runs, a clock that skips time (engine.clock.ScaledClock at scale 0) must not skip."""
    hold = getattr(clock, "hold", None)
    if hold is None:
        yield
        return
    with hold():
        yield


@contextmanager
def unheld(clock: object) -> Iterator[None]:
    """Inside a task, while it only waits for work that follows the clock itself (a nested execution)."""
    release = getattr(clock, "release", None)
    if release is None:
        yield
        return
    with release():
        yield


def to_states_error(exc: BaseException) -> StatesError:
    """The ASL (error, cause) for an exception raised by a task handler.

    TaskFailure gives its error and cause verbatim; any other exception is named by its
    class (as Lambda reports an unhandled Python exception) with its message as cause.
    """
    if isinstance(exc, TaskFailure):
        return StatesError(exc.error, exc.cause)
    if isinstance(exc, StatesError):
        return exc
    return StatesError(type(exc).__name__, str(exc))


def load_tasks(spec: str, registry: TaskRegistry | None = None) -> TaskRegistry:
    """``statesim serve --tasks``: import a module (``pkg.mod``) or a ``.py`` file and take its tasks.

    The module either defines ``registry`` (a TaskRegistry) or a function ``register(registry)``
    that registers its handlers on the registry it is given.
    """
    import importlib
    import importlib.util
    import sys
    from pathlib import Path

    if spec.endswith(".py") or "/" in spec:
        path = Path(spec).resolve()
        name = f"statesim_tasks_{path.stem}"
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ValueError(f"cannot load tasks from {spec!r}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        loader_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(spec)
    registry = registry if registry is not None else TaskRegistry()
    found = getattr(module, "registry", None)
    if isinstance(found, TaskRegistry):
        return found
    register = getattr(module, "register", None)
    if callable(register):
        register(registry)
        return registry
    raise ValueError(f"{spec!r} defines neither 'registry' (a TaskRegistry) nor 'register(registry)'")
