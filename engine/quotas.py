"""Step Functions' account quotas, configurable so tests (and users) can lower them.

Defaults are the figures of AWS's "Step Functions service quotas" page: registered state
machines and activities per account and Region, open (RUNNING) STANDARD executions, versions
and aliases per state machine, and GetActivityTask pollers per activity ARN.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Quotas:
    state_machines: int = 100_000
    """Registered state machines (StateMachineLimitExceeded beyond)."""
    activities: int = 100_000
    """Registered activities (ActivityLimitExceeded beyond)."""
    open_executions: int = 1_000_000
    """RUNNING STANDARD executions (ExecutionLimitExceeded beyond; Express ones do not count)."""
    versions_per_machine: int = 1_000
    """Published versions of one state machine (ServiceQuotaExceededException beyond)."""
    aliases_per_machine: int = 100
    """Aliases of one state machine (ServiceQuotaExceededException beyond)."""
    pollers_per_activity: int = 1_000
    """GetActivityTask calls waiting at once on one activity ARN (ActivityWorkerLimitExceeded beyond)."""
    tags_per_resource: int = 50
    """Tags on one resource (TooManyTags beyond; a hard quota on AWS)."""
