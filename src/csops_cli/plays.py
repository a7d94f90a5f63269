"""Plays: conditions over the signal table, evaluated into a CRM-ready action list."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import play_reasons
from .conditions import Condition, ConditionError, compile_plays, condition_problem
from .config import Config, Play
from .coverage import managers, resolve_owners
from .errors import ConfigError
from .vocabulary import UNASSIGNED

ACTION_COLUMNS = ["action_id", "as_of", "play_id", "play_name", "account_id", "account_name",
                  "segment", "owner", "owner_role", "channel", "action", "due_date",
                  "priority", "reason", "arr", "status"]
# what the history keeps of a queued action, to list it again when a later week releases it
QUEUED_COLUMNS = [*ACTION_COLUMNS[:-1], "queued_on"]
PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}
NEW, QUEUED = "new", "queued"


@dataclass(frozen=True)
class PlayRun:
    as_of: pd.Timestamp
    actions: pd.DataFrame  # ACTION_COLUMNS, sorted by due date and priority
    summary: pd.DataFrame  # per play: fired, already open, ARR, owners
    fired: pd.DataFrame  # account_id, play_id, risk, reason: what opens now
    resolved: pd.DataFrame  # account_id, play_id: risk plays back to green
    owners: pd.DataFrame  # per owner: actions, new, queued, budget (None: not a person)
    matched: pd.DataFrame  # account_id, play_id, already_open, arr: where a condition holds
    # action ids queued in an earlier week and listed again now (released: status new)
    carried: frozenset[str] = field(default=frozenset())


def compile_all(config: Config, frame: pd.DataFrame) -> dict[str, Condition]:
    return compile_plays(config.plays, frame, config.label, config.play_lines)


def matches(play: Play, condition: Condition, frame: pd.DataFrame) -> pd.Series:
    """Accounts for which the play's condition and filters hold (open plays aside)."""
    mask = condition(frame)
    if play.segments:
        wanted = [s.lower() for s in play.segments]
        mask &= frame["segment"].astype("string").str.lower().isin(wanted).fillna(False)
    if play.stages:
        wanted = [s.lower() for s in play.stages]
        mask &= frame["derived_stage"].astype("string").str.lower().isin(wanted).fillna(False)
    return mask.astype(bool)


def action_id(account_id: str, play_id: str, index: int, opened: str) -> str:
    """Stable for the same account, play, action and firing: re-running an as_of (even with
    a corrected action text) gives the same ids; a new firing gets new ones. It starts with a
    letter, so that no spreadsheet or CRM import reads it as a number (``1234e5`` would be)."""
    return action_ids(pd.Index([account_id]), play_id, index, opened)[0]


def action_ids(account_ids: pd.Index, play_id: str, index: int, opened: str) -> list[str]:
    """:func:`action_id` of many accounts at once: one digest each (neither numpy nor Arrow
    has SHA-256), of the id and the common part, encoded once. The ids are taken out as one
    Python list: iterating an Arrow-backed index costs more than the digests."""
    suffix = f"\x1f{play_id}\x1f{index}\x1f{opened}".encode()
    sha256 = hashlib.sha256
    return ["a" + sha256(key.encode() + suffix).hexdigest()[:16]
            for key in account_ids.astype(str).tolist()]


def evaluate(frame: pd.DataFrame, config: Config, as_of: pd.Timestamp,
             team: pd.DataFrame | None, open_plays: pd.DataFrame,
             queued: pd.DataFrame | None = None, issued: pd.DataFrame | None = None
             ) -> PlayRun:
    """Which plays newly fire for which accounts, and the actions they create, each ``new``
    or ``queued`` by the action budget.

    ``queued`` (QUEUED_COLUMNS) are actions queued in earlier weeks, released first;
    ``issued`` (owner, play_id) the actions already given out in as_of's week by earlier
    runs, which count against its budget."""
    conditions = compile_all(config, frame)
    manager_of = managers(team)
    action_frames, matched_rows, fired_rows, resolved_rows = [], [], [], []
    for play in config.plays:
        condition = conditions[play.id]
        mask = _checked_matches(play, condition, frame, config)
        is_open = _open_accounts(open_plays, play, as_of, frame.index)
        if play.risk:
            # resolved: back to green and the condition no longer holds (a drop can fire on
            # a green account; it resolves once the drop is behind it)
            back_mask = frame["health_band"].eq("green").fillna(False).to_numpy(dtype=bool) \
                & ~mask.to_numpy(dtype=bool)
            back = open_plays[(open_plays["play_id"] == play.id)
                              & open_plays["account_id"].isin(frame.index[back_mask])]
            resolved_rows.append(back[["account_id", "play_id"]].drop_duplicates())
        new = mask.to_numpy(dtype=bool) & ~is_open
        accounts = frame[new]
        reason = play_reasons.reasons(condition.text, accounts)
        fired_rows.append(pd.DataFrame({"account_id": accounts.index, "play_id": play.id,
                                        "risk": play.risk, "reason": reason.to_numpy()}))
        routed: dict[tuple[str, str], tuple[pd.Series, pd.Series]] = {}  # per role, channel
        for action in play.actions:
            if (action.owner, action.channel) not in routed:
                routed[action.owner, action.channel] = resolve_owners(
                    action.owner, accounts, config, manager_of, action.channel)
        play_actions = [_actions(play, index, action, accounts, reason, config,
                                 routed[action.owner, action.channel], as_of)
                        for index, action in enumerate(play.actions)]
        action_frames += play_actions
        holds = mask.to_numpy(dtype=bool)
        matched_rows.append(pd.DataFrame({"account_id": frame.index[holds], "play_id": play.id,
                                          "already_open": is_open[holds],
                                          "arr": frame["arr"].to_numpy(dtype=float)[holds]}))
    fresh = pd.concat(action_frames, ignore_index=True) if action_frames else \
        pd.DataFrame(columns=ACTION_COLUMNS)
    carried = _carried(queued, config, as_of)
    both = pd.concat([carried, fresh], ignore_index=True) if len(carried) else fresh
    actions = _sorted(budgeted(both, config, issued, len(carried)))
    fired = pd.concat(fired_rows, ignore_index=True) if fired_rows else pd.DataFrame(
        columns=["account_id", "play_id", "risk", "reason"])
    resolved = pd.concat(resolved_rows, ignore_index=True) if resolved_rows else \
        pd.DataFrame(columns=["account_id", "play_id"])
    matched = pd.concat(matched_rows, ignore_index=True) if matched_rows else pd.DataFrame(
        columns=["account_id", "play_id", "already_open", "arr"])
    return PlayRun(as_of, actions, play_summary(config, matched, fresh), fired, resolved,
                   owner_counts(actions, config), matched, frozenset(carried["action_id"]))


def _checked_matches(play: Play, condition: Condition, frame: pd.DataFrame,
                     config: Config) -> pd.Series:
    try:
        return matches(play, condition, frame)
    except ConditionError as error:  # compiling checks what it can; the values, only now
        raise ConfigError(f"{config.label}: play '{play.id}' cannot be evaluated", [
            condition_problem(config.label, play.id, play.when, error,
                              config.play_lines.get(play.id))]) from None


def fired_counts(frame: pd.DataFrame, config: Config, as_of: pd.Timestamp,
                 open_plays: pd.DataFrame) -> pd.DataFrame:
    """Per play: play_id, play_name and ``fired``, the accounts it newly fires for (as
    :func:`evaluate`'s summary counts them), without building any action."""
    conditions = compile_all(config, frame)
    rows = []
    for play in config.plays:
        mask = _checked_matches(play, conditions[play.id], frame, config).to_numpy(dtype=bool)
        is_open = _open_accounts(open_plays, play, as_of, frame.index)
        rows.append({"play_id": play.id, "play_name": play.name,
                     "fired": int((mask & ~is_open).sum())})
    return pd.DataFrame(rows, columns=["play_id", "play_name", "fired"])


def play_summary(config: Config, matched: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Per play: the accounts it newly fires for and their ARR, those it holds for but is
    already open for, the actions it creates now and how many owners they go to."""
    rows = []
    # each play's rows by position: one pass over the play ids, not one per play
    held = matched.groupby("play_id", sort=False).indices
    made = fresh.groupby("play_id", sort=False).indices
    none = np.zeros(0, dtype=np.intp)
    for play in config.plays:
        holds = matched.iloc[held.get(play.id, none)]
        opens = holds[~holds["already_open"].astype(bool)]
        created = fresh.iloc[made.get(play.id, none)]
        rows.append({"play_id": play.id, "play_name": play.name, "fired": len(opens),
                     "already_open": len(holds) - len(opens), "arr": float(opens["arr"].sum()),
                     "actions": len(created), "owners": created["owner"].nunique(),
                     "measure": play.measure})
    return pd.DataFrame(rows, columns=["play_id", "play_name", "fired", "already_open", "arr",
                                       "actions", "owners", "measure"])


def narrowed(run: PlayRun, accounts: pd.Index, config: Config) -> PlayRun:
    """The run as seen for ``accounts`` (--segment, --owner): its actions, per-play summary
    and per-owner counts cover only them. What opens, resolves and is recorded stays the
    whole run's: the budget is shared by every account."""
    actions = run.actions[run.actions["account_id"].isin(accounts)].reset_index(drop=True)
    matched = run.matched[run.matched["account_id"].isin(accounts)]
    fresh = actions[~actions["action_id"].isin(run.carried)]
    return replace(run, actions=actions, matched=matched,
                   summary=play_summary(config, matched, fresh),
                   owners=owner_counts(actions, config))


def budgeted(actions: pd.DataFrame, config: Config, issued: pd.DataFrame | None,
             carried: int = 0) -> pd.DataFrame:
    """``actions`` with their status: ranked by priority, then ARR at risk, then due date (the
    first ``carried`` rows, queued in earlier weeks, before all others, oldest first), each is
    ``new`` while its owner's and its play's counts for the week are under budget, else
    ``queued``. The automation queue and (unassigned) are not people: no budget."""
    if actions.empty:
        return actions.assign(status=pd.Series(dtype="string"))
    budget = config.budget
    not_people = {config.coverage.tech_touch_queue, UNASSIGNED}
    owner_count: Counter[str] = Counter()
    play_count: Counter[str] = Counter()
    if issued is not None:
        for owner, play_id in zip(issued["owner"], issued["play_id"], strict=True):
            if owner not in not_people:
                owner_count[owner] += 1
                play_count[play_id] += 1
    order = _ranked(actions.iloc[carried:])
    if carried:
        order = pd.concat([_ranked(actions.iloc[:carried], first=["queued_on"]), order])
    # marked in a plain array: setting one row of a string Series copies the whole column
    queued = np.zeros(len(actions), dtype=bool)
    positions = actions.index.get_indexer(order.index)
    for position, owner, play_id in zip(positions, order["owner"].tolist(),
                                        order["play_id"].tolist(), strict=True):
        if owner in not_people:
            continue
        cap = budget.per_play_per_week.get(play_id)
        if owner_count[owner] < budget.per_owner_per_week and (cap is None
                                                               or play_count[play_id] < cap):
            owner_count[owner] += 1
            play_count[play_id] += 1
        else:
            queued[position] = True
    status = pd.Series(np.where(queued, QUEUED, NEW), index=actions.index, dtype="string")
    return actions.assign(status=status)


def _ranked(actions: pd.DataFrame, first: list[str] | None = None) -> pd.DataFrame:
    keys = [*(first or []), "_rank", "arr", "due_date", "account_id", "_play_order",
            "_action_order"]
    return _with_rank(actions).sort_values(keys, ascending=[a != "arr" for a in keys],
                                           kind="stable")


def _with_rank(actions: pd.DataFrame) -> pd.DataFrame:
    """``actions`` with ``_rank``, the priority's place (the actions evaluate makes have it
    already)."""
    if "_rank" in actions:
        return actions
    return actions.assign(_rank=actions["priority"].map(PRIORITY_RANK))


def _carried(queued: pd.DataFrame | None, config: Config, as_of: pd.Timestamp
             ) -> pd.DataFrame:
    """Actions queued in earlier weeks, listed again as of ``as_of``: the same id, due as
    many days after as_of as they were after the as_of that queued them."""
    if queued is None or queued.empty:
        return pd.DataFrame(columns=[*QUEUED_COLUMNS, "_play_order", "_action_order", "_rank"])
    queued = queued.reindex(columns=QUEUED_COLUMNS)
    play_order = {play.id: index for index, play in enumerate(config.plays)}
    due_in = pd.to_datetime(queued["due_date"]) - pd.to_datetime(queued["as_of"])
    return _with_rank(queued).assign(
        as_of=f"{as_of:%Y-%m-%d}",
        due_date=(as_of + due_in).dt.strftime("%Y-%m-%d"),
        arr=queued["arr"].astype(float),
        _play_order=queued["play_id"].map(play_order).fillna(len(play_order)).astype(int),
        _action_order=0,  # the actions of one firing keep their order: listed by due date
    ).reset_index(drop=True)


def owner_counts(actions: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per owner: actions, how many reached them (new) and how many wait (queued), and the
    weekly budget (None for the automation queue and (unassigned), which have none)."""
    counts = pd.crosstab(actions["owner"], actions["status"]).reindex(
        columns=[NEW, QUEUED], fill_value=0)
    counts = counts.rename_axis(index="owner", columns=None).reset_index()
    counts["actions"] = counts[NEW] + counts[QUEUED]
    people = ~counts["owner"].isin([config.coverage.tech_touch_queue, UNASSIGNED])
    counts["budget"] = pd.Series(config.budget.per_owner_per_week, index=counts.index,
                                 dtype="Int64").where(people)
    counts = counts.sort_values(["actions", "owner"], ascending=[False, True],
                                ignore_index=True)
    return counts[["owner", "actions", NEW, QUEUED, "budget"]].astype(
        {"actions": int, NEW: int, QUEUED: int})


def _open_accounts(open_plays: pd.DataFrame, play: Play, as_of: pd.Timestamp,
                   index: pd.Index) -> np.ndarray:
    """Accounts with this play open: fired within its cooldown and not resolved."""
    rows = open_plays[open_plays["play_id"] == play.id]
    recent = rows[(as_of - rows["opened"]).dt.days < play.cooldown_days]
    return index.isin(recent["account_id"])


def _actions(play: Play, index: int, action, accounts: pd.DataFrame, reason: pd.Series,
             config: Config, routed: tuple[pd.Series, pd.Series], as_of: pd.Timestamp
             ) -> pd.DataFrame:
    owner, role = routed
    opened = f"{as_of:%Y-%m-%d}"
    return pd.DataFrame({
        "action_id": action_ids(accounts.index, play.id, index, opened),
        "as_of": opened,
        "play_id": play.id,
        "play_name": play.name,
        "account_id": accounts.index.astype(str),
        "account_name": accounts["account_name"].astype("string").to_numpy(),
        "segment": accounts["segment"].astype("string").to_numpy(),
        "owner": owner.to_numpy(),
        "owner_role": role.to_numpy(),
        "channel": action.channel,
        "action": action.text,
        "due_date": (as_of + pd.Timedelta(days=action.due_in_days)).strftime("%Y-%m-%d"),
        "priority": play.priority,
        "reason": reason.to_numpy(),
        "arr": accounts["arr"].to_numpy(dtype=float),
        "_play_order": [p.id for p in config.plays].index(play.id),
        "_action_order": index,
        "_rank": PRIORITY_RANK.get(play.priority, np.nan),  # the priority's place: one a play
    })


def _sorted(actions: pd.DataFrame) -> pd.DataFrame:
    if actions.empty:
        return actions.reindex(columns=ACTION_COLUMNS)
    actions = _with_rank(actions).sort_values(
        ["due_date", "_rank", "arr", "account_id", "_play_order", "_action_order"],
        ascending=[True, True, False, True, True, True], kind="stable", ignore_index=True)
    return actions[ACTION_COLUMNS]


# --- CRM task-import layouts -------------------------------------------------------------------
# HubSpot's import matches headers to task properties (title, notes, due date, priority, type)
# and takes a user's e-mail for the owner; Salesforce Data Loader inserts Task records by API
# field name, with OwnerId a user id (005...) and WhatId the related record's id (001...).

HUBSPOT_TYPES = {"task": "TODO", "email": "EMAIL", "opportunity": "TODO"}
SALESFORCE_PRIORITY = {"high": "High", "medium": "Normal", "low": "Low"}
SALESFORCE_TYPES = {"task": "Other", "email": "Email", "opportunity": "Other"}
# a Salesforce record id: 15 or 18 letters and digits, with its object's prefix
SALESFORCE_ID = r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?"
SALESFORCE_ACCOUNT_PREFIX, SALESFORCE_USER_PREFIX = "001", "005"
# accounts columns (any header, snake_cased) that hold the account's id in the CRM
CRM_ACCOUNT_COLUMNS = {
    "salesforce": ("salesforce_account_id", "sfdc_account_id", "salesforce_id", "sfdc_id",
                   "crm_account_id", "crm_record_id", "crm_id"),
    "hubspot": ("hubspot_company_id", "hubspot_record_id", "hubspot_id", "crm_account_id",
                "crm_record_id", "crm_id"),
}


@dataclass(frozen=True)
class CrmImport:
    rows: pd.DataFrame  # the task-import layout
    notes: tuple[str, ...]  # what fell back, and how to fix it


def crm_layout(actions: pd.DataFrame, target: str, team: pd.DataFrame | None = None,
               accounts: pd.DataFrame | None = None, queue: str | None = None) -> CrmImport:
    """The action list in the task-import layout of HubSpot or Salesforce. Owners and
    accounts are given by the CRM's own ids where the exports hold them (``team``'s
    crm_user_id, an accounts column with the CRM record id), else by e-mail and account_id,
    with a note saying how many rows fell back. The automation ``queue`` is no CRM user: its
    actions keep its name and are not counted as falling back."""
    title = (actions["action"] + " – " + actions["account_name"]).to_numpy()
    notes_text = (actions["play_name"] + ": " + actions["reason"]).to_numpy()
    owners = actions["owner"].astype("string")
    assigned = owners.ne(UNASSIGNED).fillna(False) & owners.notna()
    person = assigned & owners.ne(queue or UNASSIGNED).fillna(False)
    email = _owner_emails(owners, team)
    record, from_account_id = _crm_account_ids(actions["account_id"], accounts, target)
    notes = []
    if target == "hubspot":
        owner = email.where(assigned)
        named = int((person & ~owner.str.contains("@", regex=False).fillna(False)).sum())
        if named:
            notes.append(f"{named} of {len(actions)} task(s) name their owner without an "
                         "e-mail (HubSpot matches owners by e-mail): add an e-mail column to "
                         "the team export")
        if from_account_id:
            notes.append(f"{from_account_id} of {len(actions)} task(s) carry csops' account_id "
                         "as Associated Company ID: the accounts export has no HubSpot record "
                         "id (export companies from HubSpot, or add a hubspot_company_id column)")
        layout = pd.DataFrame({
            "Task Title": title,
            "Task Notes": notes_text,
            "Due Date": actions["due_date"].to_numpy(),
            "Priority": actions["priority"].str.upper().to_numpy(),
            "Task Type": actions["channel"].map(HUBSPOT_TYPES).to_numpy(),
            "Task Owner": owner.to_numpy(),
            "Associated Company ID": record.to_numpy(),
            "External ID": actions["action_id"].to_numpy(),
        })
        return CrmImport(_byte_order_marked(layout), tuple(notes))
    user_ids = _team_column(owners, team, "crm_user_id")
    owner_id = user_ids.fillna(email).where(assigned)
    fallback = int((person & user_ids.isna()).sum())
    if fallback:
        notes.append(f"OwnerId: {fallback} of {len(actions)} task(s) carry the owner's e-mail "
                     "(or name) because the team export has no crm_user_id for them; add a "
                     "crm_user_id column (Salesforce user ids, 005...) to the team export, or "
                     "map them in Data Loader")
    if from_account_id:
        notes.append(f"WhatId: {from_account_id} of {len(actions)} task(s) carry csops' "
                     "account_id: the accounts export has no Salesforce Account Id (001...); "
                     "export accounts from Salesforce, or add a salesforce_account_id column")
    layout = pd.DataFrame({
        "Subject": title,
        "Description": notes_text,
        "ActivityDate": actions["due_date"].to_numpy(),
        "Priority": actions["priority"].map(SALESFORCE_PRIORITY).to_numpy(),
        "Status": "Not Started",
        "Type": actions["channel"].map(SALESFORCE_TYPES).to_numpy(),
        "OwnerId": owner_id.to_numpy(),
        "WhatId": record.to_numpy(),
        "External_Id__c": actions["action_id"].to_numpy(),
    })
    return CrmImport(_byte_order_marked(layout), tuple(notes))


def _byte_order_marked(layout: pd.DataFrame) -> pd.DataFrame:
    """Marked to be written as UTF-8 with a byte order mark: Excel, which opens these files
    before they are imported, reads accents right only then."""
    layout.attrs["byte_order_mark"] = True
    return layout


def _team_column(owners: pd.Series, team: pd.DataFrame | None, column: str) -> pd.Series:
    """Each owner's value of a team column (matched without case), missing where none."""
    if team is None or column not in team.columns:
        return pd.Series(pd.NA, index=owners.index, dtype="string")
    values = team[column].astype("string").str.strip().replace("", pd.NA)
    lookup = dict(zip(team["owner"].astype("string").str.strip().str.lower(), values,
                      strict=True))
    found = owners.str.strip().str.lower().map(lambda owner: lookup.get(owner, pd.NA))
    return found.astype("string")


def _owner_emails(owners: pd.Series, team: pd.DataFrame | None) -> pd.Series:
    """The owner's e-mail from the team export; else the owner as written (an e-mail when the
    exports name owners by e-mail)."""
    return _team_column(owners, team, "owner_email").fillna(owners)


def _crm_account_ids(account_ids: pd.Series, accounts: pd.DataFrame | None, target: str
                     ) -> tuple[pd.Series, int]:
    """The CRM record id of each action's account and how many rows fell back to csops'
    account_id. An accounts column named for the CRM id wins; an account_id that has the
    CRM's id shape (read from that CRM's export) is that id."""
    ids = account_ids.astype("string")
    record = pd.Series(pd.NA, index=ids.index, dtype="string")
    if accounts is not None:
        for column in CRM_ACCOUNT_COLUMNS[target]:
            if column in accounts.columns:
                values = accounts[column].astype("string").str.strip().replace("", pd.NA)
                values.index = accounts.index.astype("string")
                record = record.fillna(ids.map(values))
    shaped = ids.str.fullmatch(r"\d+") if target == "hubspot" else \
        ids.str.fullmatch(SALESFORCE_ID) & ids.str.startswith(SALESFORCE_ACCOUNT_PREFIX)
    fallback = record.isna() & ~shaped.fillna(False)
    return record.fillna(ids), int(fallback.sum())
