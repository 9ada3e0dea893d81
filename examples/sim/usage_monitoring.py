"""Usage monitoring: read the rate-limit buckets and the usage of the current period."""
from __future__ import annotations

import os

from simstudio import SimStudioClient

client = SimStudioClient(api_key=os.getenv("SIM_API_KEY", "local-dev-key"),
                         base_url=os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083"))


def report() -> None:
    limits = client.get_usage_limits()
    for kind in ("sync", "async"):
        bucket = limits.rate_limit[kind]
        print(f"{kind}: {bucket['remaining']} of {bucket['requestsPerMinute']}/min left, "
              f"limited={bucket['isLimited']}, resets at {bucket['resetAt']}")
    usage = limits.usage
    share = usage["currentPeriodCost"] / usage["limit"] * 100 if usage["limit"] else 0.0
    print(f"plan {usage['plan']}: ${usage['currentPeriodCost']} of ${usage['limit']} ({share:.1f}%)")
    if share > 80:
        print("Warning: close to the usage limit")


if __name__ == "__main__":
    report()
