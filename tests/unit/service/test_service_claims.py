"""Claims name their holder through the ``Host`` port, and lapse with the lease or the holder's process."""

from __future__ import annotations

from canister_factory.ports import FakeHost
from canister_factory.service import claims

NOW = 1_000


def test_a_token_names_this_host_and_process() -> None:
    host = FakeHost(host="box", own_pid=77)
    token = claims.new_token(host)
    assert token.startswith("box:77:") and token != claims.new_token(host)


def test_no_claim_or_an_ended_lease_is_stale() -> None:
    host = FakeHost()
    assert claims.is_stale(host, None, None, NOW)
    assert claims.is_stale(host, "other:1:x", NOW - 1, NOW)
    assert not claims.is_stale(host, "other:1:x", NOW, NOW)


def test_on_this_host_a_claim_lapses_with_its_process() -> None:
    host = FakeHost(host="box", own_pid=77, alive={78})
    assert not claims.is_stale(host, "box:77:x", NOW + 5, NOW)
    assert not claims.is_stale(host, "box:78:x", NOW + 5, NOW)
    assert claims.is_stale(host, "box:79:x", NOW + 5, NOW)  # gone: taken over before the lease ends
    assert not claims.is_stale(host, "elsewhere:79:x", NOW + 5, NOW)  # another host's processes are unknown
    assert not claims.is_stale(host, "box:notapid:x", NOW + 5, NOW)
