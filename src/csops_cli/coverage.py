"""The coverage model: who owns each action, and each owner's book."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Config
from .vocabulary import NO_SEGMENT, UNASSIGNED

DEFAULT_MOTION = "co_owned"


def motions(frame: pd.DataFrame, config: Config) -> pd.Series:
    """The coverage motion of each account's segment (csm_led, co_owned or tech_touch)."""
    lookup = {name.lower(): motion for name, motion in config.coverage.motions.items()}
    motion = frame["segment"].astype("string").str.lower().map(lookup)
    # typed as text first: with no motions configured the lookup gives an all-missing column
    # of no text type, which cannot take the default
    return motion.astype("string").fillna(DEFAULT_MOTION)


def managers(team: pd.DataFrame | None) -> dict[str, str]:
    """owner (lower case) -> manager, from the team export."""
    if team is None or "manager" not in team:
        return {}
    rows = team.dropna(subset=["owner", "manager"])
    return dict(zip(rows["owner"].str.lower(), rows["manager"], strict=True))


def resolve_owners(role: str, frame: pd.DataFrame, config: Config,
                   manager_of: dict[str, str], channel: str = "task"
                   ) -> tuple[pd.Series, pd.Series]:
    """Owner and effective role of an action of ``role`` sent by ``channel`` for every account
    in ``frame``.

    csm_led segments send the AE/AM's actions to the CSM; co_owned segments keep the roles as
    written. In tech_touch segments only e-mails go to the automation queue (a sequence): an
    action that needs a person goes to the segment's pooled owner, else to the account's owner
    for the role, never to a queue that cannot do it. A ``tech_touch`` action that needs a
    person goes to the CSM."""
    motion = motions(frame, config)
    csm = _column(frame, "csm_owner")
    ae = _column(frame, "ae_owner")
    am = _column(frame, "am_owner").fillna(ae) if "am_owner" in frame else ae
    manager = csm.str.lower().map(manager_of).astype("string")
    queue = pd.Series(config.coverage.tech_touch_queue, index=frame.index, dtype="string")
    pools = {name.lower(): owner for name, owner in config.coverage.pooled_owner.items()}
    pooled = frame["segment"].astype("string").str.lower().map(pools).astype("string")
    people = {"csm": csm, "ae": ae, "am": am, "manager": manager, "tech_touch": queue,
              "pooled": pooled}
    effective = pd.Series(role, index=frame.index, dtype="string")
    if role in ("ae", "am"):
        effective = effective.mask(motion == "csm_led", "csm")
    tech_touch = motion == "tech_touch"
    if channel == "email":
        effective = effective.mask(tech_touch, "tech_touch")
    else:
        if role == "tech_touch":
            effective = pd.Series("csm", index=frame.index, dtype="string")
        effective = effective.mask(tech_touch & pooled.notna(), "pooled")
    owner = pd.Series(pd.NA, index=frame.index, dtype="string")
    for name, person in people.items():
        owner = owner.mask(effective == name, person)
    return owner.fillna(UNASSIGNED), effective


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[name].astype("string")


@dataclass(frozen=True)
class Coverage:
    segments: pd.DataFrame  # segment, motion, accounts, arr, owners
    books: pd.DataFrame  # owner, role, manager, accounts, arr, red, segments
    unassigned: pd.DataFrame  # paying accounts without a CSM owner


def coverage(frame: pd.DataFrame, config: Config, team: pd.DataFrame | None) -> Coverage:
    paying = frame[frame["paying"]].copy()
    paying["csm_owner"] = _column(paying, "csm_owner")  # an accounts export may have none
    paying["motion"] = motions(paying, config)
    paying["red"] = paying["health_band"].eq("red").fillna(False)
    segments = paying.groupby(paying["segment"].fillna(NO_SEGMENT), sort=True).agg(
        motion=("motion", "first"), accounts=("arr", "size"), arr=("arr", "sum"),
        red=("red", "sum"), owners=("csm_owner", "nunique")).reset_index()
    owned = paying[paying["csm_owner"].notna()]
    books = owned.groupby("csm_owner", sort=False).agg(
        accounts=("arr", "size"), arr=("arr", "sum"), red=("red", "sum"),
        segments=("segment", lambda s: ", ".join(sorted(s.dropna().unique())))).reset_index()
    books = books.rename(columns={"csm_owner": "owner"})
    roles = {}
    if team is not None and "role" in team:
        roles = dict(zip(team["owner"].str.lower(), team["role"], strict=True))
    manager_of = managers(team)
    owners = books["owner"].str.lower()
    books["role"] = [roles.get(owner, "CSM") for owner in owners]
    books["manager"] = pd.Series([manager_of.get(owner) for owner in owners], index=books.index,
                                 dtype="string")
    books = books.sort_values(["arr", "owner"], ascending=[False, True], ignore_index=True)
    books = books[["owner", "role", "manager", "accounts", "arr", "red", "segments"]]
    unassigned = paying[paying["csm_owner"].isna()].reset_index()[
        ["account_id", "account_name", "segment", "arr", "health_band"]].sort_values(
        "arr", ascending=False, ignore_index=True)
    return Coverage(segments, books, unassigned)


def checklist_step(days_left: pd.Series) -> pd.Series:
    """Where a renewal stands: 120 kickoff, 90 QBR, 60 ROI snapshot, 30 contract."""
    steps = np.select([days_left <= 30, days_left <= 60, days_left <= 90, days_left <= 120],
                      ["30: contract", "60: ROI snapshot", "90: QBR", "120: kickoff"],
                      default="")
    return pd.Series(steps, index=days_left.index, dtype="string").replace("", pd.NA)
