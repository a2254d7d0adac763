"""The fleet map's payloads: the control plane's fleet-map queries (control/app/fleetmap.py), encoded
for the map's script. Packed (what the map loads): one binary body per half, a small JSON header then
typed arrays (little-endian, each 4-byte aligned), so the browser reads 100k trays without parsing them:

    b"NCFM" | u32 header length | header JSON (padded to 4) | sections

The header names each section: {"name", "type": u8|u16|i32|utf8, "offset" (bytes from the end of the
header), "length" (items; bytes for utf8)}. Topology: rack_count, rack_gpus (i32 per rack), model, gpus (u8 per
tray), names (the trays' names joined by newlines: a tray's id less "RACK-" where it starts so, "!"+id
otherwise). State, rack aggregation first: rack_used, rack_bad (i32 per rack), then state (one byte per
tray, indexing header "states"), held (i32 positions), tenant (i32, indexing "tenants"), used (u16).
The JSON documents (topology.json, state.json) carry the same data for scripts.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from neocloud.control.app.fleetmap import BASE_STATES, LiveState, require_fleet_view
from neocloud.control.app.layout import Topology

__all__ = ["BASE_STATES", "live_document", "pack", "pack_live", "pack_topology", "require_fleet_view"]

MAGIC = b"NCFM"
DTYPES: dict[str, np.dtype[Any]] = {"u8": np.dtype("<u1"), "u16": np.dtype("<u2"), "i32": np.dtype("<i4")}


def pack(header: dict[str, Any], sections: list[tuple[str, str, Any]]) -> bytes:
    """MAGIC, the header (naming each section's place) and the sections, each 4-byte aligned."""
    places: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    at = 0
    for name, kind, data in sections:
        if kind == "utf8":
            raw = str(data).encode()
            length = len(raw)
        else:
            arr = np.ascontiguousarray(np.asarray(data).astype(DTYPES[kind]))
            raw, length = arr.tobytes(), int(arr.size)
        places.append({"name": name, "type": kind, "offset": at, "length": length})
        blobs.append(raw + b"\0" * (_align(len(raw)) - len(raw)))
        at += len(blobs[-1])
    head = json.dumps({**header, "sections": places}, separators=(",", ":")).encode()
    head += b" " * (_align(len(head)) - len(head))
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(blobs)


def _align(n: int) -> int:
    return (n + 3) & ~3


def pack_topology(topo: Topology) -> bytes:
    header = {
        "kind": "topology",
        "version": topo.version,
        "trays": topo.size,
        "models": topo.models,
        "halls": topo.halls,
        "sus": topo.sus,
        "racks": topo.racks,
        "nvlink": topo.nvlink,
        "it_kw": topo.it_kw,
    }
    return pack(
        header,
        [
            ("rack_count", "i32", topo.rack_count),
            ("rack_gpus", "i32", topo.rack_gpus),
            ("model", "u8", topo.tray_model),
            ("gpus", "u8", topo.tray_gpus),
            ("names", "utf8", "\n".join(topo.names)),
        ],
    )


def pack_live(live: LiveState) -> bytes:
    header = {
        "kind": "state",
        "version": live.version,
        "at": live.at,
        "states": live.states,
        "tenants": live.tenants,
    }
    return pack(
        header,
        [
            ("rack_used", "i32", live.rack_used),
            ("rack_bad", "i32", live.rack_bad),
            ("state", "u8", live.state),
            ("held", "i32", live.held),
            ("tenant", "i32", live.tenant),
            ("used", "u16", np.minimum(live.used, 65535)),
        ],
    )


def topology_document(topo: Topology) -> dict[str, Any]:
    """topology.json: columns halls, sus [name, hall], racks [name, su], and per tray (in map order)
    its name, rack index, model index and GPUs; `nvlink` names a tray's NVLink domain where it is not
    its rack."""
    return {
        "version": topo.version,
        "models": topo.models,
        "halls": topo.halls,
        "sus": topo.sus,
        "racks": topo.racks,
        "trays": {
            "name": topo.names,
            "rack": topo.tray_rack.tolist(),
            "model": topo.tray_model.tolist(),
            "gpus": topo.tray_gpus.tolist(),
        },
        "nvlink": topo.nvlink,
        "it_kw": topo.it_kw,
    }


def live_document(live: LiveState) -> dict[str, Any]:
    """state.json: the trays that are not free, rows [position, state index, tenant index, GPUs used]."""
    rows: dict[int, list[int]] = {}
    for pos in np.flatnonzero(live.state).tolist():
        rows[pos] = [pos, int(live.state[pos]), -1, 0]
    for pos, tenant, used in zip(live.held.tolist(), live.tenant.tolist(), live.used.tolist(), strict=True):
        rows[pos] = [pos, int(live.state[pos]), tenant, used]
    return {
        "version": live.version,
        "at": live.at,
        "states": live.states,
        "tenants": live.tenants,
        "held": [rows[k] for k in sorted(rows)],
    }
