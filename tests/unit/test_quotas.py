import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.control.domain.quotas import Quota, Usage, check_admission, peak_usage
from neocloud.kernel.errors import InvalidInput, QuotaExceeded
from neocloud.kernel.ids import ProjectId, TenantId

T = TenantId("t")


def test_within_quota_passes():
    check_admission([Quota(T, None, "H100", 16)], "p", "H100", Usage(8, 8), 8)


def test_tenant_quota_names_model_limit_in_use_and_asked():
    with pytest.raises(QuotaExceeded) as err:
        check_admission([Quota(T, None, "H100", 16)], "p", "H100", Usage(12, 0), 8)
    assert err.value.details == {"model": "H100", "limit": 16, "in_use": 12, "asked": 8, "scope": "tenant"}
    assert "H100" in err.value.message and "16" in err.value.message


def test_project_quota_counts_only_that_project():
    quotas = [Quota(T, ProjectId("p1"), "H100", 8)]
    check_admission(quotas, "p2", "H100", Usage(8, 8), 8)
    with pytest.raises(QuotaExceeded):
        check_admission(quotas, "p1", "H100", Usage(8, 4), 8)


def test_no_quota_for_a_model_means_no_limit():
    check_admission([Quota(T, None, "B200", 0)], "p", "H100", Usage(1000, 1000), 1000)


def test_negative_quota_is_invalid():
    with pytest.raises(InvalidInput):
        Quota(T, None, "H100", -1)


def test_back_to_back_intervals_do_not_add_up():
    assert peak_usage([(0, 10, 8), (10, 20, 8)]) == 8


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20), st.integers(1, 16)), max_size=15))
def test_peak_usage_matches_counting_every_instant(raw):
    intervals = [(s, s + d, g) for s, d, g in raw]
    brute = max((sum(g for s, e, g in intervals if s <= t < e) for t in range(0, 71)), default=0)
    assert peak_usage(intervals) == brute
