"""A realistic synthetic data set: accounts, contracts, usage, activities and team.

Deterministic for a given seed, number of accounts and as-of date. Generated with numpy arrays
(no per-event Python), so 100,000 accounts with 10 million usage events take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

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
USAGE_DAYS = 200
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
    events = events if events is not None else n * 250

    team, csms, aes = _team(max(3, n // 40), max(2, n // 60))
    segment_index = rng.choice(3, size=n, p=SEGMENT_SHARE)
    segment = np.array(SEGMENTS)[segment_index]
    low = np.array([ARR_RANGE[s][0] for s in SEGMENTS])[segment_index]
    high = np.array([ARR_RANGE[s][1] for s in SEGMENTS])[segment_index]
    base_arr = np.round(low + (high - low) * rng.beta(1.3, 3.0, n), -2)

    # customer since: mostly 0-4 years ago; about 8 % are new logos of the last 180 days
    new_logo = rng.random(n) < 0.08
    since = np.where(new_logo, today - rng.integers(0, 180, n),
                     today - rng.integers(180, 4 * 365, n))
    just_signed = np.flatnonzero(new_logo)[:2]  # so that the onboarding play has work to do
    since[just_signed] = today - rng.integers(1, 7, len(just_signed))
    engagement = rng.beta(2.6, 1.5, n)  # 0..1, drives usage, adoption and touches
    ids = np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), 5))

    contracts = _contracts(rng, ids, since, base_arr, segment_index, engagement, today)
    churned = _churned(contracts, ids, today)

    accounts_frame = _accounts(rng, ids, segment, since, new_logo, engagement, csms, aes, n)
    usage = _usage(rng, ids, since, engagement, contracts, churned, segment_index, today,
                   events)
    activities = _activities(rng, ids, segment, since, engagement, accounts_frame, today)

    folder.mkdir(parents=True, exist_ok=True)
    tables = {"accounts": accounts_frame, "contracts": contracts, "usage": usage,
              "activities": activities, "team": team}
    for name, frame in tables.items():
        _write_csv(frame, folder / f"{name}.csv")
    return SampleSummary(folder, as_of, {name: len(frame) for name, frame in tables.items()})


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


def _accounts(rng, ids, segment, since, new_logo, engagement, csms, aes, n) -> pd.DataFrame:
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
    champion = np.where(engagement > 0.35,
                        np.where(rng.random(n) < 0.85, "active", "none"),
                        np.array(["none", "left"])[rng.integers(0, 2, n)])
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


def _contracts(rng, ids, since, base_arr, segment_index, engagement, today) -> pd.DataFrame:
    n, terms = len(ids), 5
    k = np.arange(terms)
    start = since[:, None] + 365 * k[None, :]
    # at each renewal: churn (more likely when engagement is low), contraction or expansion
    churn = rng.random((n, terms)) < (0.03 + 0.18 * (1 - engagement))[:, None]
    churn[:, 0] = False
    alive = np.cumprod(~churn, axis=1).astype(bool)
    change = rng.random((n, terms))
    factor = np.where(change < 0.10, rng.uniform(0.70, 0.95, (n, terms)),
                      np.where(change < 0.30, rng.uniform(1.10, 1.50, (n, terms)), 1.0))
    factor[:, 0] = 1.0
    arr = np.round(base_arr[:, None] * np.cumprod(factor, axis=1), -2)
    keep = alive & (start <= today)
    account, term = np.nonzero(keep)
    starts = start[account, term]
    price = np.array([PRICE_PER_LICENSE[s] for s in SEGMENTS])[segment_index[account]]
    frame = pd.DataFrame({
        "account": account, "start": starts, "end": starts + 365, "arr": arr[account, term],
        "licenses": np.maximum(3, np.round(arr[account, term] / price)),
        "signed": starts - rng.integers(0, 21, len(account)),
        "type": np.where(term == 0, "new", "renewal"),
    })
    # mid-term expansions for some active accounts: extra ARR until the term ends
    current = frame.groupby("account")["start"].idxmax()
    latest = frame.loc[current]
    grow = latest[(rng.random(len(latest)) < 0.15) & (latest["end"] > today)]
    offset = rng.integers(30, 300, len(grow))
    expansion = pd.DataFrame({
        "account": grow["account"].to_numpy(), "start": grow["start"].to_numpy() + offset,
        "end": grow["end"].to_numpy(), "arr": np.round(grow["arr"].to_numpy() * 0.2, -2),
        "licenses": np.round(grow["licenses"].to_numpy() * 0.2),
        "signed": grow["start"].to_numpy() + offset - 5, "type": "expansion",
    })
    expansion = expansion[expansion["start"] <= today]
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


def _usage(rng, ids, since, engagement, contracts, churned, segment_index, today, events
           ) -> pd.DataFrame:
    n = len(ids)
    first_day = today - USAGE_DAYS + 1
    licenses = contracts.groupby("account_id")["licenses"].max().reindex(ids).to_numpy()
    weight = np.nan_to_num(licenses) * (0.1 + engagement) ** 2
    weight = weight / weight.sum()
    account = rng.choice(n, size=events, p=weight)
    lo = np.maximum(first_day, since[account])
    hi = np.minimum(today, churned[account] - 1).astype(np.int64)
    alive = hi >= lo
    account, lo, hi = account[alive], lo[alive], hi[alive]
    m = len(account)
    # recent days are busier, so usage trends look alive
    day = hi - np.floor((hi - lo + 1) * rng.random(m) ** 1.3).astype(np.int64)
    day = np.clip(day, lo, hi)

    users_per_account = np.maximum(1, np.round(np.nan_to_num(licenses) * (0.2 + 0.9 *
                                                                          engagement)))
    user = np.floor(rng.random(m) * users_per_account[account]).astype(np.int64)
    features = np.array(CORE_FEATURES + OTHER_FEATURES)
    feature = rng.choice(len(features), size=m, p=FEATURE_WEIGHTS)
    # each account adopts core features one by one: day of adoption per (account, feature)
    ttfv = rng.gamma(2.0, 12.0, n)
    adoption_day = since[:, None] + ttfv[:, None] + rng.exponential(
        15 / (0.2 + engagement[:, None]), (n, len(CORE_FEATURES)))
    never = rng.random((n, len(CORE_FEATURES))) > (0.25 + 0.75 * engagement[:, None])
    adoption_day[never] = np.inf
    is_core = feature < len(CORE_FEATURES)
    adopted_on = np.full(m, -np.inf)
    adopted_on[is_core] = adoption_day[account[is_core], feature[is_core]]
    feature = np.where(day >= adopted_on, feature, len(CORE_FEATURES))  # else a login

    units = np.array(BUSINESS_UNITS)
    home_unit = rng.integers(0, len(units), n)
    unit = home_unit[account]
    spread = rng.random(n) < 0.3  # some accounts use the product in a second unit
    second = (home_unit + 1) % len(units)
    new_unit = rng.random(n) < 0.08  # ... and some just started in a new one
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


def _activities(rng, ids, segment, since, engagement, accounts, today) -> pd.DataFrame:
    n = len(ids)
    per_year = np.array([TOUCHES_PER_YEAR[s] for s in segment]) * (0.3 + engagement)
    span = np.minimum(400, today - since).clip(min=1)
    count = rng.poisson(per_year * span / 365)
    account = np.repeat(np.arange(n), count)
    day = today - np.floor(rng.random(len(account)) ** 0.9 * span[account]).astype(np.int64)
    # a quiet stretch for low-engagement accounts: no touch in their last weeks
    quiet = (engagement[account] < 0.3) & (day > today - 45)
    account, day = account[~quiet], day[~quiet]
    types = np.array(["email", "call", "meeting", "qbr", "training"])
    kind = types[rng.choice(5, size=len(account), p=(0.40, 0.25, 0.22, 0.05, 0.08))]
    owner = accounts["csm_owner"].to_numpy()[account]
    frame = pd.DataFrame({"account_id": ids[account], "date": _dates(day),
                          "activity_type": kind, "owner": owner})
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
