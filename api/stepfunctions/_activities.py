"""Activities, GetActivityTask and the task-token callbacks (SendTask*)."""
from __future__ import annotations

import json

from api.errors import InvalidOutput, InvalidToken
from api.stepfunctions._base import Params, Result, check_name, paginate, parse_arn
from api.stepfunctions._tags import Tags
from engine.store.base import Record


class Activities(Tags):
    """CreateActivity ... GetActivityTask, SendTaskSuccess/Failure/Heartbeat."""

    # ---- activities -------------------------------------------------------------------------

    async def create_activity(self, p: Params) -> Result:
        check_name(p["name"])
        self._check_tags(p.get("tags", []))
        arn = self.arns.activity(p["name"])
        existing = self.store.get("activity", arn)
        if existing is not None:
            return {"activityArn": arn, "creationDate": existing["creationDate"]}
        record: Record = {"activityArn": arn, "name": p["name"], "creationDate": self.now()}
        if p.get("encryptionConfiguration"):
            record["encryptionConfiguration"] = p["encryptionConfiguration"]
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
        self._activity(p["activityArn"])
        got = await self.rt.get_activity_task(p["activityArn"], p.get("workerName"))
        if got is None:
            return {}
        token, text = got
        return {"taskToken": token, "input": text}

    # ---- task tokens ------------------------------------------------------------------------

    @staticmethod
    def _check_token(token: str) -> None:
        if not token or len(token) < 16:
            raise InvalidToken("Invalid token")

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
