"""The Step Functions API: one coroutine per operation, named like boto3's methods.

Resource operations (state machines, versions, aliases, activities, tags) read and write the
store directly; executions, task tokens and activity polling go through the runtime. One
private module per group of operations; ``StepFunctions`` puts them together.
"""
from __future__ import annotations

from api.awsjson import Handler, camel_to_snake, service_model
from api.stepfunctions._activities import Activities
from api.stepfunctions._base import Params, Result, paginate, parse_arn
from api.stepfunctions._executions import Executions
from api.stepfunctions._machines import Machines
from api.stepfunctions._tags import Tags
from api.stepfunctions._test_state import run_test_state
from engine.runtime import Runtime


class StepFunctions(Machines, Executions, Activities, Tags):
    """Every Step Functions operation over one runtime."""

    async def test_state(self, p: Params) -> Result:
        return await run_test_state(self.rt, p, self.arns)


def handlers(runtime: Runtime) -> dict[str, Handler]:
    """Operation name -> coroutine, for every operation of the botocore model."""
    api = StepFunctions(runtime)
    return {op: getattr(api, camel_to_snake(op)) for op in service_model("stepfunctions").operation_names}


__all__ = ["StepFunctions", "handlers", "paginate", "parse_arn"]
