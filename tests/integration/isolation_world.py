"""A populated world for the tenant-isolation tests: three tenants, each holding at least one object of
every kind, so that "no other tenant's id in this answer" can never pass for want of other tenants' ids.

`IsolationWorld.build()` starts from `ApiWorld` (bootstrap's services over the memory store, a manual
clock) and gives every tenant, through the HTTP API as its own admin (or the operator where only an
operator may): a second project, member and viewer tokens, a tenant and a project quota, a reservation,
an on-demand and a spot instance run in March, a finalized March invoice (billing's `finalize`, as
test_billing_api.py does) with a credit note against it, and — on 2 April — a future reservation and a
running on-demand and spot instance; last, two tenant-member tokens its admin minted and used once (so
the API's principal cache holds them): one then revoked (DELETE /v1/tokens/{id}), one created with
`expires_at` and then outlived by moving the clock past it (`dead`). `Marks` collects every id and name
that identifies one tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from neocloud.api.auth import PrincipalCache
from neocloud.control.adapters.memory_cluster import MemoryAccessGuide, MemoryClusterAccounts
from neocloud.control.app.slurm import SlurmService
from neocloud.control.domain.tenancy import Role, display_prefix
from neocloud.kernel.periods import Period
from tests.builders import fleet, node
from tests.integration.api_world import ApiWorld

TENANTS = ("alice-corp", "bob-labs", "carol-ai")


def slurm_users(name: str) -> tuple[str, str]:
    """The two Slurm users each tenant starts with (one per removal probe)."""
    return f"u-{name}-a", f"u-{name}-b"


MARCH = Period.month(2026, 3)
SHARED_NAMES = frozenset({"default"})  # every tenant has a project named so: it names no one
EXPIRES_IN = timedelta(minutes=10)  # the expiring token's life; build() then moves the clock past it


@dataclass
class Marks:
    """Everything that names one tenant in an answer: its id and name, its projects, tokens,
    allocations, invoices and credit notes."""

    tenant_id: str
    name: str
    project_ids: list[str] = field(default_factory=list)
    project_names: list[str] = field(default_factory=list)
    token_ids: list[str] = field(default_factory=list)
    token_prefixes: list[str] = field(default_factory=list)
    reservation_ids: list[str] = field(default_factory=list)
    instance_ids: list[str] = field(default_factory=list)  # on-demand and spot
    spot_ids: list[str] = field(default_factory=list)
    live_reservation_ids: list[str] = field(default_factory=list)  # not started: it can be cancelled
    live_instance_ids: list[str] = field(default_factory=list)  # running: it can be stopped
    invoice_ids: list[str] = field(default_factory=list)
    credit_note_ids: list[str] = field(default_factory=list)
    admin_token_id: str = ""  # the tenant-admin token the world acts with
    webhook_ids: list[str] = field(default_factory=list)
    node_ids: list[str] = field(default_factory=list)  # the fleet's (nodes are no tenant's: not marks)
    slurm_users: list[str] = field(default_factory=list)  # its Unix users on the (fake) cluster

    @property
    def allocation_ids(self) -> list[str]:
        return self.reservation_ids + self.instance_ids

    def strings(self) -> frozenset[str]:
        """Every identifying string (names shared by every tenant, like "default", left out)."""
        every = [
            self.tenant_id,
            self.name,
            *self.project_ids,
            *self.project_names,
            *self.token_ids,
            *self.token_prefixes,
            *self.allocation_ids,
            *self.invoice_ids,
            *self.credit_note_ids,
            *self.webhook_ids,
            *self.slurm_users,
        ]
        return frozenset(s for s in every if s not in SHARED_NAMES)

    def of(self, kind: str) -> list[str]:
        """The ids (or the name) of this tenant's objects of `kind`."""
        return {
            "tenant": [self.tenant_id],
            "name": [self.name],
            "project": self.project_ids,
            "token": self.token_ids,
            # the admin's own token last: revoking it ends the caller's probes
            "token-self-last": sorted(self.token_ids, key=lambda t: t == self.admin_token_id),
            "reservation": self.reservation_ids,
            "live-reservation": self.live_reservation_ids,
            "instance": self.instance_ids,
            "live-instance": self.live_instance_ids,
            "allocation": self.allocation_ids,
            "invoice": self.invoice_ids + self.credit_note_ids,
            "node": self.node_ids,
            "webhook": self.webhook_ids,
            "window": ["mnt_0000000000000000"],  # maintenance is the operator's: no tenant names one
        }[kind]

    def kinds(self) -> dict[str, list[str]]:
        return {
            "project": self.project_ids,
            "token": self.token_ids,
            "reservation": self.reservation_ids,
            "on-demand": [i for i in self.instance_ids if i not in self.spot_ids],
            "spot": self.spot_ids,
            "invoice": self.invoice_ids,
            "credit-note": self.credit_note_ids,
        }


def isolation_fleet() -> Any:
    """Sixteen H100 nodes and four GB200 trays: room for every tenant's objects and for fuzzing."""
    return fleet(
        *(node(f"h{i:02d}") for i in range(16)), *(node(f"g{i}", model="GB200", gpus=4) for i in range(4))
    )


@dataclass
class IsolationWorld:
    api: ApiWorld
    marks: dict[str, Marks]
    tokens: dict[str, dict[Role, str]]  # tenant name -> role -> secret
    dead: dict[str, dict[str, str]] = field(default_factory=dict)  # tenant name -> revoked/expired -> secret
    secrets: dict[str, str] = field(default_factory=dict)  # token id -> secret, for every token above

    @staticmethod
    def build(tenants: tuple[str, ...] = TENANTS) -> IsolationWorld:
        api = ApiWorld.build(isolation_fleet(), tenants=tenants)
        # A cluster behind the Slurm routes (the in-package fakes), so their own/foreign answers differ.
        cluster = {"cluster_accounts": MemoryClusterAccounts(), "access": MemoryAccessGuide()}
        api.control.slurm = SlurmService(replace(api.control.deps, **cluster))
        # A principal cache whose entries never outlive their TTL (its clock stands still): only the auth
        # epoch and the expiry check can keep it from serving a revoked, expired or suspended principal.
        api.app.state.principals = PrincipalCache(clock=lambda: 0.0)
        world = IsolationWorld(api, {}, {})
        for name in tenants:
            world._tenant(name)
        for name in tenants:
            world._march(name)
        world._finalize_march()
        for name in tenants:
            world._april(name)
        api.control.reconcile()
        for name in tenants:
            world._revoked(name)
        for name in tenants:
            world._expiring(name)
        api.clock.advance(EXPIRES_IN + timedelta(minutes=1))
        api.control.reconcile()
        for name in tenants:
            missing = [kind for kind, ids in world.marks[name].kinds().items() if not ids]
            assert not missing, f"{name} holds no {missing}"
        return world

    # ---- reading ------------------------------------------------------------------------------------

    def others(self, name: str) -> frozenset[str]:
        """The identifying strings of every tenant but `name`."""
        return frozenset().union(*(m.strings() for n, m in self.marks.items() if n != name))

    def token(self, name: str, role: Role) -> str:
        return self.tokens[name][role]

    def secrets_of_everyone(self) -> frozenset[str]:
        """Every bearer secret the world minted (and the operator's): no answer ever carries one."""
        return frozenset(self.secrets.values()) | {self.api.operator}

    # ---- building -----------------------------------------------------------------------------------

    def _ok(self, response: Any, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, (response.request.url, response.status_code, response.text)
        body: dict[str, Any] = response.json()
        return body

    def _tenant(self, name: str) -> None:
        api = self.api
        tenant_id = api.tenant_ids[name]
        admin_secret = api.tokens[name]
        marks = Marks(tenant_id, name)
        self.marks[name] = marks
        self.tokens[name] = {Role.TENANT_ADMIN: admin_secret}
        admin = api.http(admin_secret)
        me = self._ok(admin.get("/v1/whoami"))
        marks.token_ids.append(me["token_id"])
        marks.token_prefixes.append(display_prefix(admin_secret))
        marks.admin_token_id = me["token_id"]
        self.secrets[me["token_id"]] = admin_secret
        for role in (Role.TENANT_MEMBER, Role.VIEWER):
            self.tokens[name][role] = self._mint(name, {"role": role.value})
        project = self._ok(
            admin.post("/v1/projects", json={"tenant_id": tenant_id, "name": f"{name}-train"}), 201
        )
        for p in self._ok(admin.get("/v1/projects"))["items"]:
            marks.project_ids.append(p["id"])
            marks.project_names.append(p["name"])
        operator = api.http(api.operator)
        self._ok(operator.put("/v1/quotas", json={"tenant_id": tenant_id, "model": "H100", "gpus": 96}))
        quota = {"tenant_id": tenant_id, "model": "H100", "gpus": 48, "project_id": project["id"]}
        self._ok(admin.put("/v1/quotas", json=quota))
        hook = {"url": f"https://{name}.example.com/hook", "events": ["degraded", "replaced"]}
        marks.webhook_ids.append(self._ok(admin.post("/v1/webhooks", json=hook), 201)["id"])
        marks.node_ids.extend(n.id for n in api.control.nodes.nodes())
        for user in slurm_users(name):
            self._ok(admin.post("/v1/slurm/users", json={"user": user}), 201)
            marks.slurm_users.append(user)

    def _mint(self, name: str, body: dict[str, Any]) -> str:
        """A token minted by the tenant's admin over HTTP, used once (so the API's principal cache holds
        it), recorded in the tenant's marks; its secret."""
        admin = self.api.http(self.tokens[name][Role.TENANT_ADMIN])
        made = self._ok(admin.post("/v1/tokens", json=body), 201)
        marks, secret = self.marks[name], made["secret"]
        marks.token_ids.append(made["token"]["id"])
        marks.token_prefixes.append(made["token"]["prefix"])
        self.secrets[made["token"]["id"]] = secret
        assert self._ok(self.api.http(secret).get("/v1/whoami"))["token_id"] == made["token"]["id"]
        return secret

    def _revoked(self, name: str) -> None:
        """A tenant-member token, used, then revoked by the tenant's admin with DELETE /v1/tokens/{id}."""
        secret = self._mint(name, {"role": Role.TENANT_MEMBER.value})
        token_id = self.marks[name].token_ids[-1]
        admin = self.api.http(self.tokens[name][Role.TENANT_ADMIN])
        assert self._ok(admin.delete(f"/v1/tokens/{token_id}"))["revoked_at"] is not None
        self.dead.setdefault(name, {})["revoked"] = secret

    def _expiring(self, name: str) -> None:
        """A tenant-member token with `expires_at`, used while live; build() then moves the clock past
        it (after every revocation, whose auth-epoch bump would otherwise drop it from the cache)."""
        expires_at = (self.api.clock.now() + EXPIRES_IN).isoformat()
        secret = self._mint(name, {"role": Role.TENANT_MEMBER.value, "expires_at": expires_at})
        self.dead.setdefault(name, {})["expired"] = secret

    def _member(self, name: str) -> Any:
        return self.api.http(self.tokens[name][Role.TENANT_MEMBER])

    def _march(self, name: str) -> None:
        """An on-demand (own train project) and a spot instance, an hour each, and a reservation."""
        marks, member, api = self.marks[name], self._member(name), self.api
        train = marks.project_ids[marks.project_names.index(f"{name}-train")]
        on_demand = self._ok(
            member.post("/v1/instances", json={"model": "H100", "nodes": 1, "project": train}), 201
        )
        spot = self._ok(member.post("/v1/instances", json={"model": "H100", "nodes": 1, "spot": True}), 201)
        reservation = self._ok(
            member.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 2}), 201
        )
        marks.instance_ids += [on_demand["id"], spot["id"]]
        marks.spot_ids.append(spot["id"])
        marks.reservation_ids.append(reservation["id"])
        api.control.reconcile()
        api.clock.advance(timedelta(hours=1))
        for instance in (on_demand, spot):
            self._ok(member.post(f"/v1/instances/{instance['id']}/stop"))
        api.control.reconcile()

    def _finalize_march(self) -> None:
        self.api.clock.set(MARCH.end + timedelta(days=1))
        self.api.control.reconcile()
        invoices = self.api.billing.finalize(MARCH)
        by_tenant = {m.tenant_id: m for m in self.marks.values()}
        for invoice in invoices:
            marks = by_tenant[invoice.tenant_id]
            marks.invoice_ids.append(invoice.id)
            note = self.api.billing.credit_note(invoice.id, reason="isolation fixture", amount="1.00")
            marks.credit_note_ids.append(note.id)

    def _april(self, name: str) -> None:
        """Live objects: a reservation starting tomorrow, a running on-demand and a spot instance."""
        marks, member = self.marks[name], self._member(name)
        start = (self.api.clock.now() + timedelta(days=1)).isoformat()
        reservation = self._ok(
            member.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 4, "start": start}),
            201,
        )
        on_demand = self._ok(member.post("/v1/instances", json={"model": "H100", "nodes": 1}), 201)
        spot = self._ok(member.post("/v1/instances", json={"model": "GB200", "nodes": 1, "spot": True}), 201)
        marks.reservation_ids.append(reservation["id"])
        marks.instance_ids += [on_demand["id"], spot["id"]]
        marks.spot_ids.append(spot["id"])
        marks.live_reservation_ids.append(reservation["id"])
        marks.live_instance_ids += [on_demand["id"], spot["id"]]


def missing_marks(like: Marks) -> Marks:
    """Marks of a tenant that does not exist: every id of the same shape as `like`'s, naming nothing."""

    def gone(ids: list[str]) -> list[str]:
        return [missing_id(ids[0])]

    return Marks(
        missing_id(like.tenant_id),
        "nobody-at-all",
        project_ids=gone(like.project_ids),
        project_names=["nobody-project"],
        token_ids=gone(like.token_ids),
        token_prefixes=["nc_000000"],
        reservation_ids=gone(like.reservation_ids),
        instance_ids=gone(like.instance_ids),
        spot_ids=gone(like.spot_ids),
        live_reservation_ids=gone(like.live_reservation_ids),
        live_instance_ids=gone(like.live_instance_ids),
        invoice_ids=gone(like.invoice_ids),
        credit_note_ids=gone(like.credit_note_ids),
        webhook_ids=gone(like.webhook_ids),
        node_ids=["no-such-node"],
    )


def missing_id(ident: str) -> str:
    """An id of the same shape as `ident` (prefix, 16 hex digits) that names nothing."""
    return re.sub(r"[0-9a-f]{16}", "0" * 16, ident)


def leaked(text: str, foreign: Iterable[str], sent: str = "") -> list[str]:
    """The foreign strings found in `text`, leaving out those the request itself carried (an error that
    echoes the id it was asked about names no one new)."""
    return sorted(s for s in foreign if s in text and s not in sent)
