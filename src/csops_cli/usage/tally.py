"""The fast backend: usage events already coded as small integer arrays (see
:mod:`csops_cli.loading.events`) tallied chunk by chunk.

The chunks are dealt out to a thread per core (numpy and Arrow release the GIL; see
:mod:`csops_cli.threads`); each thread keeps a partial tally per as_of day, and the partial
tallies are merged. Events of unknown accounts, or after as_of, go to an extra account slot
``n`` that is dropped at the end. Every chunk is read once, whatever the number of as_of days.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import NEVER
from ..loading.events import EventChunk, UsageEvents, release_unused_memory
from ..threads import thread_count
from .rules import UsageAggregates, UsageQuery

USER_PARTS = 8  # hash tables of a few hundred thousand users stay in cache
MAX_USER_PARTS = 64  # more threads than this hash users in this many parts
RELEASE_CHUNKS = 16  # chunks tallied between two returns of freed memory to the system
# the partial tallies of all threads together stay below this: past it, fewer threads
TALLY_MEMORY_BYTES = 1 << 30


class TallyBackend:
    def __init__(self, events: UsageEvents):
        self.events = events

    def aggregate(self, query: UsageQuery) -> dict[int, UsageAggregates]:
        events = self.events
        n = len(query.ids)
        lookups = _Lookups(
            login=_by_code(events.features, query.is_login),
            core=np.append([query.core_position(name) for name in events.features],
                           -1).astype(np.int32),
            value=_by_code(events.features, query.is_value),
            onboarding=np.append(query.onboarding_start, np.inf))
        dates = [_Window(n, day, query.first_day(day)) for day in query.as_of_days]

        stop = threading.Event()  # set when the caller is gone (Ctrl-C): threads end early

        threads = thread_count()
        user_parts = min(max(USER_PARTS, threads), MAX_USER_PARTS)
        widths = len(query.core_features), len(events.business_units)
        # a tally per date, and one of the chunks before them all
        workers = _workers(threads, len(events.chunks), n, widths,
                           len(dates) + (len(dates) > 1))

        # a chunk before every date's window counts alike for all of them (first sightings
        # only): it is tallied once, into a tally added to each date's at the end
        before_all = min((window.first_day for window in dates), default=0)

        def tally(chunks: list[EventChunk]) -> list[_UsageTally]:
            tallies = [_UsageTally(lookups, window, *widths, user_parts) for window in dates]
            shared = _UsageTally(lookups, dates[0], *widths, user_parts) \
                if len(dates) > 1 else None
            for done, chunk in enumerate(chunks, start=1):
                if stop.is_set():
                    break
                if shared is not None and len(chunk) and int(chunk.day.max()) < before_all:
                    shared.add_before(chunk)
                else:
                    for partial in tallies:
                        partial.add(chunk)
                if done % RELEASE_CHUNKS == 0:
                    release_unused_memory(heap=False)  # this thread's freed Arrow buffers
            if shared is not None:
                for partial in tallies:
                    partial.merge(shared)
            return tallies

        # dealt in turn: exports run in time order, so each thread gets old and recent chunks
        shares = [events.chunks[worker::workers] for worker in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            try:
                partials = list(pool.map(tally, shares))
                # the threads' sets of user ids merged part by part, the parts side by side
                merged = [_merged(list(by_date), pool)
                          for by_date in zip(*partials, strict=True)]
            except BaseException:
                stop.set()
                raise
        aggregates = {tally.window.today: self._aggregates(tally, n, threads)
                      for tally in merged}
        release_unused_memory()
        return aggregates

    def _aggregates(self, tally: _UsageTally, n: int, threads: int) -> UsageAggregates:
        events = self.events
        has_feature = events.has("feature")
        first_value = None
        if has_feature:
            first_value = np.where(tally.first_value[:n] == NEVER, np.nan,
                                   tally.first_value[:n])
        return UsageAggregates(
            as_of_day=tally.window.today,
            distinct_users=(_distinct_users(tally.users, n, threads)
                            if events.has("user_id") else None),
            busiest_day_users=tally.busiest[:n] if events.has("active_users") else None,
            logins=tally.logins[:n] if has_feature else None,
            core_features_used=tally.core.used_in_window(n) if has_feature else None,
            new_core_feature=tally.core.new_in_window(n) if has_feature else None,
            new_business_unit=(tally.units.new_in_window(n) & tally.used_before[:n]
                               if events.has("business_unit") else None),
            first_value_day=first_value)


def _workers(threads: int, chunks: int, n: int, widths: tuple[int, int], dates: int) -> int:
    """Threads for the tally: one per core, but no more than there are chunks to share, and
    few enough that their partial tallies (one per as_of day each) fit the memory budget."""
    slots = n + 1
    dense = sum(slots * (width + 1) * 2 for width in widths
                if slots * (width + 1) <= _FirstSeen.DENSE_LIMIT)  # seen in / before the window
    per_thread = dates * (slots * 21 + dense)  # logins, busiest: 8 bytes; first value: 4 ...
    affordable = max(1, TALLY_MEMORY_BYTES // max(per_thread, 1))
    return max(1, min(threads, chunks, max(affordable, min(threads, 2))))


def _by_code(names: list[str], rule) -> np.ndarray:
    """By code: does the rule hold for the name? With a last slot, False, for code -1."""
    return np.array([rule(name) for name in names] + [False], dtype=bool)


@dataclass(frozen=True)
class _Lookups:
    """The rules as lookups by feature code, each with a last slot for code -1 (no feature)."""

    login: np.ndarray  # bool: a login event
    core: np.ndarray  # position among the core features, -1 if not core
    value: np.ndarray  # bool: a first-value feature
    onboarding: np.ndarray  # onboarding start day by account slot (inf: none)


@dataclass(frozen=True)
class _Window:
    n: int  # accounts; slot n collects what is not counted
    today: int
    first_day: int


class _UsageTally:
    """Per-account partial results of some chunks, as of one day. Tallies of disjoint chunks
    merge."""

    def __init__(self, lookups: _Lookups, window: _Window, width_core: int, width_units: int,
                 user_parts: int):
        slots = window.n + 1
        self.lookups, self.window = lookups, window
        self.logins = np.zeros(slots)
        self.busiest = np.zeros(slots)
        self.core = _FirstSeen(slots, width_core)
        self.first_value = np.full(slots, NEVER, dtype=np.int32)
        self.used_before = np.zeros(slots, dtype=bool)
        self.units = _FirstSeen(slots, width_units)
        # users in the window, by part of the accounts
        self.users = [_UserSet() for _ in range(user_parts)]

    def add(self, chunk: EventChunk) -> None:
        window = self.window
        day = chunk.day
        if not len(day):
            return
        first, last = int(day.min()), int(day.max())
        if first > window.today:
            return  # all after as_of
        if last < window.first_day:
            self.add_before(chunk)  # exports run in time order: most chunks are like this
            return
        account = np.where(day <= window.today, chunk.account, window.n)
        recent = day >= window.first_day
        counted = recent & (account < window.n)
        self.used_before[account[~recent]] = True
        if chunk.user_id is not None and counted.any():
            self._add_users(account[counted], chunk.users().filter(pa.array(counted)))
        if chunk.active_users is not None:
            np.maximum.at(self.busiest, account[counted],
                          np.nan_to_num(chunk.active_users[counted]))
        if chunk.feature is not None:
            logins = counted & self.lookups.login[chunk.feature]
            weights = None if chunk.count is None else np.nan_to_num(chunk.count[logins],
                                                                     nan=1.0)
            self.logins += np.bincount(account[logins], weights=weights,
                                       minlength=window.n + 1)
            self._add_features(account, chunk.feature, day, recent)
        if chunk.business_unit is not None:
            self.units.add(account, chunk.business_unit, recent)

    def add_before(self, chunk: EventChunk) -> None:
        """A chunk entirely before the window: nothing is counted, only first sightings (the
        same for every later window)."""
        account = chunk.account
        self.used_before[account] = True
        if chunk.feature is not None:
            self._add_features(account, chunk.feature, chunk.day, False)
        if chunk.business_unit is not None:
            self.units.add(account, chunk.business_unit, False)

    def _add_features(self, account: np.ndarray, feature: np.ndarray, day: np.ndarray,
                      recent: np.ndarray | bool) -> None:
        lookups = self.lookups
        self.core.add(account, lookups.core[feature], recent)
        # only rows earlier than the account's first value so far can change it: after the
        # first chunks that leaves few rows for the (slow) unbuffered minimum
        rows = np.flatnonzero(lookups.value[feature] & (day < self.first_value[account]))
        rows = rows[day[rows] >= lookups.onboarding[account[rows]]]
        np.minimum.at(self.first_value, account[rows], day[rows].astype(np.int32))  # one type

    def _add_users(self, accounts: np.ndarray, users: pa.Array) -> None:
        """User ids cleaned as the general reader cleans text (blank: no user), put by part."""
        users = pc.utf8_trim_whitespace(users)
        present = pc.fill_null(pc.not_equal(users, ""), False).to_numpy(zero_copy_only=False)
        parts = len(self.users)
        part_of = np.where(present, accounts % parts, parts).astype(np.uint8)
        order = np.argsort(part_of, kind="stable")  # a radix sort: rows grouped by part
        bounds = np.searchsorted(part_of[order], np.arange(parts + 1))
        accounts, users = accounts[order], users.take(pa.array(order))
        for part, user_set in enumerate(self.users):
            start, stop = bounds[part], bounds[part + 1]
            user_set.add(accounts[start:stop], users.slice(start, stop - start))

    def merge(self, other: _UsageTally, users: bool = True) -> _UsageTally:
        """Add another tally (of other chunks); without ``users``, all but the user sets."""
        self.logins += other.logins
        np.maximum(self.busiest, other.busiest, out=self.busiest)
        self.core.merge(other.core)
        np.minimum(self.first_value, other.first_value, out=self.first_value)
        self.used_before |= other.used_before
        self.units.merge(other.units)
        if users:
            for user_set, others in zip(self.users, other.users, strict=True):
                user_set.merge(others)
        return self


def _merged(tallies: list[_UsageTally], pool: ThreadPoolExecutor) -> _UsageTally:
    """The threads' tallies of one date as one. Each part of the user sets is merged on its
    own (Arrow hashes the ids without the GIL), the parts spread over ``pool``."""
    first, rest = tallies[0], tallies[1:]
    for other in rest:
        first.merge(other, users=False)

    def merge_part(part: int) -> None:
        for other in rest:
            first.users[part].merge(other.users[part])

    list(pool.map(merge_part, range(len(first.users))))
    return first


class _FirstSeen:
    """Which (account, key) pairs were seen in the window and which before it. Keys (core
    features, business units) are few, so pairs index dense boolean arrays, with a spare
    column that rows without a key (-1) mark harmlessly; very many keys fall back to sets of
    pairs."""

    DENSE_LIMIT = 50_000_000

    def __init__(self, slots: int, width: int):
        self.width = width + 1  # the last column: no key
        self.dense = slots * self.width <= self.DENSE_LIMIT
        size = slots * self.width if self.dense else 0
        self.recent = np.zeros(size, dtype=bool)
        self.before = np.zeros(size, dtype=bool)
        self.pairs: dict[bool, list[np.ndarray]] = {True: [], False: []}

    def add(self, accounts: np.ndarray, keys: np.ndarray, recent: np.ndarray | bool) -> None:
        """``recent``: by row, in the window (rows after as_of come with the dropped account
        slot); or one answer for all rows."""
        kind = np.int32 if self.dense else np.int64  # dense pairs stay below 50 million
        # keys come as narrow as their names allow: the spare column may not fit their type
        pairs = accounts.astype(kind) * self.width + np.where(keys >= 0, keys,
                                                              kind(self.width - 1))
        if isinstance(recent, bool):
            split = {recent: pairs}
        else:
            split = {True: pairs[recent], False: pairs[~recent]}
        for is_recent, chosen in split.items():
            if self.dense:
                (self.recent if is_recent else self.before)[chosen] = True
            else:
                self.pairs[is_recent].append(pd.unique(chosen))

    def merge(self, other: _FirstSeen) -> None:
        self.recent |= other.recent
        self.before |= other.before
        for recent in (True, False):
            self.pairs[recent] += other.pairs[recent]

    def _pairs(self, recent: bool) -> np.ndarray:
        """The distinct pairs with a key (sets of pairs only)."""
        pairs = np.unique(np.concatenate(self.pairs[recent] or [np.zeros(0, np.int64)]))
        return pairs[pairs % self.width != self.width - 1]

    def _dense(self, recent: bool, n: int) -> np.ndarray:
        """Accounts by keys, the spare column dropped."""
        return (self.recent if recent else self.before).reshape(-1, self.width)[:n, :-1]

    def used_in_window(self, n: int) -> np.ndarray:
        """Number of keys per account seen in the window."""
        if self.dense:
            return self._dense(True, n).sum(axis=1)
        return np.bincount(self._pairs(True) // self.width, minlength=n + 1)[:n]

    def new_in_window(self, n: int) -> np.ndarray:
        """Accounts with a key first seen in the window: seen there and never before."""
        if self.dense:
            return (self._dense(True, n) & ~self._dense(False, n)).any(axis=1)
        recent = self._pairs(True)
        new = recent[~np.isin(recent, self._pairs(False))] // self.width
        result = np.zeros(n + 1, dtype=bool)
        result[new] = True
        return result[:n]


class _UserSet:
    """The distinct (account, user id) pairs of a part of the accounts. User ids are coded as
    they come, in runs: a run at least as long as the ids coded so far is coded together with
    them in one Arrow hash pass (so each id is hashed about twice at most), and then only the
    distinct pairs of codes are kept, not the text."""

    RUN_ROWS = 1 << 15  # the least run coded at once: under a MB of text waiting

    def __init__(self) -> None:
        self.names = pa.array([], pa.string())  # the user ids coded so far, a code each
        self.pairs: list[np.ndarray] = []  # int64: account << 32 | user code, distinct per run
        self.pair_rows = 0
        self.distinct_rows = 0  # pairs the last compaction left
        self.waiting: list[tuple[np.ndarray, pa.Array]] = []
        self.waiting_rows = 0

    def add(self, accounts: np.ndarray, users: pa.Array) -> None:
        if not len(users):
            return
        self.waiting.append((accounts, users))
        self.waiting_rows += len(users)
        if self.waiting_rows >= max(self.RUN_ROWS, len(self.names)):
            self._code()

    def _code(self) -> None:
        if not self.waiting:
            return
        codes = self._coded([users for _, users in self.waiting])
        for (accounts, _), run in zip(self.waiting, codes, strict=True):
            self._keep(pd.unique(accounts.astype(np.int64) << 32 | run))
        self.waiting, self.waiting_rows = [], 0

    def _keep(self, pairs: np.ndarray) -> None:
        """Keep pairs; once they are twice what the last compaction left, only the distinct
        ones (a user active on many days is one pair, not one a day)."""
        self.pairs.append(pairs)
        self.pair_rows += len(pairs)
        if self.pair_rows >= 2 * max(self.distinct_rows, self.RUN_ROWS):
            self.pairs = [pd.unique(np.concatenate(self.pairs))]
            self.pair_rows = self.distinct_rows = len(self.pairs[0])

    def _coded(self, runs: list[pa.Array]) -> list[np.ndarray]:
        """Codes of each run's ids, new ids appended to ``names`` (whose codes stand)."""
        # one hash table for all the chunks; the names, first and distinct, keep their places
        known = len(self.names)
        encoded = pc.dictionary_encode(pa.chunked_array([self.names, *runs], pa.string()))
        self.names = max((chunk.dictionary for chunk in encoded.chunks), key=len)
        codes = np.concatenate([chunk.indices.to_numpy() for chunk in encoded.chunks])
        bounds = known + np.cumsum([0] + [len(run) for run in runs])
        return [codes[start:stop] for start, stop in pairwise(bounds)]

    def merge(self, other: _UserSet) -> None:
        """Add another set's pairs (of other events), its user codes translated into ours."""
        other._code()
        self._code()
        if not other.pairs:
            return
        (codes,) = self._coded([other.names])
        for pairs in other.pairs:
            self._keep(pairs >> 32 << 32 | codes[pairs & 0xFFFFFFFF])

    def per_account(self, n: int) -> np.ndarray:
        """Distinct users per account slot (n + 1 of them)."""
        self._code()
        pairs = pd.unique(np.concatenate(self.pairs or [np.zeros(0, np.int64)]))
        return np.bincount(pairs >> 32, minlength=n + 1)


def _distinct_users(parts: list[_UserSet], n: int, threads: int) -> np.ndarray:
    """Distinct user ids per account, the parts of the accounts spread over the threads."""
    with ThreadPoolExecutor(max_workers=min(threads, len(parts))) as pool:
        return sum(pool.map(lambda part: part.per_account(n), parts),
                   np.zeros(n + 1, dtype=np.int64))[:n]
