"""Running Slurm's own commands (scontrol, sacctmgr, sacct, scancel, sinfo) against one cluster.

Every call has a timeout; a failure raises `ProvisionError` whose cause names what went wrong, and when
the controller does not answer, says so ("slurmctld unreachable"), checked with `scontrol ping` (fast
even while slurmctld is down, unlike sinfo/squeue which retry for ~10 s).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from neocloud.control.app.ports import ProvisionError

DEFAULT_TIMEOUT_S = 20.0
TRUST_S = 1.0  # a command that succeeded this recently vouches for the controller (no ping before the next)


@dataclass
class SlurmCommands:
    """The Slurm client commands of one cluster: `conf` is its slurm.conf (SLURM_CONF), `bin_dir` where
    the commands live (None: on PATH). `calls` counts the commands run (the benchmark reports it)."""

    conf: Path | None = None
    bin_dir: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _answered_at: float = field(default=-1e9, repr=False)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TZ"] = "UTC"  # Slurm reads and prints times in local time: make that UTC
        if self.conf is not None:
            env["SLURM_CONF"] = str(self.conf)
        return env

    def _exe(self, name: str) -> str:
        return str(self.bin_dir / name) if self.bin_dir is not None else name

    def run(
        self, command: str, *args: str, check: bool = True, timeout_s: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        with self._lock:
            self.calls += 1
        try:
            done = subprocess.run(
                [self._exe(command), *args],
                capture_output=True,
                text=True,
                env=self.env(),
                timeout=timeout_s or self.timeout_s,
                check=False,
            )
        except FileNotFoundError:
            raise ProvisionError(f"{command} not found (is Slurm installed?)") from None
        except subprocess.TimeoutExpired:
            raise ProvisionError(self._why(f"{command} {' '.join(args[:2])} timed out")) from None
        if done.returncode == 0:
            self._answered_at = time.monotonic()
        if check and done.returncode != 0:
            message = (done.stderr or done.stdout).strip().splitlines()
            text = message[-1] if message else f"exit status {done.returncode}"
            raise ProvisionError(self._why(f"{command} {' '.join(args[:2])}: {text}"))
        return done

    def out(self, command: str, *args: str) -> str:
        return self.run(command, *args).stdout

    def controller_up(self) -> bool:
        try:
            done = subprocess.run(
                [self._exe("scontrol"), "ping"],
                capture_output=True,
                text=True,
                env=self.env(),
                timeout=10,
                check=False,
            )
        except (FileNotFoundError, subprocess.TimeoutExpired):
            return False
        return "is UP" in done.stdout

    def require_controller(self) -> None:
        """ProvisionError at once when slurmctld does not answer (`scontrol ping` answers in
        milliseconds where every other command would wait ~10 s for it). Skipped when a command
        succeeded in the last TRUST_S seconds."""
        if time.monotonic() - self._answered_at < TRUST_S:
            return
        with self._lock:
            self.calls += 1
        if not self.controller_up():
            raise ProvisionError("slurmctld unreachable (scontrol ping: DOWN)")

    def _why(self, what: str) -> str:
        return what if self.controller_up() else f"slurmctld unreachable ({what})"

    def scontrol(self, *args: str) -> str:
        return self.out("scontrol", *args)

    def sacctmgr(self, *args: str) -> str:
        return self.out("sacctmgr", "-i", *args)


def kv(line: str, keys: Sequence[str] = ()) -> dict[str, str]:
    """`Key=Value Key2=Value2 …` (one `scontrol -o` record) as a dict. Values run to the next ` Key=`."""
    out: dict[str, str] = {}
    key: str | None = None
    for token in line.split(" "):
        name, sep, value = token.partition("=")
        if sep and name and (name[0].isupper() or name in keys):
            key = name
            out[key] = value
        elif key is not None:
            out[key] += " " + token
    return out
