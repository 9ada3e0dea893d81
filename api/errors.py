"""AWS exceptions as data, and the ONE table from engine errors to them.

Messages are AWS's own text (recorded responses of the real service), kept beside each
error. ``to_aws`` is the only place an engine error becomes an AWS exception shape.
"""
from __future__ import annotations

from collections.abc import Callable

from engine.errors import AlreadyExists, Conflict, InvalidArgument, InvalidDefinition, NotFound, StatesimError


class AwsError(Exception):
    """An AWS exception: ``code`` is the wire ``__type``; ``message`` None means AWS sends none."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str | None = None, *, code: str | None = None, status: int | None = None) -> None:
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(f"{self.code}: {message}")

    def body(self) -> dict[str, str]:
        """The AWS JSON 1.0 error body."""
        if self.message is None:
            return {"__type": self.code}
        return {"__type": self.code, "message": self.message}


def _error(code: str) -> type[AwsError]:
    return type(code, (AwsError,), {"code": code})


ValidationException = _error("ValidationException")
SerializationException = _error("SerializationException")
UnknownOperationException = _error("UnknownOperationException")
InvalidArn = _error("InvalidArn")
InvalidName = _error("InvalidName")
InvalidToken = _error("InvalidToken")
InvalidDefinitionError = _error("InvalidDefinition")
InvalidExecutionInput = _error("InvalidExecutionInput")
InvalidOutput = _error("InvalidOutput")
MissingRequiredParameter = _error("MissingRequiredParameter")
StateMachineDoesNotExist = _error("StateMachineDoesNotExist")
StateMachineAlreadyExists = _error("StateMachineAlreadyExists")
StateMachineTypeNotSupported = _error("StateMachineTypeNotSupported")
ExecutionDoesNotExist = _error("ExecutionDoesNotExist")
ExecutionAlreadyExists = _error("ExecutionAlreadyExists")
ExecutionNotRedrivable = _error("ExecutionNotRedrivable")
ActivityDoesNotExist = _error("ActivityDoesNotExist")
ActivityAlreadyExists = _error("ActivityAlreadyExists")
ResourceNotFound = _error("ResourceNotFound")
ConflictException = _error("ConflictException")
TooManyTags = _error("TooManyTags")
TaskDoesNotExist = _error("TaskDoesNotExist")
TaskTimedOut = _error("TaskTimedOut")
StateMachineDeleting = _error("StateMachineDeleting")
StateMachineLimitExceeded = _error("StateMachineLimitExceeded")
ActivityLimitExceeded = _error("ActivityLimitExceeded")
ActivityWorkerLimitExceeded = _error("ActivityWorkerLimitExceeded")
ExecutionLimitExceeded = _error("ExecutionLimitExceeded")
InvalidEncryptionConfiguration = _error("InvalidEncryptionConfiguration")
InvalidTracingConfiguration = _error("InvalidTracingConfiguration")


class ServiceQuotaExceededException(AwsError):
    """AWS answers this one with HTTP 402 (the botocore model's httpStatusCode)."""

    code = "ServiceQuotaExceededException"
    status = 402


def invalid_arn(arn: str) -> AwsError:
    """AWS: ``Invalid Arn: '<arn>'`` for text that is no ARN of the expected form."""
    return InvalidArn(f"Invalid Arn: '{arn}'")


def wrong_resource_type(kind: str) -> AwsError:
    """AWS: an ARN of another resource type, e.g. an express execution for DescribeExecution."""
    return InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {kind.lower()}'")


def invalid_name(name: str) -> AwsError:
    return InvalidName(f"Invalid Name: '{name}'")


# kind of NotFound -> (AWS exception, message format)
_NOT_FOUND: dict[str, tuple[type[AwsError], str]] = {
    "state_machine": (StateMachineDoesNotExist, "State Machine Does Not Exist: '{}'"),
    "execution": (ExecutionDoesNotExist, "Execution Does Not Exist: '{}'"),
    "activity": (ActivityDoesNotExist, "Activity Does Not Exist: '{}'"),
    "resource": (ResourceNotFound, "Resource not found: '{}'"),
    "alias": (ResourceNotFound, "Resource not found: '{}'"),
    "map_run": (ResourceNotFound, "Resource not found: '{}'"),
    "task": (InvalidToken, "Invalid token"),
}
_ALREADY_EXISTS: dict[str, tuple[type[AwsError], str]] = {
    "state_machine": (StateMachineAlreadyExists, "State Machine Already Exists: '{}'"),
    "execution": (ExecutionAlreadyExists, "Execution Already Exists: '{}'"),
    "activity": (ActivityAlreadyExists, "Activity Already Exists: '{}'"),
}


def _not_found(exc: NotFound) -> AwsError:
    cls, fmt = _NOT_FOUND.get(exc.kind, (ResourceNotFound, "Resource not found: '{}'"))
    return cls(exc.message or fmt.format(exc.identifier))


def _already_exists(exc: AlreadyExists) -> AwsError:
    cls, fmt = _ALREADY_EXISTS.get(exc.kind, (ConflictException, "{} already exists"))
    return cls(exc.message or fmt.format(exc.identifier))


_TABLE: dict[type[StatesimError], Callable[[StatesimError], AwsError]] = {
    NotFound: lambda e: _not_found(e),  # type: ignore[arg-type]
    AlreadyExists: lambda e: _already_exists(e),  # type: ignore[arg-type]
    InvalidDefinition: lambda e: InvalidDefinitionError(e.message),  # type: ignore[attr-defined]
    Conflict: lambda e: AwsError(e.message, code=e.kind),  # type: ignore[attr-defined]
    InvalidArgument: lambda e: AwsError(e.message, code=e.kind),  # type: ignore[attr-defined]
}


def to_aws(exc: BaseException) -> AwsError | None:
    """The AWS exception for an engine error, or None when ``exc`` is a bug (a 500)."""
    if isinstance(exc, AwsError):
        return exc
    for cls in type(exc).__mro__:
        convert = _TABLE.get(cls)
        if convert is not None:
            return convert(exc)  # type: ignore[arg-type]
    return None
