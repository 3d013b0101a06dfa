"""Each rule type, rules as versioned data, and the block list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.fraud import api, services
from contexts.fraud.models import Rule
from finfactory.audit.models import AuditRecord
from finfactory.errors import Conflict, InvalidInput, NotFound

from .conftest import writes

T0 = timezone.now() - timedelta(minutes=30)


def decisions(results) -> list[str]:
    return [result.decision for result in results]


# --- amount thresholds ---------------------------------------------------------------------------


def test_an_amount_threshold_fires_from_its_amount_in_its_currency_only(customer, rule):
    rule("amount_threshold", {"currency": "PHP", "min_amount": 100_000})
    alice = customer()

    below = api.score(**alice.move(amount=99_999))
    at = api.score(**alice.move(amount=100_000))
    other_currency = api.score(**alice.move(amount=500_000, currency="USD"))

    assert decisions([below, at, other_currency]) == ["approve", "decline", "approve"]


def test_a_rule_narrowed_to_movement_types_and_channels_ignores_the_others(customer, rule):
    rule("amount_threshold", {"currency": "PHP", "min_amount": 1, "movement_types": ["cash_out"], "channels": ["web"]})
    alice = customer()

    results = [
        api.score(**alice.move(movement_type="cash_out", channel="web")),
        api.score(**alice.move(movement_type="cash_out", channel="app")),
        api.score(**alice.move(movement_type="transfer", channel="web")),
    ]

    assert decisions(results) == ["decline", "approve", "approve"]


# --- velocity --------------------------------------------------------------------------------------


def test_a_count_velocity_counts_the_customers_earlier_movements_in_the_window(customer, rule):
    rule("velocity", {"scope": "customer", "window_seconds": 3600, "max_count": 3})
    alice, bob = customer(), customer()

    results = [api.score(**alice.move(occurred_at=T0 + timedelta(minutes=i))) for i in range(5)]
    other = api.score(**bob.move(occurred_at=T0 + timedelta(minutes=5)))

    # The fourth is the first past three; a declined movement does not count, so the fifth is too.
    assert decisions(results) == ["approve", "approve", "approve", "decline", "decline"]
    assert "4 movements of the customer in 3600 s (limit 3)" in results[3].reasons[0]["detail"]
    assert other.decision == "approve"


def test_a_velocity_window_slides_movements_out_as_time_passes(customer, rule):
    start = timezone.now() - timedelta(hours=3)
    rule("velocity", {"scope": "wallet", "window_seconds": 3600, "max_count": 2}, effective_from=start)
    alice = customer()

    results = [
        api.score(**alice.move(occurred_at=start)),
        api.score(**alice.move(occurred_at=start + timedelta(minutes=10))),
        api.score(**alice.move(occurred_at=start + timedelta(minutes=20))),  # third in the hour
        api.score(**alice.move(occurred_at=start + timedelta(minutes=61))),  # the first has left the window
        api.score(**alice.move(occurred_at=start + timedelta(minutes=69))),  # 10, 61: still two
        api.score(**alice.move(occurred_at=start + timedelta(minutes=71))),  # 61, 69 in the window
    ]

    assert decisions(results) == ["approve", "approve", "decline", "approve", "decline", "approve"]


def test_an_amount_velocity_sums_in_its_currency_including_the_movement(customer, rule):
    rule("velocity", {"scope": "customer", "window_seconds": 86_400, "max_amount": 100_000, "currency": "PHP"})
    alice = customer()

    results = [api.score(**alice.move(amount=amount)) for amount in (40_000, 60_000, 1)]
    dollars = api.score(**alice.move(amount=1_000_000, currency="USD"))

    assert decisions(results) == ["approve", "approve", "decline"]
    assert results[2].reasons[0]["detail"] == "100001 PHP moved by the customer in 86400 s (limit 100000)"
    assert dollars.decision == "approve"


def test_a_counterparty_velocity_counts_every_customer_paying_it(customer, rule):
    rule("velocity", {"scope": "counterparty", "window_seconds": 600, "max_count": 2}, action="review", weight=10)
    mule = "wal_mule0000000000000000000000"

    results = [api.score(**customer().move(counterparty=mule)) for _ in range(3)]
    without = api.score(**customer().move())

    assert decisions(results) == ["approve", "approve", "review"]
    assert without.decision == "approve"


def test_a_velocity_narrowed_to_a_movement_type_counts_only_that_type(customer, rule):
    rule("velocity", {"scope": "customer", "window_seconds": 3600, "max_count": 1, "movement_types": ["cash_out"]})
    alice = customer()

    results = [
        api.score(**alice.move(movement_type="transfer")),
        api.score(**alice.move(movement_type="cash_out")),
        api.score(**alice.move(movement_type="transfer")),
        api.score(**alice.move(movement_type="cash_out")),
    ]

    assert decisions(results) == ["approve", "approve", "approve", "decline"]


# --- new device -----------------------------------------------------------------------------------


def test_a_new_device_fires_once_the_customer_has_a_known_device(customer, rule):
    rule("new_device", {"min_known_devices": 1}, action="review", weight=200)
    alice = customer()

    first = api.score(**alice.move(device_id="phone-a"))
    same = api.score(**alice.move(device_id="phone-a"))
    new = api.score(**alice.move(device_id="phone-b"))
    none = api.score(**alice.move())

    assert decisions([first, same, new, none]) == ["approve", "approve", "review", "approve"]
    assert new.reasons[0]["detail"] == "device not seen on this customer's 1 known devices"


def test_a_device_of_a_declined_movement_does_not_become_known(customer, rule):
    rule("new_device", {"min_known_devices": 0}, action="decline")
    alice = customer()

    results = [api.score(**alice.move(device_id="stolen")) for _ in range(2)]

    assert decisions(results) == ["decline", "decline"]


# --- geolocation ---------------------------------------------------------------------------------


def test_a_geo_rule_fires_when_the_ip_and_the_device_disagree_on_the_country(customer, rule):
    rule("geo_mismatch", {"compare_ip_to_location": True}, action="review")
    alice = customer()

    same = api.score(**alice.move(ip_country="PH", location_country="PH"))
    differ = api.score(**alice.move(ip_country="RU", location_country="PH"))
    only_ip = api.score(**alice.move(ip_country="RU"))

    assert decisions([same, differ, only_ip]) == ["approve", "review", "approve"]
    assert differ.reasons[0]["detail"] == "IP in RU, device located in PH"


def test_a_geo_rule_fires_on_impossible_travel(customer, rule):
    start = timezone.now() - timedelta(hours=5)
    rule("geo_mismatch", {"max_speed_kmh": 900, "compare_ip_to_location": False}, effective_from=start)
    alice = customer()
    manila, cebu, london = (14.5995, 120.9842), (10.3157, 123.8854), (51.5074, -0.1278)

    results = [
        api.score(**alice.move(occurred_at=start, latitude=manila[0], longitude=manila[1])),
        # About 570 km in 1 h 30: a flight.
        api.score(**alice.move(occurred_at=start + timedelta(minutes=90), latitude=cebu[0], longitude=cebu[1])),
        # About 10,700 km 30 minutes later.
        api.score(**alice.move(occurred_at=start + timedelta(minutes=120), latitude=london[0], longitude=london[1])),
    ]

    assert decisions(results) == ["approve", "approve", "decline"]
    assert "km/h from the customer's last located movement (limit 900)" in results[2].reasons[0]["detail"]


def test_a_geo_rule_with_allowed_countries_fires_outside_them(customer, rule):
    rule("geo_mismatch", {"allowed_countries": ["PH"], "compare_ip_to_location": False})
    alice = customer()

    assert decisions([api.score(**alice.move(ip_country="PH")), api.score(**alice.move(ip_country="SG"))]) == [
        "approve",
        "decline",
    ]


# --- block list ------------------------------------------------------------------------------------


def test_the_block_list_matches_each_kind_and_ip_networks(customer, rule):
    rule("block_list", {})
    services.block_entry_add(kind="device", value="emulator-1", reason="emulator farm")
    services.block_entry_add(kind="ip", value="203.0.113.0/24", reason="proxy network")
    services.block_entry_add(kind="counterparty", value="wal_fraudster", reason="confirmed mule")
    alice = customer()
    services.block_entry_add(kind="customer", value=alice.customer_id, reason="account takeover")

    results = [
        api.score(**customer().move(device_id="emulator-1")),
        api.score(**customer().move(ip_address="203.0.113.77")),
        api.score(**customer().move(ip_address="203.0.114.1")),
        api.score(**customer().move(counterparty="wal_fraudster")),
        api.score(**alice.move()),
    ]

    assert decisions(results) == ["decline", "decline", "approve", "decline", "decline"]
    assert results[1].reasons[0]["detail"].startswith("on the block list: ip (blk_")


def test_a_removed_or_expired_entry_no_longer_blocks(customer, rule):
    rule("block_list", {"kinds": ["device"]})
    removed = services.block_entry_add(kind="device", value="old-phone", reason="lost")
    services.block_entry_add(
        kind="device", value="temp", reason="cool-off", expires_at=timezone.now() + timedelta(hours=1)
    )
    services.block_entry_remove(entry_id=removed.id, reason="found again")

    now = api.score(**customer().move(device_id="temp"))
    later = api.score(**customer().move(device_id="temp", occurred_at=timezone.now() + timedelta(hours=2)))
    found = api.score(**customer().move(device_id="old-phone"))

    assert decisions([now, later, found]) == ["decline", "approve", "approve"]


def test_a_block_list_rule_limited_to_kinds_ignores_the_others(customer, rule):
    rule("block_list", {"kinds": ["ip"]})
    services.block_entry_add(kind="device", value="dev-x", reason="test")

    assert api.score(**customer().move(device_id="dev-x")).decision == "approve"


def test_block_list_input_is_checked_and_a_value_is_blocked_once(fraud):
    before = writes()
    for kind, value, field in [("planet", "x", "kind"), ("ip", "not-an-ip", "value"), ("device", "", "value")]:
        with pytest.raises(InvalidInput) as refused:
            services.block_entry_add(kind=kind, value=value, reason="test")
        assert refused.value.errors[0].field == field
    with pytest.raises(InvalidInput):
        services.block_entry_add(kind="device", value="d", reason=" ")
    assert writes() == before

    services.block_entry_add(kind="ip", value="198.51.100.7", reason="test")
    with pytest.raises(Conflict) as twice:
        services.block_entry_add(kind="ip", value="198.51.100.7/32", reason="again")
    assert twice.value.code == "already_blocked"
    with pytest.raises(NotFound):
        services.block_entry_remove(entry_id="blk_unknown", reason="x")


# --- rules as versioned data ---------------------------------------------------------------------


def test_a_new_version_takes_over_at_its_start_and_past_movements_keep_the_old_one(customer, rule):
    start = timezone.now() - timedelta(hours=2)
    first = rule("amount_threshold", {"currency": "PHP", "min_amount": 1_000}, code="big-amounts", effective_from=start)
    switch = timezone.now() - timedelta(hours=1)
    second = services.rule_version_create(
        code="big-amounts", name="raised", kind="amount_threshold", params={"currency": "PHP", "min_amount": 5_000},
        action="decline", weight=100, reason="too many false positives", effective_from=switch,
    )  # fmt: skip
    alice = customer()

    before_switch = api.score(**alice.move(amount=2_000, occurred_at=switch - timedelta(minutes=1)))
    after_switch = api.score(**alice.move(amount=2_000, occurred_at=switch + timedelta(minutes=1)))

    assert (first.version, second.version) == (1, 2)
    assert (before_switch.decision, before_switch.reasons[0]["version"]) == ("decline", 1)
    assert after_switch.decision == "approve"
    versions = {r.version: r.effective_to for r in Rule.objects.filter(code="big-amounts")}
    assert versions == {1: switch, 2: None}
    trail = AuditRecord.objects.filter(target_type="fraud_rule", target_id="big-amounts").order_by("id")
    assert [(r.action, r.reason) for r in trail] == [
        ("fraud.rule_version_created", "test rule"),
        ("fraud.rule_version_created", "too many false positives"),
    ]
    assert trail[1].before["params"]["min_amount"] == 1_000 and trail[1].after["params"]["min_amount"] == 5_000


def test_a_disabled_version_stops_the_rule(customer, rule):
    made = rule("amount_threshold", {"currency": "PHP", "min_amount": 1})

    services.rule_disable(code=made.code, reason="paused")

    assert api.score(**customer().move()).decision == "approve"
    assert [(r.version, r.enabled) for r in api_rules(made.code)] == [(2, False), (1, True)]


def api_rules(code):
    from contexts.fraud.selectors import rules_list

    return rules_list(code=code)


def test_a_rule_keeps_its_kind_and_cannot_start_before_its_current_version(rule):
    made = rule("amount_threshold", {"currency": "PHP", "min_amount": 1})
    before = writes()

    with pytest.raises(Conflict) as kind:
        services.rule_version_create(code=made.code, name="x", kind="velocity",
                                     params={"scope": "customer", "window_seconds": 60, "max_count": 1},
                                     action="decline", weight=1, reason="x")  # fmt: skip
    with pytest.raises(Conflict) as early:
        services.rule_version_create(code=made.code, name="x", kind="amount_threshold",
                                     params={"currency": "PHP", "min_amount": 5}, action="decline", weight=1,
                                     reason="x", effective_from=made.effective_from - timedelta(days=1))  # fmt: skip

    assert (kind.value.code, early.value.code) == ("rule_kind_changed", "effective_from_before_current")
    assert writes() == before


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("amount_threshold", {"min_amount": 5}, "params.currency"),
        ("amount_threshold", {"currency": "PHP", "min_amount": 0}, "params.min_amount"),
        ("amount_threshold", {"currency": "PHP", "min_amount": 5, "colour": "red"}, "params.colour"),
        ("velocity", {"scope": "planet", "window_seconds": 60, "max_count": 1}, "params.scope"),
        ("velocity", {"scope": "customer", "window_seconds": 0, "max_count": 1}, "params.window_seconds"),
        ("velocity", {"scope": "customer", "window_seconds": 60}, "params.max_count"),
        ("velocity", {"scope": "customer", "window_seconds": 60, "max_amount": 5}, "params.currency"),
        ("velocity", {"scope": "customer", "window_seconds": 60, "max_count": 1, "movement_types": ["x"]},
         "params.movement_types"),
        ("new_device", {"min_known_devices": -1}, "params.min_known_devices"),
        ("geo_mismatch", {"allowed_countries": ["Philippines"]}, "params.allowed_countries"),
        ("geo_mismatch", {"compare_ip_to_location": False}, "params.compare_ip_to_location"),
        ("block_list", {"kinds": ["planet"]}, "params.kinds"),
        ("telepathy", {}, "kind"),
    ],
)  # fmt: skip
def test_rule_parameters_are_checked_against_the_kind_and_name_the_field(fraud, kind, params, field):
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        services.rule_version_create(code="checked", name="x", kind=kind, params=params, action="decline", weight=1,
                                     reason="x")  # fmt: skip

    assert [error.field for error in refused.value.errors] == [field]
    assert writes() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [({"code": "Has Spaces"}, "code"), ({"weight": 1001}, "weight"), ({"action": "shrug"}, "action"),
     ({"reason": ""}, "reason"), ({"name": ""}, "name")],
)  # fmt: skip
def test_rule_fields_are_checked(fraud, override, field):
    fields = {"code": "ok", "name": "x", "kind": "amount_threshold", "params": {"currency": "PHP", "min_amount": 1},
              "action": "decline", "weight": 1, "reason": "x", **override}  # fmt: skip

    with pytest.raises(InvalidInput) as refused:
        services.rule_version_create(**fields)

    assert [error.field for error in refused.value.errors] == [field]
