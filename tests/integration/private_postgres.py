"""A PostgreSQL cluster of a test's own, on a free port under a temporary directory, that the test may
stop, start and break at will (the shared test server on 55432 is never touched).

It is started by scripts/postgres-up.sh (PGDIR, PGPORT, PGSOCK) and stopped and restarted with pg_ctl
as the postgres user, as the script does. It needs the PostgreSQL server binaries and root (for
runuser); without them the tests skip, unless NEOCLOUD_REQUIRE_POSTGRES=1 (`make test`) fails them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration.api_world import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_OPTIONS = "-c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off"


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[-2].split(".")]
    )
    return Path(found[-1]) if found and os.geteuid() == 0 and shutil.which("runuser") else None


class PrivateCluster:
    """`PrivateCluster.start()`; `.url`; `.stop()` and `.restart()` (the data survives); `.destroy()`."""

    def __init__(self, pg_bin: Path) -> None:
        self.bin = pg_bin
        self.root = Path(tempfile.mkdtemp(prefix="neocloud-faults-pg-"))
        self.root.chmod(0o755)  # the postgres user must reach its data and socket directories
        self.data, self.sock, self.port = self.root / "data", self.root / "sock", free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/neocloud"

    @staticmethod
    def start() -> PrivateCluster:
        pg_bin = _pg_bin()
        if pg_bin is None:
            why = "a private PostgreSQL cluster needs the server binaries (make system-deps) and root"
            if os.environ.get("NEOCLOUD_REQUIRE_POSTGRES") == "1":
                pytest.fail(why)
            pytest.skip(why)
        cluster = PrivateCluster(pg_bin)
        env = {
            **os.environ,
            "PGDIR": str(cluster.data),
            "PGPORT": str(cluster.port),
            "PGSOCK": str(cluster.sock),
        }
        subprocess.run(
            [str(ROOT / "scripts/postgres-up.sh")], env=env, check=True, capture_output=True, timeout=60
        )
        return cluster

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated, the port closes."""
        self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        options = f"-p {self.port} -k {self.sock} {SERVER_OPTIONS}"
        self._pg_ctl("-l", str(self.data / "server.log"), "-o", options, "start")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
