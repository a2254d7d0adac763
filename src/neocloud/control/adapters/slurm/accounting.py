"""Job accounting from Slurm (`sacct` on slurmdbd): the `JobAccounting` port. GPU counts come from the
job's allocated TRES (`gres/gpu=N`, the total over its nodes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.hostlist import expand
from neocloud.control.adapters.slurm.names import project_account, project_of_account
from neocloud.control.adapters.slurm.reservations import parse_time, slurm_time
from neocloud.control.app.ports import JobRecord
from neocloud.kernel.ids import NodeId, ProjectId

FIELDS = "JobID,JobName%200,User,Account,NodeList%2000,AllocTRES%400,Start,End,State"


def gpus_of(tres: str) -> int:
    for item in tres.split(","):
        key, _, value = item.partition("=")
        if key == "gres/gpu":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


class SacctJobs:
    def __init__(self, commands: SlurmCommands) -> None:
        self.c = commands

    def jobs(
        self, start: datetime, end: datetime, project_ids: Sequence[str] | None = None
    ) -> list[JobRecord]:
        args = [
            "-a",
            "-X",
            "-n",
            "-P",
            "--noconvert",
            "-S",
            slurm_time(start),
            "-E",
            slurm_time(end),
            "-o",
            FIELDS,
        ]
        wanted = None if project_ids is None else {project_account(p) for p in project_ids}
        if wanted is not None and not wanted:
            return []
        # filtered here, not with --accounts: sacct matches that by association, which lags the job record
        out: list[JobRecord] = []
        for line in self.c.out("sacct", *args).splitlines():
            parts = line.split("|")
            if len(parts) != 9:
                continue
            job_id, name, user, account, nodes, tres, s, e, state = parts
            if wanted is not None and account not in wanted:
                continue
            started = parse_time(s)
            if started is None or nodes in ("", "None assigned"):
                continue  # never started
            project = project_of_account(account)
            out.append(
                JobRecord(
                    job_id,
                    user,
                    account,
                    ProjectId(project) if project else None,
                    tuple(NodeId(n) for n in expand(nodes)),
                    gpus_of(tres),
                    started,
                    parse_time(e),
                    state.split()[0] if state else "",
                    name,
                )
            )
        return out
