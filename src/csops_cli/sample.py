"""A realistic synthetic data set: accounts, contracts, usage, activities and team.

It behaves like a real customer base: each account has a hidden health (0-1) that drifts week
by week (a random walk around the account's own level) and drives, with noise, how many of its
people use the product and how much, which core features they take up, how often the CSM meets
them, whether the champion stays, and what happens at each renewal (churn, contraction, flat or
expansion). Segments keep their motions whatever the health: SMB is tech-touch and gets few
meetings. The hidden health is never written, so that `csops backtest` can be judged on it.

Deterministic for a given seed, number of accounts and as-of date. Generated with numpy arrays
(no per-event Python): 100,000 accounts with 10 million usage events take well under a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from . import progress

SEGMENTS = ("Strategic", "Commercial", "SMB")
SEGMENT_SHARE = (0.10, 0.30, 0.60)
ARR_RANGE = {"Strategic": (100_000, 600_000), "Commercial": (20_000, 99_000),
             "SMB": (3_000, 19_500)}
PRICE_PER_LICENSE = {"Strategic": 2400.0, "Commercial": 1600.0, "SMB": 1000.0}
TOUCHES_PER_YEAR = {"Strategic": 60, "Commercial": 24, "SMB": 6}
CORE_FEATURES = ("dashboards", "reports", "integrations", "automations", "alerts")
OTHER_FEATURES = ("login", "search", "settings", "export")
FEATURE_WEIGHTS = (0.12, 0.10, 0.06, 0.06, 0.06, 0.40, 0.10, 0.05, 0.05)
BUSINESS_UNITS = ("Finance", "Operations", "Sales", "Marketing", "Support", "HR")
USAGE_DAYS = 450  # 15 months of usage: a year of monthly backtest dates with a window each
HISTORY_YEARS = 4  # customers since up to this long ago: contracts over several renewals
EVENTS_PER_ACCOUNT = 400
# renewal outcomes: half the accounts at this hidden health lose revenue, fewer above it
RENEWAL_MIDPOINT, RENEWAL_STEEPNESS = 0.40, 12.0
NAME_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
              "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Aperture", "Oscorp",
              "Massive", "Dynamic", "Blue", "North", "Summit", "Harbor", "Vertex", "Atlas",
              "Beacon", "Cobalt", "Ember", "Falcon", "Granite", "Helix", "Juniper")
NAME_SUFFIXES = ("Inc", "Labs", "Group", "Systems", "Health", "Logistics", "Foods", "Capital",
                 "Media", "Energy", "Retail", "Software")
FIRST_NAMES = ("Dana", "Ravi", "Mei", "Lucas", "Amara", "Jonas", "Priya", "Tom", "Sofia",
               "Omar", "Hannah", "Kenji", "Elena", "Marcus", "Zoe", "Ibrahim")
LAST_NAMES = ("Whitfield", "Okafor", "Lindqvist", "Moreau", "Castillo", "Nakamura", "Brennan",
              "Haddad", "Novak", "Fischer", "Adeyemi", "Rossi")


@dataclass(frozen=True)
class SampleSummary:
    folder: Path
    as_of: pd.Timestamp
    rows: dict[str, int]


def generate(folder: Path, accounts: int = 300, seed: int = 7,
             as_of: pd.Timestamp | None = None, events: int | None = None) -> SampleSummary:
    rng = np.random.default_rng(seed)
    as_of = (as_of or pd.Timestamp.today()).normalize()
    today = int(np.datetime64(as_of.date(), "D").astype(np.int64))
    n = accounts
    events = events if events is not None else n * EVENTS_PER_ACCOUNT

    team, csms, aes = _team(max(3, n // 40), max(2, n // 60))
    segment_index = rng.choice(3, size=n, p=SEGMENT_SHARE)
    segment = np.array(SEGMENTS)[segment_index]
    low = np.array([ARR_RANGE[s][0] for s in SEGMENTS])[segment_index]
    high = np.array([ARR_RANGE[s][1] for s in SEGMENTS])[segment_index]
    base_arr = np.round(low + (high - low) * rng.beta(1.3, 3.0, n), -2)

    # customer since: mostly 0-4 years ago; about 8 % are new logos of the last 180 days
    new_logo = rng.random(n) < 0.08
    since = np.where(new_logo, today - rng.integers(0, 180, n),
                     today - rng.integers(180, HISTORY_YEARS * 365, n))
    just_signed = np.flatnonzero(new_logo)[:2]  # so that the onboarding play has work to do
    since[just_signed] = today - rng.integers(1, 7, len(just_signed))
    health = HiddenHealth.draw(rng, n, today - (HISTORY_YEARS + 1) * 365, today)
    ids = np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), 5))

    contracts = _contracts(rng, ids, since, base_arr, segment_index, health, today)
    churned = _churned(contracts, ids, today)

    accounts_frame = _accounts(rng, ids, segment, since, new_logo, health, churned, csms, aes,
                               today)
    usage = _usage(rng, ids, since, health, contracts, churned, today, events)
    activities = _activities(rng, ids, segment, since, health, churned, accounts_frame, today)

    folder.mkdir(parents=True, exist_ok=True)
    tables = {"accounts": accounts_frame, "contracts": contracts, "usage": usage,
              "activities": activities, "team": team}
    for name, frame in progress.steps(list(tables.items()), f"writing {folder}"):
        _write_csv(frame, folder / f"{name}.csv")
    return SampleSummary(folder, as_of, {name: len(frame) for name, frame in tables.items()})


@dataclass(frozen=True)
class HiddenHealth:
    """Each account's true health by week, 0 (lost) to 1 (thriving): the logistic of the
    account's own level plus a slow random walk (an AR(1) process, so that health drifts and
    recovers instead of running away). Never written; it only drives what is written."""

    first_day: int
    weekly: np.ndarray  # accounts x weeks, float32

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, first_day: int, last_day: int
             ) -> HiddenHealth:
        weeks = (last_day - first_day) // 7 + 2
        level = rng.normal(1.15, 0.95, n)  # most accounts are doing fine; a tail is not
        persistence, step = 0.96, 0.22
        walk = np.empty((n, weeks), dtype=np.float32)
        walk[:, 0] = rng.normal(0.0, step / np.sqrt(1 - persistence**2), n)
        shocks = rng.normal(0.0, step, (n, weeks)).astype(np.float32)
        for week in range(1, weeks):
            walk[:, week] = persistence * walk[:, week - 1] + shocks[:, week]
        weekly = 1.0 / (1.0 + np.exp(-(level[:, None].astype(np.float32) + walk)))
        return cls(first_day, weekly.astype(np.float32))

    def at(self, account: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Health of each ``account`` on each ``day`` (day numbers)."""
        week = np.clip((np.asarray(day, dtype=np.int64) - self.first_day) // 7, 0,
                       self.weekly.shape[1] - 1)
        return self.weekly[account, week]

    def around(self, day: np.ndarray, weeks: int = 8) -> np.ndarray:
        """Mean health of every account over the ``weeks`` before ``day`` (one day each)."""
        accounts = np.arange(self.weekly.shape[0])
        return np.mean([self.at(accounts, day - 7 * back) for back in range(weeks)], axis=0)


def _person(i: int) -> str:
    first = FIRST_NAMES[i % len(FIRST_NAMES)]
    last = LAST_NAMES[(i // len(FIRST_NAMES) + i) % len(LAST_NAMES)]
    return f"{first} {last}"


def _team(n_csm: int, n_ae: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    managers = [_person(1000 + i) for i in range(2)]
    csms = [_person(i) for i in range(n_csm)]
    aes = [_person(500 + i) for i in range(n_ae)]
    rows = ([(m, "Manager", "") for m in managers]
            + [(c, "CSM", managers[i % 2]) for i, c in enumerate(csms)]
            + [(a, "AE", managers[i % 2]) for i, a in enumerate(aes)])
    return pd.DataFrame(rows, columns=["owner", "role", "manager"]), csms, aes


def _accounts(rng, ids, segment, since, new_logo, health, churned, csms, aes, today
              ) -> pd.DataFrame:
    n = len(ids)
    words = np.array(NAME_WORDS)
    suffixes = np.array(NAME_SUFFIXES)
    names = np.char.add(np.char.add(words[rng.integers(0, len(words), n)], " "),
                        suffixes[rng.integers(0, len(suffixes), n)])
    names = np.char.add(np.char.add(names, " "), np.arange(1, n + 1).astype(str))
    csm = np.array(csms, dtype=object)[rng.integers(0, len(csms), n)]
    csm[rng.random(n) < 0.03] = ""  # a few accounts nobody owns yet
    ae = np.array(aes, dtype=object)[rng.integers(0, len(aes), n)]
    crm_segment = segment.astype(object)
    crm_segment[rng.random(n) < 0.10] = ""  # segment left blank: derived from ARR
    # champions leave troubled accounts: the lower the account's health over its last half
    # year as a customer (up to today, or up to its churn), the likelier
    last_day = np.minimum(today, churned).astype(np.int64)
    recent = health.around(last_day, weeks=26)
    leaves = rng.random(n) < 0.02 + 0.90 * (1 - recent) ** 3
    never = rng.random(n) < 0.05 + 0.20 * (1 - recent)
    champion = np.where(leaves, "left", np.where(never, "none", "active"))
    stage = np.where(new_logo, "Onboarding", "Adopt").astype(object)
    stage[rng.random(n) < 0.10] = "Expand"
    industry = np.array(["Software", "Healthcare", "Retail", "Finance", "Manufacturing"]
                        )[rng.integers(0, 5, n)]
    return pd.DataFrame({
        "account_id": ids, "account_name": names, "segment": crm_segment,
        "lifecycle_stage": stage, "csm_owner": csm, "ae_owner": ae,
        "champion_status": champion, "created_date": _dates(since - rng.integers(5, 40, n)),
        "industry": industry,
    })


def _contracts(rng, ids, since, base_arr, segment_index, health, today) -> pd.DataFrame:
    n, terms = len(ids), HISTORY_YEARS + 1
    k = np.arange(terms)
    start = since[:, None] + 365 * k[None, :]
    # at each renewal the account's health of the last two months decides, with chance, between
    # churn, contraction, flat and expansion
    alive = np.ones((n, terms), dtype=bool)
    factor = np.ones((n, terms))
    for term in range(1, terms):
        renewing = health.around(start[:, term], weeks=8)
        draw = rng.random(n)
        # the chance of losing revenue rises steeply as health falls below the middle; the
        # weaker the account, the likelier the loss is all of it
        lose = 0.02 + 0.93 / (1 + np.exp(-RENEWAL_STEEPNESS * (RENEWAL_MIDPOINT - renewing)))
        churn = lose * (0.30 + 0.60 * (1 - renewing))
        contract = lose
        expand = contract + (1 - contract) * (0.03 + 0.40 * renewing ** 3)
        alive[:, term] = alive[:, term - 1] & (draw >= churn)
        factor[:, term] = np.where(draw < contract, rng.uniform(0.60, 0.90, n),
                                   np.where(draw < expand, rng.uniform(1.10, 1.50, n), 1.0))
    arr = np.round(base_arr[:, None] * np.cumprod(factor, axis=1), -2)
    keep = alive & (start <= today)
    account, term = np.nonzero(keep)
    starts = start[account, term]
    price = np.array([PRICE_PER_LICENSE[s] for s in SEGMENTS])[segment_index[account]]
    frame = pd.DataFrame({
        "account": account, "start": starts, "end": starts + 365, "arr": arr[account, term],
        "licenses": np.maximum(3, np.round(arr[account, term] / price)),
        # signed up to three weeks ahead; the contracts of the last week were signed in it
        "signed": starts - np.where(starts > today - 7, 0, rng.integers(0, 21, len(account))),
        "type": np.where(term == 0, "new", "renewal"),
    })
    # mid-term expansions of thriving accounts: extra ARR until the term ends
    current = frame.groupby("account")["start"].idxmax()
    latest = frame.loc[current]
    offset = rng.integers(30, 300, len(latest))
    day = latest["start"].to_numpy() + offset
    thriving = health.at(latest["account"].to_numpy(), day)
    grow = (rng.random(len(latest)) < 0.02 + 0.35 * thriving ** 3) & (
        latest["end"].to_numpy() > today) & (day <= today)
    latest, day = latest[grow], day[grow]
    expansion = pd.DataFrame({
        "account": latest["account"].to_numpy(), "start": day,
        "end": latest["end"].to_numpy(), "arr": np.round(latest["arr"].to_numpy() * 0.2, -2),
        "licenses": np.round(latest["licenses"].to_numpy() * 0.2),
        "signed": day - 5, "type": "expansion",
    })
    frame = pd.concat([frame, expansion], ignore_index=True).sort_values(["account", "start"])
    return pd.DataFrame({
        "contract_id": np.char.add("C", np.char.zfill(np.arange(1, len(frame) + 1).astype(str),
                                                      6)),
        "account_id": ids[frame["account"].to_numpy()],
        "start_date": _dates(frame["start"].to_numpy()),
        "end_date": _dates(frame["end"].to_numpy()),
        "arr": frame["arr"].to_numpy(),
        "licenses": frame["licenses"].astype(int).to_numpy(),
        "signed_date": _dates(frame["signed"].to_numpy()),
        "contract_type": frame["type"].to_numpy(),
    })


def _churned(contracts: pd.DataFrame, ids, today) -> np.ndarray:
    end = contracts.groupby("account_id")["end_date"].max()
    last_day = (end.to_numpy().astype("datetime64[D]").astype(np.int64))
    lookup = pd.Series(last_day, index=end.index).reindex(ids).to_numpy()
    return np.where(lookup <= today, lookup, np.inf)  # the day an account's ARR ended


def _usage(rng, ids, since, health, contracts, churned, today, events) -> pd.DataFrame:
    n = len(ids)
    first_day = today - USAGE_DAYS + 1
    licenses = np.nan_to_num(contracts.groupby("account_id")["licenses"].max().reindex(ids)
                             .to_numpy())
    lo_account = np.maximum(first_day, since)
    hi_account = np.minimum(today, churned - 1).astype(np.int64)
    span = np.maximum(hi_account - lo_account + 1, 0)
    # events per seat fall with the size of the account (a written log is a sample of the
    # real one; small teams would otherwise look idle for want of events)
    weight = licenses ** 0.6 * span
    weight = weight / weight.sum()
    # candidate events spread over each account's paying days, kept with a chance that grows
    # with the account's health that week: a struggling account goes quiet
    parts, kept = [], 0
    while kept < events:
        account = rng.choice(n, size=max(2 * (events - kept), 1000), p=weight)
        day = lo_account[account] + np.floor(rng.random(len(account)) * span[account]
                                             ).astype(np.int64)
        now = health.at(account, day)
        keep = rng.random(len(account)) < (0.1 + 0.9 * now) ** 2
        parts.append((account[keep], day[keep], now[keep]))
        kept += int(keep.sum())
    account, day, now = (np.concatenate(column)[:events] for column in zip(*parts, strict=True))
    m = len(account)

    # people: of the licensed seats, the healthier the account that week, the more in use
    pool = np.maximum(1, np.round(licenses[account] * (0.15 + 0.85 * now) ** 1.5))
    user = np.floor(rng.random(m) * pool).astype(np.int64)
    features = np.array(CORE_FEATURES + OTHER_FEATURES)
    feature = rng.choice(len(features), size=m, p=FEATURE_WEIGHTS)
    # each account adopts core features one by one, sooner and more of them when healthy
    level = health.weekly.mean(axis=1)
    ttfv = rng.gamma(2.0, 8.0 + 20.0 * (1 - level), n)
    adoption_day = since[:, None] + ttfv[:, None] + rng.exponential(
        15 / (0.2 + level[:, None]), (n, len(CORE_FEATURES)))
    never = rng.random((n, len(CORE_FEATURES))) > (0.15 + 0.85 * level[:, None])
    adoption_day[never] = np.inf
    is_core = feature < len(CORE_FEATURES)
    adopted_on = np.full(m, -np.inf)
    adopted_on[is_core] = adoption_day[account[is_core], feature[is_core]]
    feature = np.where(day >= adopted_on, feature, len(CORE_FEATURES))  # not yet: a login
    # a struggling team drops the core features first: it only searches and exports
    lapsed = is_core & (rng.random(m) < 0.6 * (1 - now))
    browsing = len(CORE_FEATURES) + 1 + rng.integers(0, len(OTHER_FEATURES) - 1, m)
    feature = np.where(lapsed, browsing, feature)

    units = np.array(BUSINESS_UNITS)
    home_unit = rng.integers(0, len(units), n)
    unit = home_unit[account]
    spread = rng.random(n) < 0.3  # some accounts use the product in a second unit
    second = (home_unit + 1) % len(units)
    # ... and thriving ones have just started in a new one (an expansion signal)
    new_unit = rng.random(n) < 0.16 * health.at(np.arange(n), np.full(n, today)) ** 2
    use_second = spread[account] & (rng.random(m) < 0.3)
    unit = np.where(use_second, second[account], unit)
    recent_new = new_unit[account] & (day > today - 20) & (rng.random(m) < 0.3)
    unit = np.where(recent_new, (home_unit[account] + 2) % len(units), unit)

    seconds = rng.integers(6 * 3600, 20 * 3600, m)
    timestamp = day.astype("datetime64[D]").astype("datetime64[s]") + seconds.astype(
        "timedelta64[s]")
    order = np.argsort(timestamp, kind="stable")
    user_ids = np.char.add(np.char.add(ids[account], "-u"), user.astype(str))
    frame = pd.DataFrame({
        "account_id": ids[account][order], "timestamp": timestamp[order],
        "user_id": user_ids[order], "feature": features[feature][order],
        "business_unit": units[unit][order],
    })
    # a handful of events from an account the CRM export does not have
    orphans = frame.head(3).assign(account_id="A99999")
    return pd.concat([frame, orphans], ignore_index=True)


def _activities(rng, ids, segment, since, health, churned, accounts, today) -> pd.DataFrame:
    n = len(ids)
    span = np.minimum(USAGE_DAYS + 30, today - since).clip(min=1)
    count = rng.poisson(np.array([TOUCHES_PER_YEAR[s] for s in segment]) * 1.3 * span / 365)
    account = np.repeat(np.arange(n), count)
    day = today - np.floor(rng.random(len(account)) * span[account]).astype(np.int64)
    now = health.at(account, day)
    types = np.array(["email", "call", "meeting", "qbr", "training"])
    tech_touch = segment[account] == "SMB"  # SMB is served by e-mail whatever its health
    kind = np.where(tech_touch,
                    rng.choice(5, size=len(account), p=(0.80, 0.12, 0.05, 0.00, 0.03)),
                    rng.choice(5, size=len(account), p=(0.35, 0.25, 0.27, 0.05, 0.08)))
    # a healthy customer takes the meetings and answers; a struggling one goes silent, the
    # meetings first; nobody after churn. Tech-touch e-mails go out whatever the health.
    meeting = kind >= 2
    answered = np.where(tech_touch, 0.6 + 0.4 * now,
                        np.where(meeting, 0.05 + 0.95 * now ** 2.5, 0.10 + 0.90 * now ** 1.5))
    keep = (rng.random(len(account)) < answered) & (day < churned[account])
    account, day, kind = account[keep], day[keep], kind[keep]
    owner = accounts["csm_owner"].to_numpy()[account]
    frame = pd.DataFrame({"account_id": ids[account], "date": _dates(day),
                          "activity_type": types[kind], "owner": owner})
    return frame.sort_values(["date", "account_id"], kind="stable", ignore_index=True)


def _dates(day_numbers) -> np.ndarray:
    return np.asarray(day_numbers, dtype=np.int64).astype("datetime64[D]")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    columns = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype.kind == "M" and name != "timestamp":  # whole days: write 2026-03-01
            columns[name] = pa.array(values.astype("datetime64[D]"), type=pa.date32())
        else:
            columns[name] = pa.array(values)
    table = pa.table(columns)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
