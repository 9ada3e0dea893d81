"""Tags: TagResource, UntagResource, ListTagsForResource, and the checks creating a resource with tags makes."""
from __future__ import annotations

from api.errors import ResourceNotFound, TooManyTags, ValidationException
from api.stepfunctions._base import Params, Result, Service, parse_arn


class Tags(Service):
    """Tags on state machines, versions, aliases and activities."""

    def _check_tags(self, tags: list[Params]) -> None:
        missing = [i for i, tag in enumerate(tags, start=1) if tag.get("key") is None]
        if missing:
            errors = [f"Value null at 'tags.{i}.member.key' failed to satisfy constraint: Member must not be null"
                      for i in missing]
            noun = "error" if len(errors) == 1 else "errors"
            raise ValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
        self._tag_quota(len(tags))

    def _tag_quota(self, count: int) -> None:
        limit = self.rt.quotas.tags_per_resource
        if count > limit:
            raise TooManyTags(f"Too many tags: maximum is {limit}")

    def _put_tags(self, arn: str, tags: list[Params]) -> None:
        if tags:
            self.store.put("tags", arn, {"tags": tags})

    def _taggable(self, arn: str) -> None:
        parsed = parse_arn(arn, "stateMachine", "activity")
        kind = "activity" if parsed.kind == "activity" else "state_machine"
        if len(parsed.parts) > 1:
            kind = "version" if parsed.parts[1].isdigit() else "alias"
        if self.store.get(kind, arn) is None:
            raise ResourceNotFound(f"Resource not found: '{arn}'")

    async def tag_resource(self, p: Params) -> Result:
        arn = p["resourceArn"]
        self._check_tags(p["tags"])
        self._taggable(arn)
        current = {t["key"]: t.get("value", "") for t in (self.store.get("tags", arn) or {}).get("tags", [])}
        current.update({t["key"]: t.get("value", "") for t in p["tags"]})
        self._tag_quota(len(current))
        self.store.put("tags", arn, {"tags": [{"key": k, "value": v} for k, v in current.items()]})
        return {}

    async def untag_resource(self, p: Params) -> Result:
        arn = p["resourceArn"]
        self._taggable(arn)
        drop = set(p["tagKeys"])
        tags = [t for t in (self.store.get("tags", arn) or {}).get("tags", []) if t["key"] not in drop]
        self.store.put("tags", arn, {"tags": tags})
        return {}

    async def list_tags_for_resource(self, p: Params) -> Result:
        arn = p["resourceArn"]
        self._taggable(arn)
        return {"tags": (self.store.get("tags", arn) or {}).get("tags", [])}
