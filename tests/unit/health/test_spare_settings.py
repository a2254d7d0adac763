"""The default spares: 2 trays per NVL72 domain (bench health: every NVL72 reservation ≥ 99.9 %), set
from the environment by the server's settings."""

from __future__ import annotations

import pytest

from neocloud.health.app.deps import HealthSettings, SpareSettings
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput


def test_the_default_keeps_two_trays_per_nvl72_domain_and_no_hgx_spares() -> None:
    spares = HealthSettings().spares
    assert (spares.nvl72_trays, spares.hgx_per_su) == (ref.NVL72_SPARE_TRAYS_DEFAULT, 0) == (2, 0)


def test_the_environment_sets_either_and_unset_keeps_the_default() -> None:
    assert SpareSettings.from_env({}) == SpareSettings()
    got = SpareSettings.from_env({"NEOCLOUD_SPARE_TRAYS_PER_NVL72": "0", "NEOCLOUD_SPARE_NODES_PER_SU": "1"})
    assert (got.nvl72_trays, got.hgx_per_su) == (0, 1)


@pytest.mark.parametrize("raw", ["-1", "two", "1.5"])
def test_a_bad_value_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(InvalidInput, match="NEOCLOUD_SPARE_TRAYS_PER_NVL72"):
        SpareSettings.from_env({"NEOCLOUD_SPARE_TRAYS_PER_NVL72": raw})
