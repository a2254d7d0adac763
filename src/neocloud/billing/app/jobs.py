"""The job side of reconcile: what the cluster's accounting says ran (control.app.jobs) beside what
billing metered. Per allocation, its utilisation (job GPU-seconds / billed GPU-seconds); every job
GPU-second outside a paid window of its tenant is a difference (`job-outside-paid-window`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neocloud.billing.domain.reconcile import ReconcileReport
from neocloud.control.app.jobs import JobReport, utilisation
from neocloud.kernel.money import MILLI_PER_GPU


def with_jobs(report: ReconcileReport, jobs: JobReport, billed_milli: Mapping[str, int]) -> dict[str, Any]:
    """`report`'s document with a `jobs` section (per allocation: job GPU-seconds, GPU-seconds billed so
    far `billed_milli`, utilisation) and the job differences added to its differences."""
    doc = report.to_dict()
    rows = []
    used = {u.allocation_id: u for u in jobs.allocations}
    for allocation_id in sorted(set(used) | set(billed_milli)):
        billed = billed_milli.get(allocation_id, 0) // MILLI_PER_GPU
        job_seconds = used[allocation_id].job_gpu_seconds if allocation_id in used else 0
        rows.append(
            {
                "allocation_id": allocation_id,
                "job_gpu_seconds": job_seconds,
                "billed_gpu_seconds": billed,
                "utilisation": utilisation(job_seconds, billed),
            }
        )
    outside = [
        {
            "kind": "job-outside-paid-window",
            "job_id": j.job_id,
            "user": j.user,
            "account": j.account,
            "allocation_id": j.allocation_id,
            "nodes": list(j.nodes),
            "expected_seconds": "0",
            "actual_seconds": str(j.outside_seconds),
        }
        for j in jobs.outside
    ]
    doc["jobs"] = {
        "from": jobs.start.isoformat(),
        "to": jobs.end.isoformat(),
        "jobs": jobs.jobs,
        "job_gpu_seconds": jobs.job_gpu_seconds,
        "outside_paid_window_seconds": jobs.outside_seconds,
        "other_jobs": jobs.other_jobs,
        "allocations": rows,
    }
    doc["differences"] = [*doc["differences"], *outside]
    return doc
