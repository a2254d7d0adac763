"""The GPU catalog look-up: case-insensitive, exact entries, and an unknown name refused with the list."""

from __future__ import annotations

import pytest

from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import CATALOG, gpu_model


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_catalog_name_is_found_whatever_its_case(name: str) -> None:
    for asked in (name, name.lower(), name.upper(), name.swapcase()):
        assert gpu_model(asked) is CATALOG[name]


def test_an_unknown_model_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        gpu_model("H1000")
    assert err.value.details == {"known": sorted(CATALOG)}
