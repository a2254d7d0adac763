"""The fleet map's layout: where every tray is (hall → scalable unit → rack / NVLink domain), built
vectorised from the node table's columns (numpy sorts and run boundaries, no object per node). Static
while no node is added; control/app/fleetmap.py keeps one per node-set version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neocloud.control.app.nodetable import PATH_COLUMNS, NodeColumns
from neocloud.control.app.views import NodeView
from neocloud.kernel.errors import NotFound
from neocloud.kernel.gpus import gpu_model

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Topology:
    """Where every tray is, in map order (hall, SU, rack, id): position k is row `source[k]` of the
    node table's `columns`; `rack_start`/`rack_count` are each rack's run of positions; `position` maps a
    node id to its position."""

    version: str
    models: list[str]
    halls: list[str]
    sus: list[list[Any]]  # [name, hall index]
    racks: list[list[Any]]  # [name, su index]
    names: list[str]  # a tray's id less "RACK-" where it starts so, else "!" + id
    tray_rack: IntArray
    tray_model: IntArray
    tray_gpus: IntArray
    rack_start: IntArray
    rack_count: IntArray
    rack_gpus: IntArray
    nvlink: dict[str, str]  # a tray's NVLink domain where it is not its rack (HGX nodes)
    it_kw: float
    position: dict[str, int]
    columns: NodeColumns  # as read; map position k is row source[k]
    source: IntArray
    by_id: IntArray  # the rows of `columns` in node id order

    @property
    def size(self) -> int:
        return len(self.names)

    def node_view(self, node_id: str, state: str) -> NodeView:
        k = self.position.get(node_id)
        if k is None:
            raise NotFound(f"node {node_id!r} not found")
        return self.row_view(int(self.source[k]), state)

    def row_view(self, row: int, state: str) -> NodeView:
        """Row `row` of `columns` as a NodeView (no GPU slots)."""
        c = self.columns
        path = "/".join(getattr(c, col)[row] for col in reversed(PATH_COLUMNS))
        return NodeView(c.id[row], c.model[row], int(c.gpus[row]), path, state, [])


def _codes(values: Sequence[str]) -> tuple[npt.NDArray[np.str_], IntArray]:
    uniq, inverse = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return uniq, inverse.astype(np.int64)


def build_topology(cols: NodeColumns, version: str) -> Topology:
    """The topology of `cols`, vectorised: sort by (hall, SU, rack, id) with numpy, then one index per
    distinct hall, (hall, SU) and (hall, SU, rack) in that order."""
    n = len(cols.id)
    _, hall = _codes(cols.hall)
    _, su = _codes(cols.su)
    _, rack = _codes(cols.rack)
    _, ident = _codes(cols.id)
    order = np.lexsort((ident, rack, su, hall)) if n else np.zeros(0, dtype=np.int64)
    h, s, r = hall[order], su[order], rack[order]
    new_hall = np.ones(n, dtype=bool)
    new_su = np.ones(n, dtype=bool)
    new_rack = np.ones(n, dtype=bool)
    if n > 1:
        new_hall[1:] = h[1:] != h[:-1]
        new_su[1:] = new_hall[1:] | (s[1:] != s[:-1])
        new_rack[1:] = new_su[1:] | (r[1:] != r[:-1])
    hall_ix = np.cumsum(new_hall) - 1
    su_ix = np.cumsum(new_su) - 1
    rack_ix = np.cumsum(new_rack) - 1
    ids = [cols.id[i] for i in order.tolist()]
    rack_names = [cols.rack[i] for i in order.tolist()]
    first = np.flatnonzero(new_rack)
    su_first = np.flatnonzero(new_su)
    halls = [cols.hall[int(order[i])] for i in np.flatnonzero(new_hall).tolist()]
    sus = [[cols.su[int(order[i])], int(hall_ix[i])] for i in su_first.tolist()]
    racks = [[rack_names[i], int(su_ix[i])] for i in first.tolist()]
    models_all, model_code = _codes(cols.model)
    in_order = model_code[order]
    present, first_seen = np.unique(in_order, return_index=True)
    by_appearance = present[np.argsort(first_seen)]  # models in the order the map first meets them
    used_models = [str(models_all[c]) for c in by_appearance.tolist()]
    model_of = np.zeros(len(models_all), dtype=np.int64)
    model_of[by_appearance] = np.arange(len(by_appearance))
    tray_model = model_of[in_order]
    gpus = np.asarray(cols.gpus, dtype=np.int64)[order] if n else np.zeros(0, dtype=np.int64)
    names = [
        i[len(rk) + 1 :] if i.startswith(rk) and i[len(rk) : len(rk) + 1] == "-" else "!" + i
        for i, rk in zip(ids, rack_names, strict=True)
    ]
    rack_count = np.diff(np.append(first, n)).astype(np.int64)
    nvlink = {cols.id[i]: cols.nvlink[i] for i in order.tolist() if cols.nvlink[i] != cols.rack[i]}
    kw = np.array([gpu_model(m).node_max_kw for m in used_models], dtype=float)
    it_kw = float(np.bincount(tray_model, minlength=len(used_models)) @ kw) if n else 0.0
    return Topology(
        version=version,
        models=used_models,
        halls=halls,
        sus=sus,
        racks=racks,
        names=names,
        tray_rack=rack_ix.astype(np.int64),
        tray_model=tray_model,
        tray_gpus=gpus,
        rack_start=first.astype(np.int64),
        rack_count=rack_count,
        rack_gpus=np.add.reduceat(gpus, first) if n else np.zeros(0, dtype=np.int64),
        nvlink=nvlink,
        it_kw=round(it_kw, 1),
        position={node_id: k for k, node_id in enumerate(ids)},
        columns=cols,
        source=order.astype(np.int64),
        by_id=np.argsort(ident, kind="stable").astype(np.int64),
    )
