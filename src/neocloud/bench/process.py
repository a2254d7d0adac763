"""A `neocloud serve` child process: start it on a port, wait until /readyz answers, stop or SIGKILL it.

Used by `neocloud bench api` and by the fault tests (two servers on one database, a server killed
mid-burst). It talks to the server over HTTP only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ENTRY = "from neocloud.cli.main import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`ServerProcess(database_url).start()`; `.url`; `.kill()` (SIGKILL) or `.stop()` (SIGINT, then kill)."""

    def __init__(
        self,
        database_url: str,
        *,
        port: int | None = None,
        data_dir: Path | None = None,
        reconcile_every: float = 1.0,
        log: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.reconcile_every = reconcile_every
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        env = {**os.environ, "NEOCLOUD_DATABASE_URL": self.database_url}
        if self.data_dir is not None:
            env["NEOCLOUD_DATA_DIR"] = str(self.data_dir)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                ENTRY,
                "serve",
                "--port",
                str(self.port),
                "--reconcile-every",
                str(self.reconcile_every),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"neocloud serve exited with {self.proc.returncode}"
                    + (f"; see {self.log}" if self.log else "")
                )
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"neocloud serve on {self.url} was not ready within {timeout:.0f}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
