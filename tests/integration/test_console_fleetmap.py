"""The fleet map's read model (control.fleetmap) and its packed payloads (web/fleetmap.py), on memory,
SQLite and PostgreSQL: the vectorised topology is the one a plain per-node walk gives, the columnar SQL
read is the store's node list, the packed bodies decode to the same data, and the live half names the
right state, tenant and GPUs per tray. Console sessions' store contract runs on the same databases."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neocloud.bootstrap import MEMORY
from neocloud.control.app.fleetmap import BASE_STATES
from neocloud.control.app.layout import build_topology
from neocloud.control.app.nodetable import NodeColumns
from neocloud.control.app.session_records import SessionRecord
from neocloud.control.app.views import ReservationRequest
from neocloud.kernel.errors import NotFound
from neocloud.kernel.ids import NodeId
from neocloud.web import fleetmap as packed
from tests.builders import fleet, node
from tests.control_builders import SQL_KINDS, T0, database_url, migrated_engine, world


@pytest.fixture(params=[MEMORY, *SQL_KINDS])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Memory, SQLite and PostgreSQL, as a URL."""
    if request.param == MEMORY:
        yield MEMORY
        return
    for engine in migrated_engine(request.param, tmp_path):
        yield database_url(engine)


def mixed_fleet() -> Any:
    """Two halls, SUs out of name order, NVL-style racks of trays (ids "RACK-…") and HGX nodes whose
    NVLink domain is the node itself (ids that do not start with their rack)."""
    nodes = []
    for hall, sus in (("hall-b", ("su-2", "su-1")), ("hall-a", ("su-9",))):
        for su in sus:
            for r in range(2):
                rack = f"{hall}-{su}-r{r}"
                for k in range(3, 0, -1):
                    nodes.append(
                        node(f"{rack}-t{k}", model="GB200", gpus=4, rack=rack, nvlink=rack, su=su, hall=hall)
                    )
    nodes += [node(f"hgx{i}", rack="hall-a-su-9-r0", su="su-9", hall="hall-a") for i in (2, 1)]
    return fleet(*nodes)


def per_node_walk(nodes: list[Any]) -> dict[str, Any]:
    """The map's topology by the plain definition: sort by (hall, SU, rack, id), number each in turn."""
    ordered = sorted(nodes, key=lambda n: (n.hall, n.su, n.rack, n.id))
    halls: dict[str, int] = {}
    sus: dict[tuple[str, str], int] = {}
    racks: dict[tuple[str, str, str], int] = {}
    out: dict[str, Any] = {"halls": [], "sus": [], "racks": [], "names": [], "rack": [], "models": []}
    for n in ordered:
        if n.hall not in halls:
            halls[n.hall] = len(halls)
            out["halls"].append(n.hall)
        if (n.hall, n.su) not in sus:
            sus[(n.hall, n.su)] = len(sus)
            out["sus"].append([n.su, halls[n.hall]])
        if (n.hall, n.su, n.rack) not in racks:
            racks[(n.hall, n.su, n.rack)] = len(racks)
            out["racks"].append([n.rack, sus[(n.hall, n.su)]])
        if n.model not in out["models"]:
            out["models"].append(n.model)
        out["names"].append(n.id[len(n.rack) + 1 :] if n.id.startswith(n.rack + "-") else "!" + n.id)
        out["rack"].append(racks[(n.hall, n.su, n.rack)])
    return out


def unpack(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """web/fleetmap.py's format, decoded independently of its encoder."""
    assert body[:4] == b"NCFM"
    (length,) = struct.unpack("<I", body[4:8])
    header = json.loads(body[8 : 8 + length])
    base = 8 + length
    assert base % 4 == 0
    kinds = {"u8": "<u1", "u16": "<u2", "i32": "<i4"}
    out: dict[str, Any] = {}
    for s in header["sections"]:
        at = base + s["offset"]
        assert at % 4 == 0, s
        if s["type"] == "utf8":
            out[s["name"]] = body[at : at + s["length"]].decode()
        else:
            out[s["name"]] = np.frombuffer(
                body, dtype=kinds[s["type"]], count=s["length"], offset=at
            ).tolist()
    return header, out


def test_the_vectorised_topology_is_the_plain_per_node_walk() -> None:
    f = mixed_fleet()
    topo = build_topology(NodeColumns.of(f.nodes), "v1")
    want = per_node_walk(f.nodes)
    assert topo.halls == ["hall-a", "hall-b"] == want["halls"]
    assert topo.sus == want["sus"] and topo.racks == want["racks"]
    assert topo.names == want["names"] and topo.tray_rack.tolist() == want["rack"]
    assert topo.models == want["models"]
    assert topo.names[:5] == ["t1", "t2", "t3", "!hgx1", "!hgx2"]  # HGX ids do not start with their rack
    assert topo.rack_count.tolist() == [want["rack"].count(r) for r in range(len(want["racks"]))]
    assert topo.nvlink == {"hgx1": "nvl-hgx1", "hgx2": "nvl-hgx2"}
    assert int(topo.rack_gpus.sum()) == sum(n.gpus for n in f.nodes)
    assert (
        topo.node_view("hall-b-su-1-r0-t2", "ready").path
        == "site-0/hall-b/fabric-0/su-1/leaf-0/hall-b-su-1-r0/hall-b-su-1-r0"
    )
    with pytest.raises(NotFound):
        topo.node_view("nope", "ready")


def test_an_empty_fleet_has_an_empty_map() -> None:
    topo = build_topology(NodeColumns.of([]), "v0")
    assert topo.size == 0 and topo.racks == [] and topo.it_kw == 0.0
    header, sections = unpack(packed.pack_topology(topo))
    assert header["trays"] == 0 and sections["names"] == ""


def test_the_columnar_read_is_the_stores_node_list_and_the_map_follows_new_nodes(db: str) -> None:
    w = world(db, mixed_fleet())
    op = w.operator()
    with w.control.deps.uow(read_only=True) as uow:
        listed = uow.nodes()
    table = w.control.deps.node_table
    if table is not None:  # SQL: one query straight from the driver
        got, want = table.node_columns(), NodeColumns.of(listed)
        for column in ("id", "model", "gpus", "nvlink", "rack", "leaf", "su", "fabric", "hall", "site"):
            assert list(getattr(got, column)) == list(getattr(want, column)), column
    first = w.control.fleetmap.topology(op)
    assert first.names == per_node_walk(listed)["names"]
    w.control.fleet.import_fleet(fleet(node("hgx0", rack="hall-a-su-9-r0", su="su-9", hall="hall-a")))
    w.clock.advance(timedelta(seconds=3))
    w.control.fleetmap._version = None  # the version is re-read every VERSION_TTL_S of real time
    later = w.control.fleetmap.topology(op)
    assert later.version != first.version and "!hgx0" in later.names


def test_a_tenant_never_sees_the_map(db: str) -> None:
    w = world(db, mixed_fleet())
    acme = w.tenant("acme")
    for call in (w.control.fleetmap.topology, w.control.fleetmap.live):
        with pytest.raises(NotFound):
            call(acme)
    with pytest.raises(NotFound):
        w.control.fleetmap.node(acme, "hgx1")


def test_the_live_half_names_each_held_trays_state_tenant_and_gpus(db: str) -> None:
    w = world(db, mixed_fleet())
    op = w.operator()
    acme = w.tenant("acme")
    w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 4, None, "any"))
    w.control.reconcile()
    w.control.reconcile()
    w.control.nodes.set_node_states({NodeId("hall-b-su-2-r1-t1"): "cordoned"})
    topo = w.control.fleetmap.topology(op)
    live = w.control.fleetmap.live(op)
    assert live.version == topo.version
    held = dict(zip(live.held.tolist(), live.used.tolist(), strict=True))
    assert len(held) == 1
    ((pos, used),) = held.items()
    assert topo.names[pos] in ("!hgx1", "!hgx2") and used == 8
    assert live.states[live.state[pos]] == "reserved" and live.tenants == ["acme"]
    assert live.rack_used.tolist()[int(topo.tray_rack[pos])] == 8 and int(live.rack_used.sum()) == 8
    cordoned = topo.position["hall-b-su-2-r1-t1"]
    assert live.states[live.state[cordoned]] == "cordoned"
    assert live.rack_bad.tolist()[int(topo.tray_rack[cordoned])] == 1 and int(live.rack_bad.sum()) == 1
    header, sections = unpack(packed.pack_live(live))
    assert header["states"][: len(BASE_STATES)] == list(BASE_STATES)
    assert sections["held"] == [pos] and sections["used"] == [8] and sections["tenant"] == [0]
    assert sections["state"] == live.state.tolist() and sections["rack_used"] == live.rack_used.tolist()
    doc = packed.live_document(live)
    rows = [
        [pos, header["states"].index("reserved"), 0, 8],
        [cordoned, header["states"].index("cordoned"), -1, 0],
    ]
    assert doc["held"] == sorted(rows)
    view, holding = w.control.fleetmap.node(op, topo.names[pos][1:])
    assert holding is not None and holding.tenants == ("acme",) and holding.used == 8
    assert view.model == "H100" and view.gpus == 8


def test_the_packed_topology_decodes_to_the_topology() -> None:
    topo = build_topology(NodeColumns.of(mixed_fleet().nodes), "abc")
    header, sections = unpack(packed.pack_topology(topo))
    assert header["version"] == "abc" and header["trays"] == topo.size
    assert header["racks"] == topo.racks and header["sus"] == topo.sus and header["halls"] == topo.halls
    assert sections["names"].split("\n") == topo.names
    assert sections["rack_count"] == topo.rack_count.tolist()
    assert sections["model"] == topo.tray_model.tolist() and sections["gpus"] == topo.tray_gpus.tolist()
    assert packed.topology_document(topo)["trays"]["name"] == topo.names


@pytest.fixture
def records(db: str) -> Iterator[Any]:
    w = world(db)
    yield w.control.sessions.records


def test_session_records_keep_flash_end_with_their_token_and_purge_expired(records: Any) -> None:
    def rec(key: str, token: str, seen: timedelta = timedelta(0)) -> SessionRecord:
        return SessionRecord(
            key, token, "tenant-admin", "t1", "c" * 43, T0, T0 + seen, T0 + timedelta(hours=8)
        )

    records.add(rec("a" * 64, "tok1"))
    records.add(rec("b" * 64, "tok1"))
    records.add(rec("c" * 64, "tok2", timedelta(minutes=5)))
    assert records.get("a" * 64) == rec("a" * 64, "tok1")
    records.set_flash("a" * 64, ("one", "two"))
    records.touch("a" * 64, T0 + timedelta(minutes=10))
    got = records.get("a" * 64)
    assert got.flash == ("one", "two") and got.seen_at == T0 + timedelta(minutes=10)
    assert records.delete_token("tok1") == 2
    assert records.get("a" * 64) is None and records.get("b" * 64) is None
    assert records.purge(T0 + timedelta(minutes=34), timedelta(minutes=30)) == 0
    assert records.purge(T0 + timedelta(minutes=36), timedelta(minutes=30)) == 1
    assert records.get("c" * 64) is None
