import pytest

from neocloud.control.domain.tenancy import (
    TOKEN_PREFIX,
    Principal,
    Role,
    display_prefix,
    hash_secret,
    make_secret,
    validate_name,
)
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound
from neocloud.kernel.ids import TenantId

ACME = TenantId("ten_acme")


def test_roles_parse_from_text():
    assert Role.parse(" Tenant-Admin ") is Role.TENANT_ADMIN


def test_unknown_role_lists_the_known_ones():
    with pytest.raises(InvalidInput) as err:
        Role.parse("root")
    assert "operator" in err.value.details["known"]


def test_secret_has_the_recognisable_prefix_and_hashes_stably():
    secret = make_secret("x" * 40)
    assert secret.startswith(TOKEN_PREFIX)
    assert hash_secret(secret) == hash_secret(secret) != hash_secret(secret + "y")
    assert len(display_prefix(secret)) < len(secret) // 4


def test_short_random_part_is_refused():
    with pytest.raises(InvalidInput):
        make_secret("short")


def test_other_tenants_objects_answer_not_found():
    p = Principal("tok", Role.TENANT_ADMIN, ACME)
    with pytest.raises(NotFound) as err:
        p.visible("ten_other", "reservation", "rsv_1")
    assert err.value.message == "reservation 'rsv_1' not found"


def test_operators_and_global_viewers_see_everything():
    assert Principal("t", Role.OPERATOR).can_see("ten_x")
    assert Principal("t", Role.VIEWER).can_see("ten_x")
    assert not Principal("t", Role.VIEWER, ACME).can_see("ten_x")


def test_viewers_cannot_write():
    with pytest.raises(Forbidden):
        Principal("t", Role.VIEWER, ACME).require_write("reserving")


def test_members_are_not_admins_and_admins_only_of_their_tenant():
    with pytest.raises(Forbidden):
        Principal("t", Role.TENANT_MEMBER, ACME).require_admin_of(ACME, "creating a project")
    with pytest.raises(NotFound):
        Principal("t", Role.TENANT_ADMIN, ACME).require_admin_of("ten_other", "creating a project")


@pytest.mark.parametrize("bad", ["", "-x", "a b", "x" * 64, "é/"])
def test_bad_names_are_refused_naming_the_rule(bad):
    with pytest.raises(InvalidInput) as err:
        validate_name("tenant", bad)
    assert "letters, digits" in err.value.message


def test_good_names_pass_trimmed():
    assert validate_name("project", " ml-team_1.a ") == "ml-team_1.a"
