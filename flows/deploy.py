"""Deployment of the pre-screen flow with a schedule.

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.deploy

serves the flow against a Prefect server, screening the inbox every 5 minutes.
The inbox and verdict folders come from CLAIMCHECK_INBOX / CLAIMCHECK_VERDICTS.
"""

from __future__ import annotations

import os

from flows import DATA_DIR
from flows.screen_inbox import screen_inbox

DEPLOYMENT_NAME = "claimcheck-inbox-every-5-min"
INTERVAL_SECONDS = 300


def parameters() -> dict[str, object]:
    return {
        "inbox": os.environ.get("CLAIMCHECK_INBOX", str(DATA_DIR / "inbox")),
        "out": os.environ.get("CLAIMCHECK_VERDICTS", str(DATA_DIR / "verdicts")),
        "rescreen": False,
    }


def build_deployment():  # type: ignore[no-untyped-def]
    return screen_inbox.to_deployment(name=DEPLOYMENT_NAME, interval=INTERVAL_SECONDS, parameters=parameters(),
                                      description="Pre-screen every new cashback claim in the inbox.")


if __name__ == "__main__":
    screen_inbox.serve(name=DEPLOYMENT_NAME, interval=INTERVAL_SECONDS, parameters=parameters())
