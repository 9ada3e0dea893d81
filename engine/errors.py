"""Engine errors, each defined once.

Hierarchy::

    StatesimError
      InvalidDefinition     definition rejected (carries every Diagnostic)
      StatesError           a runtime failure with an ASL error name and cause
      NotFound              a resource that does not exist (kind + identifier)
      AlreadyExists         a resource that exists already
      Conflict              a request that contradicts the resource's state
      InvalidArgument       a request value the service rejects (AWS ValidationException)

``api/errors.py`` holds the one table from these to AWS exception shapes; nothing in
``engine/`` knows HTTP statuses.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.types import Pointer


class ErrorName(StrEnum):
    """Reserved ASL error names (custom names stay plain strings)."""

    ALL = "States.ALL"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    TIMEOUT = "States.Timeout"
    TASK_FAILED = "States.TaskFailed"
    PERMISSIONS = "States.Permissions"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    BRANCH_FAILED = "States.BranchFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    RUNTIME = "States.Runtime"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"


class StatesimError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a definition, as ValidateStateMachineDefinition reports it."""

    code: str
    """e.g. ``SCHEMA_VALIDATION_FAILED``, ``MISSING_TRANSITION_TARGET``."""
    message: str
    location: Pointer | None = None
    """``/States/X/Next``; None when the problem has no single place."""
    severity: str = "ERROR"
    """``ERROR`` or ``WARNING``."""

    def render(self) -> str:
        """The text AWS puts inside ``Invalid State Machine Definition: '...'``."""
        if self.location is None:  # AWS: "MISSING_END_STATE: Workflow has no terminal state at null"
            return f"{self.code}: {self.message} at null"
        return f"{self.code}: {self.message} at {self.location}"


class InvalidDefinition(StatesimError):
    """A definition that cannot run; carries every problem found."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...], *, message: str | None = None) -> None:
        self.diagnostics = tuple(diagnostics)
        self.message = message or self.render()
        super().__init__(self.message)

    def render(self) -> str:
        errors = [d for d in self.diagnostics if d.severity == "ERROR"] or list(self.diagnostics)
        return "Invalid State Machine Definition: '" + ", ".join(d.render() for d in errors) + "'"


class StatesError(StatesimError):
    """A runtime failure: an ASL error name and a cause, as history records them."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        self.error = str(error)
        self.cause = cause
        super().__init__(f"{self.error}: {cause}" if cause is not None else self.error)


class NotFound(StatesimError):
    """A resource that does not exist: ``kind`` is e.g. ``execution``, ``state_machine``."""

    def __init__(self, kind: str, identifier: str, message: str | None = None) -> None:
        self.kind = kind
        self.identifier = identifier
        self.message = message
        super().__init__(message or f"{kind} does not exist: {identifier}")


class AlreadyExists(StatesimError):
    """A resource that exists already (``kind`` as for NotFound)."""

    def __init__(self, kind: str, identifier: str, message: str | None = None) -> None:
        self.kind = kind
        self.identifier = identifier
        self.message = message
        super().__init__(message or f"{kind} already exists: {identifier}")


class Conflict(StatesimError):
    """A request the resource's current state does not allow (``kind`` names the AWS code)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


class InvalidArgument(StatesimError):
    """A request value the service rejects; ``kind`` names the AWS code (default ValidationException)."""

    def __init__(self, message: str, kind: str = "ValidationException") -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)
