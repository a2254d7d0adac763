"""bench provision's scratch control plane converges the cluster to what it holds, so it must refuse a
cluster that holds other neocloud reservations instead of deleting them (and their jobs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neocloud.bench import provision


def test_a_cluster_holding_neocloud_reservations_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "_reservations", lambda conf: {"nc-rsv_live": "...", "maint": "..."})
    with pytest.raises(RuntimeError, match="holds 1 neocloud reservation"):
        provision._refuse_a_live_cluster(Path("/etc/slurm/slurm.conf"))


def test_a_cluster_with_only_others_reservations_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "_reservations", lambda conf: {"maint": "...", "ncbench-x": "..."})
    provision._refuse_a_live_cluster(Path("/tmp/neocloud-slurm/slurm.conf"))  # no error
