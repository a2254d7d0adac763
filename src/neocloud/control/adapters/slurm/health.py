"""Node health from Slurm: every node Slurm marks DOWN, DRAIN(ED/ING), FAIL(ING) or not responding
(`*`), with Slurm's reason as the observation's `code`, for the health context (`observe(now)`).

| Slurm state                  | severity | recommended action                            |
| ---------------------------- | -------- | --------------------------------------------- |
| FAIL, FAILING                | critical | replace                                       |
| DOWN, not responding (`*`)   | critical | reboot                                        |
| DRAIN, DRAINED, DRAINING     | warning  | component-reset when the reason names an XID, else none |

The component is read from the reason (XID/GPU → gpu, NVLink → nvlink, IB/network → network, else host).
"""

from __future__ import annotations

import re
from datetime import datetime

from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.reservations import parse_time
from neocloud.kernel.errors import Unavailable
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId

SOURCE = "slurm"


def component_of(reason: str) -> Component:
    text = reason.lower()
    if "nvlink" in text:
        return Component.NVLINK
    if "hbm" in text or "ecc" in text:
        return Component.HBM
    if re.search(r"\bxid\b|gpu", text):
        return Component.GPU
    if re.search(r"\bib\b|infiniband|network|\bnic\b|link down", text):
        return Component.NETWORK
    return Component.HOST


def classify(state: str, reason: str) -> tuple[Severity, RecommendedAction] | None:
    """What Slurm's node `state` (sinfo %T, e.g. "drained", "down*", "idle*") means; None: healthy."""
    base = state.lower().rstrip("*~#!%$@^-")
    flags = state.lower()
    if base.startswith("fail"):
        return Severity.CRITICAL, RecommendedAction.REPLACE
    if base.startswith("down") or flags.endswith("*"):
        return Severity.CRITICAL, RecommendedAction.REBOOT
    if base.startswith("drain"):
        action = (
            RecommendedAction.COMPONENT_RESET
            if re.search(r"\bxid\b", reason.lower())
            else RecommendedAction.NONE
        )
        return Severity.WARNING, action
    return None


class SlurmHealthSource:
    """The nodes Slurm holds unhealthy, now. Unavailable (not an empty list) when slurmctld does not
    answer: silence is not health."""

    def __init__(self, commands: SlurmCommands) -> None:
        self.c = commands

    def observe(self, now: datetime) -> list[HealthObservation]:
        if not self.c.controller_up():
            raise Unavailable("slurmctld unreachable: no node health from Slurm")
        out: list[HealthObservation] = []
        seen: set[str] = set()
        for line in self.c.out("sinfo", "-h", "-N", "-o", "%N|%T|%E|%H").splitlines():
            parts = line.split("|")
            if len(parts) != 4:
                continue
            node, state, reason, since = parts
            if node in seen:
                continue  # sinfo -N lists a node once per partition
            seen.add(node)
            reason = "" if reason == "none" else reason
            verdict = classify(state, reason)
            if verdict is None:
                continue
            severity, action = verdict
            code = reason or ("Not responding" if state.endswith("*") else state.upper())
            out.append(
                HealthObservation(
                    NodeId(node),
                    component_of(reason),
                    severity,
                    code,
                    action,
                    parse_time(since) or now,
                    SOURCE,
                    f"Slurm marks {node} {state}" + (f": {reason}" if reason else ""),
                )
            )
        return sorted(out, key=lambda o: o.node)
