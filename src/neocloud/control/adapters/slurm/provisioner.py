"""The Slurm provisioner: an allocation's nodes become a Slurm reservation (`nc-<allocation id>`) on
exactly those nodes, for its window, for its project's account only (a sub-account of the tenant's).

- provision: create it, or fix what differs (nodes, end, accounts); a second call, a second worker or a
  retry after a crash finds it by name and never makes a duplicate.
- release: cancel the jobs in it, then delete it (Slurm refuses to delete a reservation in use).
- converge: read every reservation in one `scontrol show reservation`, create what neocloud holds and
  Slurm lacks, delete `nc-` reservations neocloud no longer holds, fix what differs. Reservations not
  named `nc-…` are the site's and are never touched. Between full reads (at most `refresh` apart) it
  works from what it last read plus what it has written since, so a pass with nothing new runs no Slurm
  command and a new allocation costs one `scontrol create`; a change made by hand in Slurm is therefore
  repaired within `refresh` (a create that finds the name taken reads it back at once).
- An open-ended instance gets a lease (`lease`, default 1 h) that converge renews while it runs; a spot
  notice ends the reservation at the notice's end, and once the notice period begins the jobs in it get
  SIGTERM (then Slurm kills what is left at the end; they are cancelled, not requeued: docs/slurm.md).

No call is made inside a database transaction: the reconciler calls this after its commits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from neocloud.control.adapters.slurm.accounts import SlurmAccounts
from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.config import gres_type, partition_name
from neocloud.control.adapters.slurm.hostlist import compress
from neocloud.control.adapters.slurm.names import allocation_of, node_name, project_account, reservation_name
from neocloud.control.adapters.slurm.reservations import Reservations, SlurmReservation, slurm_time
from neocloud.control.app.ports import Convergence, Grant, ProvisionError
from neocloud.kernel.clock import Clock
from neocloud.kernel.ids import AllocationId, NodeId

DEFAULT_LEASE = timedelta(hours=1)
DEFAULT_HORIZON = timedelta(days=7)
DEFAULT_REFRESH = timedelta(seconds=5)
RELEASE_WAIT_S = 15.0


def _second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


class SlurmProvisioner:
    def __init__(
        self,
        commands: SlurmCommands,
        clock: Clock,
        *,
        lease: timedelta = DEFAULT_LEASE,
        horizon: timedelta = DEFAULT_HORIZON,
        refresh: timedelta = DEFAULT_REFRESH,
        accounts: SlurmAccounts | None = None,
    ) -> None:
        self.commands = commands
        self.reservations = Reservations(commands)
        self.accounts = accounts or SlurmAccounts(commands)
        self._clock = clock
        self._lease = lease
        self._horizon = horizon
        self._refresh_s = refresh.total_seconds()
        self._ready: set[str] = set()
        self._signalled: set[str] = set()
        self._lock = threading.Lock()
        self._known: dict[str, SlurmReservation] = {}  # what Slurm has, as last read plus our writes since
        self._read_at = -1e18  # time.monotonic() of the last full read

    # the port ------------------------------------------------------------------------------------------

    def provision(self, grant: Grant) -> None:
        name = reservation_name(grant.allocation_id)
        self.commands.require_controller()
        self._apply(grant, self._current(name), self._clock.now())
        with self._lock:
            self._ready.add(grant.allocation_id)

    def is_ready(self, allocation_id: AllocationId) -> bool:
        with self._lock:
            if allocation_id in self._ready:
                return True
        return self.reservations.get(reservation_name(allocation_id)) is not None

    def release(self, allocation_id: AllocationId, nodes: Sequence[NodeId]) -> None:
        self.commands.require_controller()
        self._remove(reservation_name(allocation_id))
        with self._lock:
            self._ready.discard(allocation_id)

    def horizon(self) -> timedelta | None:
        return self._horizon

    def converge(self, grants: Callable[[], Sequence[Grant]], now: datetime) -> Convergence:
        self.commands.require_controller()
        actual = self._actual()  # before what neocloud holds: a reservation made since is not in it
        held = grants()
        created: list[str] = []
        updated: list[str] = []
        deleted: list[str] = []
        failed: list[tuple[str, str]] = []
        wanted = {reservation_name(g.allocation_id): g for g in held}
        for name, grant in wanted.items():
            try:
                verb = self._apply(grant, actual.get(name), now)
            except ProvisionError as err:
                failed.append((grant.allocation_id, err.cause))
                continue
            if verb == "created":
                created.append(grant.allocation_id)
            elif verb == "updated":
                updated.append(grant.allocation_id)
        for name in actual:
            allocation_id = allocation_of(name)
            if allocation_id is None or name in wanted:
                continue  # not neocloud's, or still held
            try:
                self._remove(name)
                deleted.append(allocation_id)
            except ProvisionError as err:
                failed.append((allocation_id, err.cause))
        return Convergence(tuple(created), tuple(updated), tuple(deleted), tuple(failed))

    # how ----------------------------------------------------------------------------------------------

    def _fresh(self) -> bool:
        return time.monotonic() - self._read_at < self._refresh_s

    def _actual(self) -> dict[str, SlurmReservation]:
        """Slurm's reservations: read in full when the last read is older than `refresh`."""
        if not self._fresh():
            read = self.reservations.all()
            with self._lock:
                self._known, self._read_at = dict(read), time.monotonic()
        with self._lock:
            return dict(self._known)

    def _current(self, name: str) -> SlurmReservation | None:
        if self._fresh():
            with self._lock:
                return self._known.get(name)
        found = self.reservations.get(name)
        self._remember(name, found)
        return found

    def _remember(self, name: str, r: SlurmReservation | None) -> None:
        with self._lock:
            if r is None:
                self._known.pop(name, None)
            else:
                self._known[name] = r

    def _forget_all(self) -> None:
        """After a surprise (a create that found the name taken, a failed command): read in full next."""
        with self._lock:
            self._read_at = -1e18

    def _end(self, grant: Grant, now: datetime) -> datetime:
        until = grant.until
        return until if until is not None else now + self._lease

    def _apply(self, grant: Grant, current: SlurmReservation | None, now: datetime) -> str | None:
        """Make Slurm's reservation match `grant`; "created", "updated" or None (already right)."""
        name = reservation_name(grant.allocation_id)
        end = _second(self._end(grant, now))
        if end <= _second(now):
            if current is not None:
                self._remove(name)
                return "updated"
            return None
        nodes = sorted(node_name(n) for n in grant.nodes)
        account = self.accounts.ensure_project(grant.tenant_id, grant.project_id)
        if current is None:
            start = None if grant.start <= now else _second(grant.start)
            try:
                made = self.reservations.create(name, nodes, start, end, account)
            except ProvisionError:
                self._forget_all()
                raise
            if not made:  # the name was taken (an earlier attempt, another worker): compare with it
                self._forget_all()
                found = self.reservations.get(name)
                self._remember(name, found)
                return self._apply(grant, found, now) if found is not None else None
            self._remember(
                name,
                SlurmReservation(
                    name,
                    frozenset(nodes),
                    start or _second(now),
                    end,
                    frozenset({account}),
                    frozenset(),
                    frozenset(),
                    "ACTIVE",
                ),
            )
            self._notice(grant, name, now)
            return "created"
        changes: dict[str, str] = {}
        if current.nodes != frozenset(nodes):
            changes["Nodes"] = compress(nodes)
        if grant.until is None:  # an open-ended lease: renew it once half is used
            if current.end is None or current.end - now < self._lease / 2:
                changes["EndTime"] = slurm_time(end)
        elif current.end != end:
            changes["EndTime"] = slurm_time(end)
        if current.accounts != {account} or current.users:
            changes["Accounts"] = account
        if grant.start > now and current.start != _second(grant.start):
            changes["StartTime"] = slurm_time(grant.start)
        if changes:
            try:
                self.reservations.update(name, **changes)
            except ProvisionError:
                self._forget_all()
                raise
            self._forget_all()  # read it back in full on the next pass (Slurm may normalise what we wrote)
        self._notice(grant, name, now)
        return "updated" if changes else None

    def _notice(self, grant: Grant, name: str, now: datetime) -> None:
        """A spot notice: once its period has begun, the jobs in the reservation get SIGTERM, once (the
        reservation already ends at the notice's end, when Slurm kills what is left)."""
        if grant.notice_until is None or (grant.notice_at is not None and now < grant.notice_at):
            return
        with self._lock:
            if grant.allocation_id in self._signalled:
                return
            self._signalled.add(grant.allocation_id)
        self.commands.run("scancel", "--signal=TERM", "--full", f"--reservation={name}", check=False)

    def _remove(self, name: str) -> None:
        """Cancel every job in reservation `name`, then delete it (retrying while its jobs die)."""
        if self.reservations.get(name) is None:
            self._remember(name, None)
            return
        self.commands.run("scancel", f"--reservation={name}", check=False)
        deadline = time.monotonic() + RELEASE_WAIT_S
        delay = 0.05
        while True:
            try:
                self.reservations.delete(name)
                self._remember(name, None)
                return
            except ProvisionError as err:
                if "in use" not in err.cause or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def access(allocation_id: str, project_id: str, model: str, gpus: int, nodes: int) -> dict[str, str]:
    """How a tenant runs in the allocation's reservation (the AccessGuide port)."""
    reservation, account, partition = (
        reservation_name(allocation_id),
        project_account(project_id),
        partition_name(model),
    )
    per_node = max(1, gpus // max(1, nodes))
    common = f"--reservation={reservation} --account={account} --partition={partition}"
    gres = f"--gres=gpu:{gres_type(model)}:{per_node}"
    return {
        "reservation": reservation,
        "account": account,
        "partition": partition,
        "sbatch": f"sbatch {common} -N {max(1, nodes)} {gres} job.sh",
        "srun": f"srun {common} -N {max(1, nodes)} {gres} nvidia-smi -L",
    }


class SlurmAccess:
    """The AccessGuide port over the naming rules of this package."""

    def access(
        self, allocation_id: str, project_id: str, model: str, gpus: int, nodes: int
    ) -> dict[str, str]:
        return access(allocation_id, project_id, model, gpus, nodes)
