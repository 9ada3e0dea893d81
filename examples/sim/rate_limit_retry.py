"""Rate limits: execute_with_retry waits as long as the server's Retry-After says.

Start the server with a limit to see it work: statesim serve --in-memory --sim-rate-limit 3/SEC
"""
from __future__ import annotations

import os
import time

from simstudio import SimStudioClient

client = SimStudioClient(api_key=os.getenv("SIM_API_KEY", "local-dev-key"),
                         base_url=os.getenv("SIM_BASE_URL", "http://127.0.0.1:8083"))


def greet_everyone(names: list[str]) -> None:
    started = time.monotonic()
    for name in names:
        result = client.execute_with_retry("sim-greeter", {"name": name}, max_retries=5, initial_delay=0.5,
                                           max_delay=10)
        print(f"{name}: {result.output['message'] if result.output else result.error}")
        info = client.get_rate_limit_info()
        if info is not None:
            print(f"  rate limit: {info.remaining}/{info.limit} left, retry after {info.retry_after} ms")
    print(f"done in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    greet_everyone(["Ann", "Bob", "Cat", "Dan", "Eve"])
