"""One treasurer's client in a process of its own: at START_AT (epoch seconds) send one disbursement instruction
for a tranche; print the answer as JSON. tests/faults/test_outages.py starts several at once (the double-spend
race)."""

from __future__ import annotations

import json
import sys
import time

import requests


def main(base: str, token: str, proposal_id: str, key: str, start_at: float) -> None:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    session.get(base + "/health", timeout=30)  # connect now, so that only the instruction waits for START_AT
    time.sleep(max(0.0, start_at - time.time()))
    answer = session.post(f"{base}/api/v1/grants/{proposal_id}/tranches/1/disburse", timeout=60)
    print(json.dumps({"status": answer.status_code, "body": answer.json()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
