"""The loops that outlive an outage wait longer after each failure in a row, up to a cap."""

from neocloud.cli.backoff import Backoff


def test_the_wait_doubles_up_to_the_cap_and_a_success_resets_it() -> None:
    backoff = Backoff(0.5, cap=3.0)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.succeeded() == 5
    assert backoff.failed() == 0.5
