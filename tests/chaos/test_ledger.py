"""The chaos ledger (pure): what counts as lost, duplicated, undelivered and extra."""

from __future__ import annotations

from chaos.ledger import dead_letter_cids, ledger_check, markdown_table


def _check(**kw):
    base = dict(scenario="s", accepted={}, refused=(), audit_counts={}, deliveries={}, dead_letters={})
    return ledger_check(**(base | kw))


def test_a_clean_run_passes():
    led = _check(accepted={"a": False, "b": True}, audit_counts={"a": 1, "b": 1}, deliveries={"b": 1})
    assert (led.accepted, led.lost, led.duplicated, led.undelivered, led.extra_deliveries) == (2, 0, 0, 0, 0)
    assert led.ok


def test_an_accepted_event_without_audit_row_is_lost():
    led = _check(accepted={"a": False, "b": False}, audit_counts={"a": 1})
    assert led.lost == 1 and led.lost_ids == ("b",) and not led.ok


def test_a_second_audit_row_is_a_duplicate():
    led = _check(accepted={"a": False}, audit_counts={"a": 3})
    assert led.duplicated == 2 and not led.ok


def test_a_forwardable_event_is_delivered_or_a_dead_letter():
    accepted = {"a": True, "b": True, "c": True}
    led = _check(
        accepted=accepted, audit_counts=dict.fromkeys(accepted, 1), deliveries={"a": 1}, dead_letters={"b": "x"}
    )
    assert led.undelivered == 1 and led.dead_letters == 1 and not led.ok


def test_extra_deliveries_are_counted_and_bounded():
    accepted = {"a": True, "b": True}
    ok = _check(accepted=accepted, audit_counts=dict.fromkeys(accepted, 1), deliveries={"a": 3, "b": 1}, extra_bound=2)
    assert ok.extra_deliveries == 2 and ok.ok
    over = _check(
        accepted=accepted, audit_counts=dict.fromkeys(accepted, 1), deliveries={"a": 4, "b": 1}, extra_bound=2
    )
    assert over.extra_deliveries == 3 and not over.ok


def test_a_refused_event_must_not_be_stored_unless_accepted_later():
    led = _check(accepted={"a": False}, refused={"a", "r"}, audit_counts={"a": 1, "r": 1})
    assert led.stored_refused == 1 and not led.ok
    assert _check(accepted={"a": False}, refused={"a"}, audit_counts={"a": 1}).ok


def test_a_poison_event_must_be_a_dead_letter_instead_of_an_audit_row():
    assert _check(accepted={"p": False}, poison={"p"}, dead_letters={"p": "classify: killed"}).ok
    assert _check(accepted={"p": False}, poison={"p"}).lost == 1


def test_a_process_not_running_fails_the_scenario():
    assert not _check(processes_running=False).ok


def test_dead_letter_payloads_name_their_events():
    assert dead_letter_cids({"batch_id": 1, "events": [{"correlation_id": "a"}, {"correlation_id": "b"}]}) == ["a", "b"]
    assert dead_letter_cids({"event": {"correlation_id": "c"}, "batch_id": 1}) == ["c"]
    assert dead_letter_cids({"correlation_id": "d", "hostname": "h"}) == ["d"]
    assert dead_letter_cids("garbage") == []


def test_the_table_has_one_row_per_scenario_and_says_fail():
    table = markdown_table([_check(scenario="x"), _check(scenario="y", processes_running=False)])
    lines = table.splitlines()
    assert len(lines) == 4 and lines[2].startswith("| x |") and "FAIL" in lines[3]
