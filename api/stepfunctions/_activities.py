"""Activities, GetActivityTask and the task-token callbacks (SendTask*)."""
from __future__ import annotations

import json

from api.errors import (
    ActivityAlreadyExists,
    ActivityLimitExceeded,
    ActivityWorkerLimitExceeded,
    InvalidOutput,
    InvalidToken,
    TaskDoesNotExist,
)
from api.stepfunctions._base import Params, Result, check_name, encryption_config, paginate, parse_arn
from api.stepfunctions._tags import Tags
from engine.store.base import Record


class Activities(Tags):
    """CreateActivity ... GetActivityTask, SendTaskSuccess/Failure/Heartbeat."""

    # ---- activities -------------------------------------------------------------------------

    async def create_activity(self, p: Params) -> Result:
        check_name(p["name"])
        self._check_tags(p.get("tags", []))
        encryption = encryption_config(p.get("encryptionConfiguration"))
        arn = self.arns.activity(p["name"])
        existing = self.store.get("activity", arn)
        if existing is not None:
            if _key_of(existing.get("encryptionConfiguration")) != _key_of(encryption):
                raise ActivityAlreadyExists(f"Activity Already Exists: '{arn}'")
            return {"activityArn": arn, "creationDate": existing["creationDate"]}
        if len(self.store.list("activity")) >= self.rt.quotas.activities:
            raise ActivityLimitExceeded(
                "The maximum number of activities has been reached. Existing activities must be deleted before "
                "a new activity can be created.")
        record: Record = {"activityArn": arn, "name": p["name"], "creationDate": self.now()}
        if encryption:
            record["encryptionConfiguration"] = encryption
        self.store.put("activity", arn, record)
        self._put_tags(arn, p.get("tags", []))
        return {"activityArn": arn, "creationDate": record["creationDate"]}

    async def describe_activity(self, p: Params) -> Result:
        return self._activity(p["activityArn"])

    async def delete_activity(self, p: Params) -> Result:
        parse_arn(p["activityArn"], "activity")
        self.store.delete("activity", p["activityArn"])
        self.store.delete("tags", p["activityArn"])
        return {}

    async def list_activities(self, p: Params) -> Result:
        items = [{"activityArn": a["activityArn"], "name": a["name"], "creationDate": a["creationDate"]}
                 for a in self.store.list("activity")]
        return paginate(items, p, "activities", "activities")

    async def get_activity_task(self, p: Params) -> Result:
        arn = p["activityArn"]
        self._activity(arn)
        if self._pollers.get(arn, 0) >= self.rt.quotas.pollers_per_activity:
            raise ActivityWorkerLimitExceeded(
                "The maximum number of workers concurrently polling for activity tasks has been reached.")
        self._pollers[arn] = self._pollers.get(arn, 0) + 1
        try:
            got = await self.rt.get_activity_task(arn, p.get("workerName"))
        finally:
            self._pollers[arn] -= 1
            if not self._pollers[arn]:
                del self._pollers[arn]
        if got is None:
            return {}
        token, text = got
        return {"taskToken": token, "input": text}

    # ---- task tokens ------------------------------------------------------------------------

    def _check_token(self, token: str) -> None:
        if not token or len(token) < 16:
            raise InvalidToken("Invalid token")
        stored = self.store.get("token", token)
        activity = (stored or {}).get("activityArn")
        if activity and stored.get("status") == "PENDING" and self.store.get("activity", activity) is None:
            # the task of an activity deleted since it was scheduled (the model: "The activity does not exist.")
            raise TaskDoesNotExist("The activity does not exist.")

    async def send_task_success(self, p: Params) -> Result:
        self._check_token(p["taskToken"])
        try:
            output = json.loads(p["output"])
        except ValueError:
            raise InvalidOutput(f"Invalid Output: '{p['output']}'") from None
        await self.rt.send_success(p["taskToken"], output)
        return {}

    async def send_task_failure(self, p: Params) -> Result:
        self._check_token(p["taskToken"])
        await self.rt.send_failure(p["taskToken"], p.get("error"), p.get("cause"))
        return {}

    async def send_task_heartbeat(self, p: Params) -> Result:
        self._check_token(p["taskToken"])
        await self.rt.send_heartbeat(p["taskToken"])
        return {}


def _key_of(config: Params | None) -> Params:
    """An encryptionConfiguration compared as AWS does: none is the AWS owned key."""
    return dict(config) if config else {"type": "AWS_OWNED_KEY"}
