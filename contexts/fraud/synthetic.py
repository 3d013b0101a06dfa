"""Synthetic labelled history for a sandbox tenant, so its fraud model can be trained and the
whole pipeline shown before the tenant has any real labels.

A simulation plays the last 60 days of a population of customers in time order. Each movement's
features are made by `feature_vector` from what the simulation knew just before it — the same
inputs history.py reads from the database: the customer's running totals, 1 h and 24 h windows
of movements not declined, counterparties and devices seen on them, declines in 30 days, the
wallet's balance — so a model trained on this history reads live movements the same way.

Fraud is a few patterns, each also imitated by honest customers, so the classes overlap:
- account takeover: a new device, often an IP abroad and at night, most of the balance sent to a
  counterparty never paid before (some takeovers come from the victim's own phone, in the day,
  for part of the balance); honest customers travel, change phones and make big payments;
- money mule: a young account receives several cash-ins from new counterparties within hours,
  then empties itself; honest customers top up several times and withdraw;
- card testing: bursts of tiny card payments to new merchants over the API, some declined;
  honest customers pay several small QR bills in a row.

Rows are written with bulk_create (no scoring), every one marked `synthetic`; declined attempts
are written as declined assessments so the database agrees with the `declines_30d` they cause.
One `random.Random(seed)` makes every choice in a fixed order and the window ends at midnight
UTC, so labels and features follow the seed; only the ids differ from one run to the next.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from finfactory.audit.services import audit_record
from finfactory.errors import FieldError, Forbidden, InvalidInput
from finfactory.ids import new_id

from .features import FeatureInputs, feature_vector
from .models import Assessment, Decision, KnownAccount, KnownCustomer, KnownDevice, KnownWallet

MAX_MOVEMENTS = 1_000_000
WINDOW = timedelta(days=60)
CURRENCY = "PHP"
HOME = "PH"
LOCAL_OFFSET_HOURS = 8  # customers live in Asia/Manila; occurred_at is stored (and featured) in UTC
BATCH = 5_000
LABEL_SOURCE = "synthetic"

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DECLINE_LOOKBACK = timedelta(days=30)

# Local hour weights: a day person, and the tenth of customers who live at night.
_DAY_HOURS = [0.4, 0.25, 0.2, 0.2, 0.3, 0.6, 1.2, 2.5, 3.5, 3.5, 4, 4, 4.5, 4, 3.5, 3.5, 3.5, 4, 4.5, 4.5, 4, 3, 2, 1]
_NIGHT_HOURS = [2.5, 2.5, 2, 1.5, 1, 0.6, 0.6, 1, 1.5, 2, 2, 2, 2.5, 2, 2, 2, 2, 2.5, 3, 3, 3, 3, 3, 3]
_TRIP_COUNTRIES = ["JP", "SG", "HK", "KR", "US", "AE", "TW", "TH"]
_FRAUD_COUNTRIES = ["NG", "RU", "CN", "VN", "US", "ID", "MY", "GB", "RO", "BR"]
_VPN_COUNTRIES = ["US", "SG", "JP", "NL"]
# Legitimate movement mix: (type, weight).
_LEGIT_TYPES = [("cash_in", 17), ("cash_out", 7), ("transfer", 25), ("qr_payment", 31), ("card_payment", 20)]
_OUTFLOWS = {"cash_out", "transfer", "qr_payment", "card_payment"}


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


_DAY_CUM, _NIGHT_CUM = _cumulative(_DAY_HOURS), _cumulative(_NIGHT_HOURS)
_TYPE_NAMES = [name for name, _ in _LEGIT_TYPES]
_TYPE_CUM = _cumulative([weight for _, weight in _LEGIT_TYPES])


@dataclass
class _Customer:
    customer_id: str
    wallet_id: str
    created_at: datetime
    wallet_created_at: datetime
    kyc_level: str
    scale: float  # the customer's usual payment, minor units
    night_owl: bool
    phone: str
    browser: str  # "" for customers who never use the web
    phone_changed_at: datetime | None
    new_phone: str
    trip: tuple[datetime, datetime, str] | None
    balance: int
    established: bool
    payees: list[str] = field(default_factory=list)
    merchants: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    # What history.py would read back for this customer at any moment of the simulation.
    count: int = 0
    amount: int = 0
    recent: deque = field(default_factory=deque)  # (time, amount) of movements not declined, 24 h
    declines: deque = field(default_factory=deque)  # times of declined movements, 30 d
    seen: set = field(default_factory=set)  # counterparties of movements not declined
    devices: dict = field(default_factory=dict)  # device → [first seen, last seen], approved movements
    credits: list = field(default_factory=lambda: [0, 0])
    debits: list = field(default_factory=lambda: [0, 0])
    last_at: datetime | None = None


@dataclass(frozen=True)
class _Step:
    """One planned fraudulent movement. `drain` takes that fraction of the balance at its time."""

    movement_type: str
    channel: str
    device: str
    ip_country: str
    location_country: str
    counterparty: str
    amount: int = 0
    drain: float = 0.0
    declined: bool = False


def _invalid(name: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{name}: {message}", errors=[FieldError(name, message, code)])


def _check(movements: object, fraud_rate: object, seed: object, customers: object) -> None:
    if isinstance(movements, bool) or not isinstance(movements, int) or not 1 <= movements <= MAX_MOVEMENTS:
        raise _invalid("movements", f"An integer from 1 to {MAX_MOVEMENTS:,}.", "out_of_range")
    if isinstance(fraud_rate, bool) or not isinstance(fraud_rate, int | float) or not 0 < fraud_rate <= 0.5:
        raise _invalid("fraud_rate", "A number greater than 0 and at most 0.5.", "out_of_range")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _invalid("seed", "An integer.", "invalid_type")
    if customers is not None and (
        isinstance(customers, bool) or not isinstance(customers, int) or not 1 <= customers <= movements
    ):
        raise _invalid("customers", "An integer from 1 to the number of movements.", "out_of_range")


def synthetic_history_generate(
    *, movements: int, fraud_rate: float = 0.05, seed: int = 7, customers: int | None = None
) -> dict:
    """Write `movements` labelled synthetic assessments (about `fraud_rate` of them fraudulent)
    and the customers, wallets, devices and balances they imply, in the current tenant."""
    if not settings.FRAUD_SYNTHETIC_DATA_ALLOWED:
        raise Forbidden(
            "Synthetic fraud history is not allowed in this deployment (FRAUD_SYNTHETIC_DATA_ALLOWED).",
            code="synthetic_data_not_allowed",
        )
    if connection.schema_name == get_public_schema_name():
        raise InvalidInput(
            "Synthetic history is written in a tenant's schema: run it inside a tenant.",
            code="tenant_required",
            errors=[FieldError("tenant", "No tenant is selected.", "tenant_required")],
        )
    _check(movements, fraud_rate, seed, customers)
    simulation = _Simulation(
        rng=random.Random(seed),  # noqa: S311 - a reproducible simulation, not a secret
        movements=movements,
        fraud_rows=max(1, round(movements * fraud_rate)),
        customers=customers or max(20, movements // 40),
    )
    with transaction.atomic():
        counts = simulation.run()
        audit_record(
            action="fraud.synthetic_history_generated",
            target_type="fraud_history",
            target_id=simulation.run_id,
            after={**counts, "fraud_rate": fraud_rate, "seed": seed},
            reason=f"{movements} synthetic movements for a sandbox pipeline",
        )
    return counts


class _Simulation:
    def __init__(self, *, rng: random.Random, movements: int, fraud_rows: int, customers: int) -> None:
        self.rng = rng
        self.total = movements
        self.fraud_target = min(fraud_rows, movements)
        self.run_id = new_id("syn")
        self.now = timezone.now()
        # Midnight UTC, not now: the hour of every movement (a feature) then follows the seed alone.
        self.end = datetime.combine(self.now.date(), datetime.min.time(), tzinfo=UTC)
        self.start = self.end - WINDOW
        self.merchants = [new_id("mer") for _ in range(max(40, customers))]
        self.agents = [new_id("agt") for _ in range(max(10, customers // 10))]
        self.customers = [self._customer() for _ in range(customers)]
        self._unused: dict[bool, list[int]] = {True: [], False: []}  # customers not yet defrauded
        for index, customer in enumerate(self.customers):
            self._unused[customer.established].append(index)
        for unused in self._unused.values():
            self.rng.shuffle(unused)
        self._sequence = 0
        self.written = 0
        self.fraudulent = 0
        self.batch: list[Assessment] = []

    # --- population -----------------------------------------------------------------------------

    def _customer(self) -> _Customer:
        rng = self.rng
        established = rng.random() < 0.85
        if established:
            created = self.start - timedelta(days=rng.uniform(5, 1000))
            kyc = rng.choices(["none", "basic", "full"], [10, 45, 45])[0]
        else:
            created = self.start + timedelta(days=rng.uniform(0, 50))
            kyc = rng.choices(["none", "basic", "full"], [40, 50, 10])[0]
        wallet_created = created + timedelta(hours=rng.uniform(0.1, 72))
        scale = min(max(rng.lognormvariate(10.8, 0.9), 2_000), 5_000_000)  # median about PHP 490
        phone = f"dev-{rng.getrandbits(64):016x}"
        browser = f"dev-{rng.getrandbits(64):016x}" if rng.random() < 0.35 else ""
        changed = self.start + timedelta(days=rng.uniform(0, 60)) if rng.random() < 0.06 else None
        new_phone = f"dev-{rng.getrandbits(64):016x}"
        trip = None
        if rng.random() < 0.08:
            leave = self.start + timedelta(days=rng.uniform(0, 55))
            trip = (leave, leave + timedelta(days=rng.uniform(2, 12)), rng.choice(_TRIP_COUNTRIES))
        customer = _Customer(
            customer_id=new_id("cus"),
            wallet_id=new_id("wal"),
            created_at=created,
            wallet_created_at=wallet_created,
            kyc_level=kyc,
            scale=scale,
            night_owl=rng.random() < 0.1,
            phone=phone,
            browser=browser,
            phone_changed_at=changed,
            new_phone=new_phone,
            trip=trip,
            balance=int(scale * rng.uniform(1, 12)) if established else 0,
            established=established,
        )
        customer.merchants = rng.sample(self.merchants, k=min(len(self.merchants), rng.randint(2, 8)))
        customer.agents = rng.sample(self.agents, k=min(len(self.agents), rng.randint(1, 3)))
        if established:
            # Movements before the window are not written; the running totals and the devices
            # (KnownCustomer, KnownDevice) carry them, as they would for a real customer.
            customer.count = rng.randint(3, 150)
            customer.amount = int(customer.count * scale * rng.uniform(0.8, 1.6))
            customer.devices[phone] = [wallet_created, wallet_created]
            if browser:
                customer.devices[browser] = [wallet_created, wallet_created]
        return customer

    def _link_payees(self) -> None:
        wallets = [c.wallet_id for c in self.customers]
        for customer in self.customers:
            count = self.rng.randint(1, 6)
            customer.payees = [
                w for w in self.rng.sample(wallets, k=min(len(wallets), count)) if w != customer.wallet_id
            ]

    # --- planning -------------------------------------------------------------------------------

    def _local(self, day: datetime, hour: int) -> datetime:
        minute = self.rng.uniform(0, 60)
        return day + timedelta(hours=hour - LOCAL_OFFSET_HOURS, minutes=minute)

    def _hour(self, customer: _Customer) -> int:
        weights = _NIGHT_CUM if customer.night_owl else _DAY_CUM
        return bisect.bisect_left(weights, self.rng.random() * weights[-1])

    def _within(self, at: datetime, customer: _Customer) -> datetime:
        earliest = max(self.start, customer.wallet_created_at + HOUR)
        return min(max(at, earliest), self.end - timedelta(seconds=1))

    def _random_time(self, customer: _Customer, *, night: bool = False) -> datetime:
        earliest = max(self.start, customer.wallet_created_at + HOUR)
        days = max((self.end - earliest).total_seconds() / 86_400, 0.01)
        day = datetime.combine((earliest + timedelta(days=self.rng.uniform(0, days))).date(), datetime.min.time(), UTC)
        hour = self.rng.randint(0, 4) if night else self._hour(customer)
        return self._within(self._local(day, hour), customer)

    def _event(self, at: datetime, index: int, step: _Step | None) -> tuple:
        self._sequence += 1
        return (at, self._sequence, index, step)

    def _plan_legit(self, count: int) -> list[tuple]:
        rng = self.rng
        weights = _cumulative([rng.lognormvariate(0, 0.8) for _ in self.customers])
        per_customer = [0] * len(self.customers)
        for index in rng.choices(range(len(self.customers)), cum_weights=weights, k=count):
            per_customer[index] += 1
        events = []
        for index, n in enumerate(per_customer):
            customer, previous = self.customers[index], None
            for _ in range(n):
                # A quarter of movements follow another within minutes (a shopping trip, bills).
                if previous is not None and rng.random() < 0.25:
                    at = self._within(previous + timedelta(minutes=rng.uniform(0.5, 25)), customer)
                else:
                    at = self._random_time(customer)
                events.append(self._event(at, index, None))
                previous = at
        return events

    def _victim(self, *, prefer_new: bool = False) -> int:
        """A customer not yet defrauded, established (or new) if one is left; anyone otherwise."""
        for established in (False, True) if prefer_new else (True, False):
            unused = self._unused[established]
            if unused:
                return unused.pop()
        return self.rng.randrange(len(self.customers))

    def _takeover(self) -> tuple[int, list[tuple[datetime, _Step]]]:
        rng = self.rng
        index = self._victim()
        victim = self.customers[index]
        subtle = rng.random() < 0.25  # the victim's own phone (remote access, SIM swap), by day, part of the balance
        device = rng.choices(
            [f"dev-{rng.getrandbits(64):016x}", victim.phone, ""], [30, 70, 0] if subtle else [80, 15, 5]
        )[0]
        abroad = rng.random() < (0.1 if subtle else 0.55)
        ip_country = rng.choice(_FRAUD_COUNTRIES) if abroad else HOME
        channel = "web" if not device or rng.random() < 0.35 else "app"
        at = self._random_time(victim, night=not subtle and rng.random() < 0.45)
        target = new_id("wal") if rng.random() < 0.9 else rng.choice(victim.payees or [new_id("wal")])
        steps = []
        for n in range(rng.choices([1, 2, 3], [50, 35, 15])[0]):
            if n:
                at += timedelta(minutes=rng.uniform(1, 20))
                if rng.random() < 0.6:
                    target = new_id("wal")
            kind = rng.choices(["transfer", "card_payment", "qr_payment"], [70, 20, 10])[0]
            counterparty = target if kind == "transfer" else rng.choice(self.merchants)
            drain = rng.uniform(0.2, 0.6) if subtle and not n else rng.uniform(0.6, 1.0)
            steps.append(
                (
                    self._within(at, victim),
                    _Step(
                        kind, channel, device, ip_country, HOME if channel == "app" else "", counterparty, drain=drain
                    ),
                )
            )
        return index, steps

    def _scam(self) -> tuple[int, list[tuple[datetime, _Step]]]:
        """The customer, deceived, pays the fraudster from their own phone, at home, in the day."""
        rng = self.rng
        index = self._victim()
        victim = self.customers[index]
        at = self._random_time(victim)
        target = new_id("wal")
        steps = []
        for _ in range(rng.choices([1, 2], [75, 25])[0]):
            step = _Step("transfer", "app", victim.phone, HOME, HOME, target, drain=rng.uniform(0.3, 0.9))
            steps.append((self._within(at, victim), step))
            at += timedelta(minutes=rng.uniform(5, 120))
        return index, steps

    def _mule(self) -> tuple[int, list[tuple[datetime, _Step]]]:
        rng = self.rng
        index = self._victim(prefer_new=rng.random() < 0.7)
        mule = self.customers[index]
        if mule.established:  # a recruited customer
            at = self._random_time(mule)
        else:  # an account opened to be a mule works within days
            at = self._within(mule.wallet_created_at + timedelta(hours=rng.uniform(2, 240)), mule)
        steps = []
        for _ in range(rng.randint(2, 8)):
            channel = rng.choices(["api", "agent", "app"], [40, 25, 35])[0]
            device = mule.phone if channel == "app" else ""
            amount = int(min(rng.lognormvariate(13.6, 0.6), 20_000_000))  # median about PHP 8,000
            counterparty = new_id("bnk") if channel == "api" else new_id("wal")
            geo = HOME if channel == "app" else ""
            steps.append((self._within(at, mule), _Step("cash_in", channel, device, geo, geo, counterparty, amount)))
            at += timedelta(minutes=rng.uniform(2, 40))
        at += timedelta(minutes=rng.uniform(3, 90))
        for _ in range(rng.choices([1, 2], [70, 30])[0]):
            if rng.random() < 0.55:
                step = _Step("cash_out", "agent", "", "", "", rng.choice(self.agents), drain=rng.uniform(0.8, 1.0))
            else:
                step = _Step("transfer", "app", mule.phone, HOME, HOME, new_id("wal"), drain=rng.uniform(0.8, 1.0))
            steps.append((self._within(at, mule), step))
            at += timedelta(minutes=rng.uniform(1, 30))
        return index, steps

    def _card_testing(self) -> tuple[int, list[tuple[datetime, _Step]]]:
        rng = self.rng
        index = self._victim(prefer_new=rng.random() < 0.3)
        victim = self.customers[index]
        at = self._random_time(victim, night=rng.random() < 0.4)
        device = f"dev-{rng.getrandbits(64):016x}"
        abroad = rng.random() < 0.35
        merchant = rng.choice(self.merchants)
        steps = []
        for _ in range(rng.randint(4, 14)):
            channel = "api" if rng.random() < 0.55 else "web"
            if rng.random() < 0.75:
                merchant = rng.choice(self.merchants)
            amount = rng.randint(100, 5_000) if rng.random() < 0.8 else rng.randint(5_000, 20_000)
            ip_country = rng.choice(_FRAUD_COUNTRIES) if abroad else HOME
            location = HOME if channel == "web" else ""
            step = _Step(
                "card_payment",
                channel,
                device if channel == "web" else "",
                ip_country,
                location,
                merchant,
                amount,
                declined=rng.random() < 0.3,
            )
            steps.append((self._within(at, victim), step))
            at += timedelta(seconds=rng.uniform(10, 180))
        return index, steps

    def _plan_fraud(self) -> list[tuple]:
        events: list[tuple] = []
        planned = 0
        scenarios = [self._takeover, self._scam, self._mule, self._card_testing]
        while planned < self.fraud_target:
            index, steps = self.rng.choices(scenarios, [35, 15, 28, 22])[0]()
            steps = steps[: self.fraud_target - planned]
            events.extend(self._event(at, index, step) for at, step in steps)
            planned += len(steps)
        return events

    # --- playing --------------------------------------------------------------------------------

    def _legit(self, customer: _Customer, at: datetime) -> tuple[_Step, bool]:
        """The customer's next honest movement at `at`, and whether it was declined."""
        rng = self.rng
        kind = _TYPE_NAMES[bisect.bisect_left(_TYPE_CUM, rng.random() * _TYPE_CUM[-1])]
        big = rng.random() < 0.025
        scale = customer.scale
        sends_home = kind == "transfer" and rng.random() < 0.12  # remittance, rent: most of the balance
        small = kind == "card_payment" and rng.random() < 0.1  # app stores, game credits, subscriptions
        if big:
            kind = rng.choice(["card_payment", "transfer"])
            amount = scale * rng.uniform(5, 25)
        elif kind == "cash_in":
            amount = scale * rng.uniform(1.5, 6)
        elif kind == "cash_out":
            amount = max(customer.balance, 0) * rng.uniform(0.2, 1.0)
        elif sends_home:
            amount = max(customer.balance, 0) * rng.uniform(0.5, 1.0)
        elif kind == "transfer":
            amount = scale * rng.lognormvariate(0, 0.7)
        elif kind == "qr_payment":
            amount = scale * 0.3 * rng.lognormvariate(0, 0.8)
        elif small:
            amount = rng.randint(100, 10_000)
        else:
            amount = scale * 0.6 * rng.lognormvariate(0, 0.8)
        amount = int(amount)
        if kind in _OUTFLOWS and (amount > customer.balance or amount < 100):
            kind, amount = "cash_in", int(scale * rng.uniform(2, 8))  # out of money: tops up first
        amount = max(amount, 100)

        if kind == "cash_in":
            channel = rng.choices(["agent", "app", "api"], [60, 30, 10])[0]
        elif kind == "cash_out":
            channel = "agent" if rng.random() < 0.9 else "app"
        elif kind == "transfer":
            channel = "web" if customer.browser and rng.random() < 0.25 else "app"
        elif kind == "qr_payment":
            channel = "app"
        elif small:
            channel = rng.choice(["web", "api"])
        else:
            channel = rng.choices(["pos", "web", "api"], [50, 35, 15])[0]

        if kind in ("cash_in", "cash_out") and channel == "agent":
            counterparty = rng.choice(customer.agents) if rng.random() < 0.9 else rng.choice(self.agents)
        elif kind == "cash_in":
            counterparty = new_id("bnk") if rng.random() < 0.3 or not customer.payees else rng.choice(customer.payees)
        elif kind == "transfer":
            if customer.payees and rng.random() < (0.5 if big or sends_home else 0.85):
                counterparty = rng.choice(customer.payees)
            else:
                counterparty = rng.choice(self.customers).wallet_id if rng.random() < 0.7 else new_id("wal")
                customer.payees.append(counterparty)
        else:
            if rng.random() < (0.5 if big or small else 0.8):
                counterparty = rng.choice(customer.merchants)
            else:
                counterparty = rng.choice(self.merchants)
                customer.merchants.append(counterparty)

        phone = customer.phone
        if customer.phone_changed_at is not None and at >= customer.phone_changed_at:
            phone = customer.new_phone
        if channel == "app":
            device = phone
        elif channel == "web":
            device = customer.browser or (phone if rng.random() < 0.5 else "")
        else:
            device = ""

        travelling = customer.trip is not None and customer.trip[0] <= at < customer.trip[1]
        if channel in ("app", "web"):
            location = customer.trip[2] if travelling else HOME
            if travelling:
                ip_country = HOME if rng.random() < 0.65 else location  # roaming keeps the home IP
            else:
                ip_country = rng.choice(_VPN_COUNTRIES) if rng.random() < 0.015 else HOME
        elif channel == "api":
            location, ip_country = "", HOME
        else:
            location = ip_country = ""
        declined = rng.random() < 0.004
        return _Step(kind, channel, device, ip_country, location, counterparty, amount), declined

    def _play(self, at: datetime, index: int, planned: _Step | None) -> None:
        customer = self.customers[index]
        while customer.recent and customer.recent[0][0] <= at - DAY:
            customer.recent.popleft()
        while customer.declines and customer.declines[0] <= at - DECLINE_LOOKBACK:
            customer.declines.popleft()
        if planned is None:
            step, declined, fraud = *self._legit(customer, at), False
        else:
            step, declined, fraud = planned, planned.declined, True
            if step.drain:
                amount = max(int(customer.balance * step.drain), 100)
                step = replace(step, amount=amount, drain=0.0)

        hour_ago = at - HOUR
        count_1h = amount_1h = 0
        for when, value in customer.recent:
            if when > hour_ago:
                count_1h += 1
                amount_1h += value
        inputs = FeatureInputs(
            amount=step.amount,
            movement_type=step.movement_type,
            channel=step.channel,
            occurred_at=at,
            customer_avg_amount=customer.amount / customer.count if customer.count else None,
            customer_count_1h=count_1h,
            customer_amount_1h=amount_1h,
            customer_count_24h=len(customer.recent),
            new_counterparty=bool(step.counterparty) and step.counterparty not in customer.seen,
            device_given=bool(step.device),
            new_device=bool(step.device) and step.device not in customer.devices,
            geo_mismatch=bool(step.ip_country and step.location_country and step.ip_country != step.location_country),
            customer_age_days=max(0.0, (at - customer.created_at).total_seconds() / 86_400),
            kyc_level=customer.kyc_level,
            wallet_age_days=max(0.0, (at - customer.wallet_created_at).total_seconds() / 86_400),
            available_balance=customer.balance,
            declines_30d=len(customer.declines),
        )
        self.written += 1
        self.fraudulent += fraud
        reference = f"syn-{self.run_id[4:]}-{self.written:07d}"
        self.batch.append(
            Assessment(
                reference=reference,
                fingerprint=hashlib.sha256(reference.encode()).hexdigest(),
                customer_id=customer.customer_id,
                wallet_id=customer.wallet_id,
                movement_type=step.movement_type,
                amount=step.amount,
                currency=CURRENCY,
                counterparty=step.counterparty,
                channel=step.channel,
                device_id=step.device,
                ip_country=step.ip_country,
                location_country=step.location_country,
                occurred_at=at,
                decision=Decision.DECLINE if declined else Decision.APPROVE,
                score=0,
                reasons=[],
                features=feature_vector(inputs),
                label=fraud,
                label_source=LABEL_SOURCE,
                labelled_at=self.now,
                synthetic=True,
            )
        )
        if len(self.batch) >= BATCH:
            self._flush()
        if declined:
            customer.declines.append(at)
            return
        customer.recent.append((at, step.amount))
        customer.count += 1
        customer.amount += step.amount
        customer.last_at = at
        if step.counterparty:
            customer.seen.add(step.counterparty)
        if step.device:
            customer.devices.setdefault(step.device, [at, at])[1] = at
        if step.movement_type == "cash_in":
            customer.balance += step.amount
            customer.credits[0] += 1
            customer.credits[1] += step.amount
        else:
            customer.balance = max(customer.balance - step.amount, 0)
            customer.debits[0] += 1
            customer.debits[1] += step.amount

    def _flush(self) -> None:
        Assessment.objects.bulk_create(self.batch, batch_size=BATCH)
        self.batch = []

    def run(self) -> dict:
        self._link_payees()
        fraud = self._plan_fraud()
        events = self._plan_legit(self.total - len(fraud)) + fraud
        events.sort(key=lambda event: (event[0], event[1]))
        for at, _, index, step in events:
            self._play(at, index, step)
        self._flush()
        self._write_world()
        return {
            "customers": len(self.customers),
            "wallets": len(self.customers),
            "movements": self.written,
            "fraudulent": self.fraudulent,
        }

    def _write_world(self) -> None:
        """The read model the live scoring would have built from these movements' events."""
        KnownCustomer.objects.bulk_create(
            (
                KnownCustomer(
                    customer_id=c.customer_id,
                    created_at=c.created_at,
                    kyc_level=c.kyc_level,
                    movements_count=c.count,
                    movements_amount=c.amount,
                    synthetic=True,
                )
                for c in self.customers
            ),
            batch_size=BATCH,
        )
        KnownWallet.objects.bulk_create(
            (
                KnownWallet(
                    wallet_id=c.wallet_id,
                    customer_id=c.customer_id,
                    currency=CURRENCY,
                    created_at=c.wallet_created_at,
                    synthetic=True,
                )
                for c in self.customers
            ),
            batch_size=BATCH,
        )
        KnownAccount.objects.bulk_create(
            (
                KnownAccount(
                    account_id=f"syn-{c.wallet_id}",
                    owner_ref=c.wallet_id,
                    currency=CURRENCY,
                    posted=c.balance,
                    available=c.balance,
                    credits_count=c.credits[0],
                    credits_amount=c.credits[1],
                    debits_count=c.debits[0],
                    debits_amount=c.debits[1],
                    last_posting_at=c.last_at,
                )
                for c in self.customers
            ),
            batch_size=BATCH,
        )
        KnownDevice.objects.bulk_create(
            (
                KnownDevice(customer_id=c.customer_id, device_id=device, first_seen_at=first, last_seen_at=last)
                for c in self.customers
                for device, (first, last) in c.devices.items()
            ),
            batch_size=BATCH,
        )
