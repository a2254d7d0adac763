"""Slurm reservations as neocloud reads and writes them (`scontrol show|create|update|delete
reservation`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from neocloud.control.adapters.slurm.commands import SlurmCommands, kv
from neocloud.control.adapters.slurm.hostlist import compress, expand
from neocloud.control.app.ports import ProvisionError

NO_RESERVATIONS = "No reservations in the system"


def slurm_time(at: datetime) -> str:
    """A UTC instant in Slurm's format (SlurmCommands runs every command with TZ=UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class SlurmReservation:
    name: str
    nodes: frozenset[str]
    start: datetime | None
    end: datetime | None
    accounts: frozenset[str]
    users: frozenset[str]
    flags: frozenset[str]
    state: str

    @staticmethod
    def parse(line: str) -> SlurmReservation:
        f = kv(line)
        accounts = f.get("Accounts", "(null)")
        users = f.get("Users", "(null)")
        flags = f.get("Flags", "")
        return SlurmReservation(
            f["ReservationName"],
            frozenset(expand(f.get("Nodes", ""))) if f.get("Nodes", "(null)") != "(null)" else frozenset(),
            parse_time(f.get("StartTime", "")),
            parse_time(f.get("EndTime", "")),
            frozenset(a for a in accounts.split(",") if a and a != "(null)"),
            frozenset(u for u in users.split(",") if u and u != "(null)"),
            frozenset(x for x in flags.split(",") if x),
            f.get("State", ""),
        )


class Reservations:
    """Slurm's reservations through `scontrol`."""

    def __init__(self, commands: SlurmCommands) -> None:
        self.c = commands

    def all(self) -> dict[str, SlurmReservation]:
        text = self.c.scontrol("-o", "show", "reservation")
        if NO_RESERVATIONS in text:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith("ReservationName="):
                r = SlurmReservation.parse(line.strip())
                out[r.name] = r
        return out

    def get(self, name: str) -> SlurmReservation | None:
        done = self.c.run("scontrol", "-o", "show", "reservation", name, check=False)
        if done.returncode != 0:
            if "not found" in (done.stderr + done.stdout):
                return None
            self.c.run("scontrol", "-o", "show", "reservation", name)  # raises with the cause
        for line in done.stdout.splitlines():
            if line.startswith("ReservationName="):
                return SlurmReservation.parse(line.strip())
        return None

    def create(
        self, name: str, nodes: list[str], start: datetime | None, end: datetime, account: str
    ) -> bool:
        """False when a reservation of that name exists already. start None: now. No flag that weakens the reservation: only `account`'s jobs run on `nodes`
        during the window, and Slurm refuses it while another reservation holds those nodes then."""
        done = self.c.run(
            "scontrol",
            "create",
            "reservation",
            f"ReservationName={name}",
            f"StartTime={'now' if start is None else slurm_time(start)}",
            f"EndTime={slurm_time(end)}",
            f"Nodes={compress(nodes)}",
            f"Accounts={account}",
            check=False,
        )
        if done.returncode != 0:
            text = (done.stderr + done.stdout).strip()
            if "already exists" in text or "Duplicate" in text:
                return False  # made by an earlier attempt (a crash after the call, another worker)
            raise ProvisionError(self.c._why(f"scontrol create reservation {name}: {text}"))
        return True

    def update(self, name: str, **fields: str) -> None:
        self.c.scontrol("update", f"ReservationName={name}", *(f"{k}={v}" for k, v in fields.items()))

    def delete(self, name: str) -> bool:
        """False when it was already gone."""
        done = self.c.run("scontrol", "delete", f"reservation={name}", check=False)
        if done.returncode == 0:
            return True
        text = (done.stderr + done.stdout).strip()
        if "not found" in text or "reservation is invalid" in text:
            return False
        raise ProvisionError(self.c._why(f"scontrol delete reservation {name}: {text}"))
