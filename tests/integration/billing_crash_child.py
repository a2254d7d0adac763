"""A billing process that stops mid-transaction and waits to be killed (used by test_billing_crash.py).

`python -m tests.integration.billing_crash_child meter|finalize`, with NEOCLOUD_DATA_DIR set: it meters
(or finalizes October 2026) on that database and, inside the write transaction (for finalize: the
second invoice's, after the first has committed), prints IN-TRANSACTION and sleeps until killed.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from typing import Any

from neocloud.billing.adapters.sql.unit import SqlBillingUnit
from neocloud.bootstrap import Settings, build_services
from neocloud.kernel.periods import Period


def stall_after(obj: Any, name: str, on_call: int) -> None:
    """Replace obj.name so that its `on_call`-th call does its work, then announces and hangs."""
    original = getattr(obj, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == on_call:
            print("IN-TRANSACTION", flush=True)
            time.sleep(3600)
        return result

    setattr(obj, name, wrapper)


def main() -> None:
    mode = sys.argv[1]
    services = build_services(Settings.from_env())
    billing = services.billing
    assert billing is not None
    if mode == "meter":
        stall_after(SqlBillingUnit, "append_usage", 1)
        billing.meter()
    else:
        billing.settings = replace(billing.settings, finalize_batch=1)  # one invoice per transaction
        stall_after(SqlBillingUnit, "save_invoice", 2)
        billing.finalize(Period.month(2026, 10))
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
