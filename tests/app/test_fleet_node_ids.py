"""Node ids are host names: Slurm (and the topology files) would rename any other id, and the cluster's
answers (sacct, sinfo) would then name nodes neocloud does not have."""

from __future__ import annotations

import pytest

from neocloud.kernel.errors import InvalidInput
from tests.builders import fleet, node
from tests.control_builders import memory_world


@pytest.mark.parametrize("bad", ["r1/n1", "-n1", "n 1", "n1:0", "ä1", "x" * 65])
def test_a_fleet_with_a_node_id_that_is_not_a_host_name_is_refused_and_nothing_is_imported(bad: str) -> None:
    w = memory_world()
    before = len(w.control.nodes.nodes())
    with pytest.raises(InvalidInput, match="not a host name") as err:
        w.control.fleet.import_fleet(fleet(node("ok-1"), node(bad)))
    assert err.value.details["value"] == bad
    assert len(w.control.nodes.nodes()) == before


def test_host_name_ids_are_imported() -> None:
    w = memory_world()
    done = w.control.fleet.import_fleet(fleet(node("r1-n1.site_a"), node("9node")))
    assert done["added"] == 2
