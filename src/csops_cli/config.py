"""playbooks.yaml: parsed with a safe loader, validated into pydantic models once."""

from __future__ import annotations

import difflib
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import ConfigError, Problem, ProblemCode
from .loading.schema import PRESETS, TABLES
from .signal_catalogue import BUCKET_COLUMNS, SIGNALS

DEFAULT_CONFIG_NAME = "playbooks.yaml"
MAX_YAML_NODES = 100_000  # alias bombs expand past any real config long before this
MAX_YAML_DEPTH = 50  # a real config nests about 7 deep; far deeper exhausts the parser's stack
MAX_NUMBER_DIGITS = 300  # a float holds about 309 digits: no setting takes a longer integer
MAX_SHOWN = 80  # characters of a refused value shown beside its problem


class Strict(BaseModel):
    # .inf, .nan or 1e400 would make every score NaN
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InputsConfig(Strict):
    preset: Literal[("auto", *PRESETS, "none")] = "auto"  # the presets of loading/schema.py
    dayfirst: bool = False
    decimal: Literal[".", ","] = "."  # "," reads 1.200,50 as 1200.5


class ColumnsConfig(Strict):
    accounts: dict[str, str] = {}
    contracts: dict[str, str] = {}
    usage: dict[str, str] = {}
    activities: dict[str, str] = {}
    team: dict[str, str] = {}

    @model_validator(mode="after")
    def _known_columns(self) -> ColumnsConfig:
        for table, mapping in self.model_dump().items():
            known = {column.name for column in TABLES[table]}
            for canonical in mapping:
                if canonical not in known:
                    raise _unknown(f"column '{canonical}' of {table}", canonical, known,
                                   at=(table, canonical))
        return self


# --- sources: how a tool's file becomes a canonical table (research/sources-spec.md) ---------

def _expression(text: str | None) -> str | None:
    """Syntax and allow-list check of a `where`/`derive`/`rows` expression at load; the names
    it uses are checked against the file's columns when the file is read."""
    from .condition_syntax import ConditionError, parse

    if text is None:
        return None
    try:
        parse(text)
    except ConditionError as error:
        raise _refused(ProblemCode.BAD_CONDITION, str(error), fix=error.fix) from None
    return text


Expression = Annotated[str, AfterValidator(_expression)]


class SourceDetect(Strict):
    """Headers that recognise a file (compared ignoring case, spaces and punctuation; JSON
    fields by dotted path)."""

    all: list[str] = []
    any: list[str] = []
    none: list[str] = []


class SourceLookup(Strict):
    file: str  # name pattern of the lookup file in the data folder
    key: str
    value: str


class SourceAssumption(Strict):
    text: str
    rows: Expression | None = None  # the rows it touches (after where); none: every row


class Source(Strict):
    id: str
    tool: str = ""
    detect: SourceDetect = SourceDetect()
    files: list[str] = []
    optional: list[str] = []
    # a header, or several: the first the file has is used
    columns: dict[str, str | list[str]] = {}
    where: Expression | None = None
    split: dict[str, str] = {}
    first: dict[str, str] = {}
    lookup: dict[str, SourceLookup] = {}
    constant: dict[str, str | int | float | bool] = {}
    derive: dict[str, Expression] = {}
    assumptions: list[SourceAssumption] = []
    dropped: str | None = None


# the URL schemes a warehouse usage source may name, as ibis backends
WAREHOUSE_SCHEMES = ("postgres", "postgresql", "duckdb", "snowflake", "bigquery", "trino",
                     "databricks", "pyspark")


def _warehouse_url(url: str) -> str:
    """The scheme is checked at load; the rest (host, credentials) when connecting."""
    scheme, separator, _ = url.partition("://")
    if not separator or scheme.lower() not in WAREHOUSE_SCHEMES:
        raise _refused(ProblemCode.INVALID_VALUE,
                       f"not a warehouse URL: '{scheme if separator else 'no scheme'}' is not "
                       f"one of {', '.join(WAREHOUSE_SCHEMES)}",
                       fix="write the engine's connection URL, e.g. "
                           "postgres://user@host:5432/db or duckdb:///path/to/usage.db")
    return url


class WarehouseColumns(Strict):
    """Canonical usage column <- column of the warehouse table. An optional column left out
    is used when the table has one of the canonical name, else it is absent."""

    account_id: str = "account_id"
    date: str = "timestamp"  # a date or a timestamp (compared by its date, in UTC)
    user_id: str | None = None
    feature: str | None = None
    business_unit: str | None = None
    count: str | None = None
    active_users: str | None = None  # pre-aggregated rows: the day's distinct users


class WarehouseSource(Strict):
    """Usage aggregated in the warehouse: only per-account results come back."""

    warehouse: Annotated[str, AfterValidator(_warehouse_url)]  # ${NAME}: from the environment
    table: str  # schema.table, or a table
    columns: WarehouseColumns = WarehouseColumns()
    where: Expression | None = None  # over the table's columns


def _source_kind(value: Any) -> str:
    return "warehouse" if isinstance(value, (dict, WarehouseSource)) else "files"


# a table's sources: a list of file sources, or (usage only) one warehouse mapping
TableSources = Annotated[
    Annotated[list[Source], Tag("files")] | Annotated[WarehouseSource, Tag("warehouse")],
    Discriminator(_source_kind)]
SOURCE_TAGS = ("files", "warehouse")  # left out of error locations: they are no keys

TableName = Literal[tuple(TABLES)]  # the canonical tables


def file_sources(sources: dict[str, Any]) -> dict[str, list[Source]]:
    """The file sources of ``sources:`` (a warehouse usage source reads no file)."""
    return {table: entries for table, entries in sources.items()
            if not isinstance(entries, WarehouseSource)}


def check_sources(sources: dict[str, Any]) -> None:
    """Canonical columns named by each source exist in its table; ids are unique; only usage
    comes from a warehouse."""
    for table, entries in sources.items():
        if isinstance(entries, WarehouseSource) and table != "usage":
            raise _refused(ProblemCode.INVALID_VALUE,
                           f"only usage can come from a warehouse, not {table}",
                           at=(table, "warehouse"),
                           fix=f"read {table} from its export file: a list of sources")
    seen: set[str] = set()
    for table, entries in file_sources(sources).items():
        known = {column.name for column in TABLES[table]}
        for index, source in enumerate(entries):
            if source.id in seen:
                raise _refused(ProblemCode.DUPLICATE_ID,
                               f"source id '{source.id}' is used twice; give each its own id",
                               at=(table, index, "id"))
            seen.add(source.id)
            for part in ("columns", "split", "first", "lookup", "constant", "derive"):
                for name in getattr(source, part):
                    if name not in known and not (table == "accounts" and part in (
                            "columns", "constant", "derive")):
                        raise _unknown(f"column '{name}' of {table}", name, known,
                                       at=(table, index, part, name))


class ProductConfig(Strict):
    login_events: list[str] = ["login"]
    core_features: list[str] = []


class SignalScale(Strict):
    weight: Annotated[float, Field(gt=0)]
    bad: float | None = None
    good: float | None = None
    scores: dict[str, float] | None = None

    @model_validator(mode="after")
    def _bad_good_or_scores(self) -> SignalScale:
        if self.scores is None and (self.bad is None or self.good is None):
            raise ValueError("give both 'bad' and 'good', or 'scores' for a categorical signal")
        if self.scores is None and self.bad == self.good:
            raise ValueError("'bad' and 'good' must differ")
        return self


class Bucket(Strict):
    weight: Annotated[float, Field(gt=0)]
    signals: dict[str, SignalScale]

    @model_validator(mode="after")
    def _known_signals(self) -> Bucket:
        if not self.signals:
            raise _refused(ProblemCode.INVALID_VALUE, "a bucket without signals scores nothing",
                           at=("signals",), fix="list at least one signal with its weight, "
                           "bad and good, or remove the bucket")
        for name in self.signals:
            if name not in SIGNALS:
                raise _unknown(f"signal '{name}'", name, SIGNALS, at=("signals", name))
        return self


BucketName = Literal[tuple(BUCKET_COLUMNS)]  # the buckets of the signal catalogue


class Bands(Strict):
    green: float = 70
    yellow: float = 50


class HealthOverride(Strict):
    """A segment's own health model: each bucket given here replaces the bucket of that name
    (its weight and all its signals); bands given here replace the bands."""

    bands: Bands | None = None
    buckets: dict[BucketName, Bucket] = {}


class HealthConfig(Strict):
    bands: Bands = Bands()
    buckets: dict[BucketName, Bucket]
    segments: dict[str, HealthOverride] = {}

    def for_segment(self, segment: str) -> HealthConfig:
        """The model that scores accounts of ``segment``: this one with its override."""
        override = self.segments.get(segment)
        if override is None:
            return self
        return self.model_copy(update={
            "bands": override.bands or self.bands,
            "buckets": {**self.buckets, **override.buckets}, "segments": {}})

    @field_validator("buckets")
    @classmethod
    def _some_bucket(cls, buckets: dict[str, Bucket]) -> dict[str, Bucket]:
        if not buckets:  # each bucket's weight is above 0 (checked by Bucket)
            raise _refused(ProblemCode.INVALID_VALUE, "no bucket: the health score has nothing "
                           "to weigh", fix="give at least one bucket (product_usage, "
                           "relationship_depth, commercial_context) a weight above 0 and its "
                           "signals; see the packaged playbooks.yaml")
        return buckets


class Segment(Strict):
    name: str
    min_arr: Annotated[float, Field(ge=0)]


Motion = Literal["csm_led", "co_owned", "tech_touch"]


class CoverageConfig(Strict):
    motions: dict[str, Motion] = {}
    tech_touch_queue: str = "Automation queue"
    # tech-touch segment -> the person or pod who takes its actions that need a person
    pooled_owner: dict[str, str] = {}

    @model_validator(mode="after")
    def _pooled_segments_are_tech_touch(self) -> CoverageConfig:
        motion_of = {name.lower(): motion for name, motion in self.motions.items()}
        for segment in self.pooled_owner:
            motion = motion_of.get(segment.lower(), "co_owned")
            if motion != "tech_touch":
                raise _refused(
                    ProblemCode.INVALID_VALUE,
                    f"segment '{segment}' is {motion}, not tech_touch: its actions go to its "
                    "owners, a pooled owner is never used", at=("pooled_owner", segment),
                    fix=f"remove '{segment}' from pooled_owner, or make its motion tech_touch")
        return self


class BudgetConfig(Strict):
    """What reaches people each ISO week; actions over it wait, queued, for a later week."""

    per_owner_per_week: Annotated[int, Field(gt=0)] = 25
    per_play_per_week: dict[str, Annotated[int, Field(ge=0)]] = {}


class LifecycleConfig(Strict):
    stages: list[str] = ["Onboarding", "Adopt", "Expand", "Renew"]
    renew_within_days: Annotated[int, Field(ge=0)] = 120
    # Onboarding lasts until first value, or this many days from onboarding start at most;
    # past it without first value the account is flagged onboarding_stalled
    onboarding_days: Annotated[int, Field(gt=0)] = 90
    expansion_utilization: float = 0.8
    crm_stage_aliases: dict[str, list[str]] = {}


Rate = Annotated[float, Field(ge=0, le=1)]


class BandRates(Strict):
    green: Rate = 0.95
    yellow: Rate = 0.80
    red: Rate = 0.50


class ForecastConfig(Strict):
    """The renewal forecast: the chance each band renews at when the backtest has too few
    renewals of that band to say (fewer than 30)."""

    band_rates: BandRates = BandRates()


class MetricConfig(Strict):
    """What every metric has: a name, a written definition and a target. Each metric's model
    below holds its own defaults, the same as the packaged playbooks.yaml (a test checks)."""

    name: str
    definition: str
    target: float | None = None


MAX_WINDOW_DAYS = 36_500  # a hundred years back from any --as-of stays inside pandas' dates
PositiveDays = Annotated[int, Field(gt=0, le=MAX_WINDOW_DAYS)]


class TtfvConfig(MetricConfig):
    name: str = "Time to first value"
    definition: str = (
        "Days from onboarding start (the earliest signed_date, else start_date, of the "
        "account's first contract) to its first usage event on or after that date whose "
        "feature is a value feature. Cohort: accounts whose onboarding started in the last "
        "window_days. Median and p90 of those that reached value; within target = reached "
        "value within target days, of those that reached value or have waited longer than "
        "the target.")
    target: float | None = 30  # days
    window_days: PositiveDays = 180
    value_features: list[str] = []  # empty: any core feature


class NrrConfig(MetricConfig):
    name: str = "Net revenue retention"
    definition: str = (
        "ARR on as_of of the accounts that had ARR twelve months earlier (t0, same calendar "
        "day), divided by their ARR at t0. New logos are excluded.")
    target: float | None = 1.05


class GrrConfig(MetricConfig):
    name: str = "Gross revenue retention"
    definition: str = (
        "As NRR, with each account's ARR on as_of capped at its ARR at t0: expansion is "
        "ignored, contraction and churn count.")
    target: float | None = 0.90


class AdoptionRateConfig(MetricConfig):
    name: str = "Adoption rate"
    definition: str = (
        "Mean, over accounts with ARR on as_of, of core features used in the last window_days "
        "divided by core features configured (no usage counts as 0); beside it, mean license "
        "utilization.")
    target: float | None = 0.50


class ExpansionConversionConfig(MetricConfig):
    name: str = "Expansion conversion"
    definition: str = (
        "Of accounts with ARR at t0, the share whose ARR on as_of is higher than at t0; and, "
        "of accounts that had an expansion signal signal_lookback_days before as_of, the share "
        "whose ARR grew since then.")
    target: float | None = 0.20
    signal_lookback_days: PositiveDays = 90


class ActivityToOutcomeConfig(MetricConfig):
    name: str = "CSM activity-to-outcome ratio"
    definition: str = (
        "CS touches (activities of touch_types) in the last 12 months (after t0, the same "
        "calendar day a year before as_of, up to as_of) per $10,000 of ARR renewed in that "
        "period: contracts of type renewal, or starting within 7 days of the end of an earlier "
        "contract of the same account, whose start_date is in the period. Per owner, the "
        "touches and renewals of the accounts in the CSM's book. Lower is more efficient: the "
        "target is a ceiling.")
    target: float | None = 5  # a ceiling: touches per renewed `per_arr`
    touch_types: list[str] = ["meeting", "call", "email", "qbr", "training"]
    per_arr: Annotated[float, Field(gt=0)] = 10_000


class MetricsConfig(Strict):
    """The core metrics, one field each; a metric left out of the file keeps its defaults."""

    ttfv: TtfvConfig = TtfvConfig()
    nrr: NrrConfig = NrrConfig()
    grr: GrrConfig = GrrConfig()
    adoption_rate: AdoptionRateConfig = AdoptionRateConfig()
    expansion_conversion: ExpansionConversionConfig = ExpansionConversionConfig()
    activity_to_outcome: ActivityToOutcomeConfig = ActivityToOutcomeConfig()


MAX_DUE_DAYS = 3_650  # ten years: a due date stays inside the dates csops computes with


class Action(Strict):
    text: str
    owner: Literal["csm", "ae", "am", "manager", "tech_touch"]
    due_in_days: Annotated[int, Field(ge=0, le=MAX_DUE_DAYS)]
    channel: Literal["task", "email", "opportunity"]


class Play(Strict):
    id: str
    name: str
    when: str
    segments: list[str] | None = None
    stages: list[str] | None = None
    priority: Literal["high", "medium", "low"] = "medium"
    cooldown_days: Annotated[int, Field(ge=0)] = 30
    measure: str = ""
    risk: bool = False
    actions: list[Action]

    @field_validator("when")
    @classmethod
    def _condition_syntax(cls, when: str) -> str:
        from .condition_syntax import ConditionError, parse

        try:
            parse(when)
        except ConditionError as error:
            raise _refused(ProblemCode.BAD_CONDITION, str(error), fix=error.fix) from None
        return when


class Config(Strict):
    version: Literal[1] = 1
    inputs: InputsConfig = InputsConfig()
    columns: ColumnsConfig = ColumnsConfig()
    sources: dict[TableName, TableSources] = {}
    product: ProductConfig = ProductConfig()
    health: HealthConfig
    segments: list[Segment]
    coverage: CoverageConfig = CoverageConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    metrics: MetricsConfig = MetricsConfig()
    plays: list[Play] = []
    budget: BudgetConfig = BudgetConfig()
    forecast: ForecastConfig = ForecastConfig()
    # where each play's `when` is in the file, for errors found once the columns are known
    _label: str = PrivateAttr(default=DEFAULT_CONFIG_NAME)
    _play_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    # "sources.<table>.<id>.<where|derive.x|assumptions[i].rows>" -> its line in the file
    _source_lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def label(self) -> str:
        return self._label

    @property
    def play_lines(self) -> dict[str, int]:
        return self._play_lines

    @property
    def source_lines(self) -> dict[str, int]:
        return self._source_lines

    @property
    def usage_warehouse(self) -> WarehouseSource | None:
        """The warehouse usage is aggregated in, if the usage is not read from files."""
        usage = self.sources.get("usage")
        return usage if isinstance(usage, WarehouseSource) else None

    @field_validator("sources")
    @classmethod
    def _sources_columns(cls, sources: dict[str, Any]) -> dict[str, Any]:
        check_sources(sources)
        return sources

    @model_validator(mode="after")
    def _unique_play_ids(self) -> Config:
        seen: set[str] = set()
        for index, play in enumerate(self.plays):
            if play.id in seen:
                raise _refused(ProblemCode.DUPLICATE_ID,
                               f"play id '{play.id}' is used twice; give each play its own id",
                               at=("plays", index, "id"))
            seen.add(play.id)
        for play_id in self.budget.per_play_per_week:
            if play_id not in seen:
                raise _unknown(f"play '{play_id}' in the budget", play_id, seen,
                               at=("budget", "per_play_per_week", play_id))
        return self


def _refused(code: ProblemCode, problem: str, at: tuple[str | int, ...] = (),
             fix: str | None = None) -> PydanticCustomError:
    """A validation error with its problem code; ``at`` locates it below the model that
    raises it (a model-wide check knows which key is wrong, pydantic does not)."""
    return PydanticCustomError(code, "{problem}", {"problem": problem, "at": at, "fix": fix})


def _unknown(what: str, name: str, known: typing.Iterable[str], at: tuple[str, ...]
             ) -> PydanticCustomError:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return _refused(ProblemCode.UNKNOWN_NAME, f"unknown {what}{hint}", at)


def default_config_text() -> str:
    return resources.files("csops_cli").joinpath(DEFAULT_CONFIG_NAME).read_text(encoding="utf-8")


def find_config(explicit: Path | None, data: Path | None = None) -> tuple[str, str]:
    """Return (label, text) of the config to use: --config, else playbooks.yaml in the data
    folder (where `csops init` writes it), else ./playbooks.yaml, else the packaged default."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such file; check the --config path",
                              code=ProblemCode.FILE_NOT_FOUND)
        return str(explicit), _read_text(explicit)
    for candidate in ([data / DEFAULT_CONFIG_NAME] if data is not None else []) + \
            [Path(DEFAULT_CONFIG_NAME)]:
        if candidate.is_file():
            return str(candidate), _read_text(candidate)
    return "(packaged default playbooks.yaml)", default_config_text()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8",
                          code=ProblemCode.UNSUPPORTED_ENCODING) from None


def load_config(explicit: Path | None = None, data: Path | None = None) -> tuple[str, Config]:
    label, text = find_config(explicit, data)
    return label, parse_config(text, label)


def parse_config(text: str, label: str = DEFAULT_CONFIG_NAME) -> Config:
    loader = _Loader(text)
    try:
        root = _compose(loader, text, label)
        if root is None:
            raise ConfigError(f"{label}: the file is empty; start from `csops init`",
                              code=ProblemCode.EMPTY_FILE)
        _check_size(root, label)
        _check_duplicate_keys(root, label)
        data = _construct(loader, root, label)
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping of sections (inputs, health, plays, ...)",
                          code=ProblemCode.NOT_A_MAPPING)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        problems = [_problem_from_error(item, root, label) for item in error.errors()]
        raise ConfigError(f"{label}: {len(problems)} problem(s) in the configuration",
                          problems) from None
    config._label = label
    config._play_lines = {play.id: _line_of(root, ("plays", index, "when"))
                          for index, play in enumerate(config.plays)}
    config._source_lines = _source_lines(config, root)
    return config


class _Refusal(yaml.MarkedYAMLError):
    """Valid YAML that csops refuses before building it (too deep, a number too long)."""

    def __init__(self, problem: str, mark: yaml.Mark, fix: str, code: ProblemCode):
        super().__init__(problem=problem, problem_mark=mark)
        self.fix, self.code = fix, code


class _Loader(yaml.SafeLoader):
    """The safe loader, with a depth limit (the composer recurses once per level: thousands of
    levels would end in a RecursionError) and integers of a bounded length (Python refuses to
    convert more than 4,300 digits, and no setting takes more than a float holds)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refusal(f"values nested more than {MAX_YAML_DEPTH} levels deep (at column "
                               f"{mark.column + 1})", mark,
                               "no setting nests this deep: remove the extra brackets or "
                               "indentation", ProblemCode.YAML_TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_bounded_int(self, node: yaml.ScalarNode) -> int:
        digits = len(node.value.lstrip("+-").replace("_", ""))
        if digits > MAX_NUMBER_DIGITS:
            raise _Refusal(f"a number of {digits:,} digits (at column "
                           f"{node.start_mark.column + 1}); settings take at most "
                           f"{MAX_NUMBER_DIGITS} digits", node.start_mark,
                           "write a smaller number, or quote it if it is text",
                           ProblemCode.INVALID_VALUE)
        return self.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_bounded_int)


def _source_lines(config: Config, root: yaml.Node) -> dict[str, int]:
    lines: dict[str, int] = {}
    warehouse = config.usage_warehouse
    if warehouse is not None:  # "sources.usage.<warehouse|table|where|columns.x>"
        keys = ["warehouse", "table", "where", "columns"] + [
            f"columns.{name}" for name in warehouse.columns.model_fields_set]
        for key in keys:
            line = _line_of(root, ("sources", "usage", *key.split(".")))
            if line is not None:
                lines[f"sources.usage.{key}"] = line
    for table, entries in file_sources(config.sources).items():
        for index, source in enumerate(entries):
            at = ("sources", table, index)
            places = [("where", (*at, "where"))] if source.where else []
            places += [(f"derive.{name}", (*at, "derive", name)) for name in source.derive]
            places += [(f"assumptions[{n}].rows", (*at, "assumptions", n, "rows"))
                       for n, item in enumerate(source.assumptions) if item.rows]
            for part, loc in places:
                line = _line_of(root, loc)
                if line is not None:
                    lines[f"sources.{table}.{source.id}.{part}"] = line
    return lines


def _compose(loader: yaml.SafeLoader, text: str, label: str) -> yaml.Node | None:
    """The document's node tree (with lines), not yet built into values."""
    try:
        return loader.get_single_node()
    except _Refusal as error:
        raise _refusal_error(error, label) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(error, "problem", None) or str(error)
        fix = "check indentation and quoting on that line"
        lines = text.splitlines()
        if line is not None and 0 < line <= len(lines) and "\t" in lines[line - 1]:
            fix = "YAML does not allow tabs for indentation; use spaces"
        raise ConfigError(f"{label}: YAML syntax error", [Problem(
            label, detail, line=line, fix=fix, code=ProblemCode.BAD_YAML)]) from None


def _construct(loader: yaml.SafeLoader, root: yaml.Node, label: str) -> Any:
    """Values from the node tree, by the safe constructor."""
    try:
        return loader.construct_document(root)
    except _Refusal as error:
        raise _refusal_error(error, label) from None
    except yaml.YAMLError as error:  # e.g. a !!python/object tag: refused, never built
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(f"{label}: unsupported YAML", [Problem(
            label, getattr(error, "problem", None) or str(error).splitlines()[0],
            line=mark.line + 1 if mark is not None else None,
            fix="use plain values: no tags such as !!python/...",
            code=ProblemCode.UNSUPPORTED_YAML)]) from None


def _refusal_error(error: _Refusal, label: str) -> ConfigError:
    assert error.problem_mark is not None and error.problem is not None
    return ConfigError(f"{label}: YAML that csops does not accept", [Problem(
        label, error.problem, line=error.problem_mark.line + 1, fix=error.fix,
        code=error.code)])


def _check_size(root: yaml.Node, label: str) -> None:
    """Refuse alias bombs: count nodes as the document would expand them."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            raise ConfigError(f"{label}: the document expands to more than {MAX_YAML_NODES:,} "
                              "values (anchors and aliases?); write it out plainly",
                              code=ProblemCode.YAML_TOO_LARGE)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _check_duplicate_keys(root: yaml.Node, label: str) -> None:
    """A key given twice in one mapping is refused with both lines: yaml.safe_load would
    silently keep the last, and half of a setting would vanish without a word."""
    problems = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # an alias: checked where its anchor is
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        first_line: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            stack.append((value, (*path, str(key.value))))
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            line = key.start_mark.line + 1
            earlier = first_line.get((key.tag, key.value))
            if earlier is None:
                first_line[(key.tag, key.value)] = line
            else:
                where = _format_loc((*path, str(key.value)))
                lines = f"lines {earlier} and {line}" if earlier != line else f"line {line}"
                problems.append(Problem(
                    label, f"key '{key.value}' is given twice, on {lines} "
                    "(YAML would silently keep the last)", line=line, column=where,
                    fix="keep one of them, merging what each holds",
                    code=ProblemCode.DUPLICATE_KEY))
    if problems:
        problems.sort(key=lambda problem: problem.line or 0)
        raise ConfigError(f"{label}: {len(problems)} key(s) given twice", problems)


def _problem_from_error(item: dict[str, Any], root: yaml.Node, label: str) -> Problem:
    model_loc = tuple(item["loc"]) + tuple(item.get("ctx", {}).get("at", ()))
    loc = model_loc  # in the file: without the kind of a source (files or warehouse)
    if loc[:1] == ("sources",) and len(loc) > 2 and loc[2] in SOURCE_TAGS:
        loc = loc[:2] + loc[3:]
    path = _format_loc(loc)
    line = _line_of(root, loc)
    if item["type"] == "extra_forbidden":
        key = str(loc[-1])
        valid = _fields_at(Config, model_loc[:-1])
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        fix = f"did you mean '{close[0]}'?" if close else (
            f"valid keys here: {', '.join(valid)}" if valid else "remove it")
        return Problem(label, f"unknown key '{key}' at {path}", line=line, column=path, fix=fix,
                       code=ProblemCode.UNKNOWN_KEY)
    message = item["msg"].removeprefix("Value error, ")
    value = item.get("input")
    shown = None if isinstance(value, (dict, list)) or value is None else str(value)[:MAX_SHOWN]
    return Problem(label, f"{path}: {message}", line=line, column=path, value=shown,
                   fix=_fix_for(item), code=_code_for(item))


def _code_for(item: dict[str, Any]) -> ProblemCode:
    kind = item["type"]
    if kind in ProblemCode.__members__.values():  # raised by a validator here with its code
        return ProblemCode(kind)
    return ProblemCode.MISSING_KEY if kind == "missing" else ProblemCode.INVALID_VALUE


def _fix_for(item: dict[str, Any]) -> str | None:
    kind = item["type"]
    if item.get("ctx", {}).get("fix"):  # raised by a validator here with its fix
        return item["ctx"]["fix"]
    if kind == "missing":
        return "add this key"
    if kind == "literal_error":
        return "use one of the values listed"
    if kind in {"float_parsing", "int_parsing", "float_type", "int_type", "finite_number"}:
        return "write a plain number"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return "use a number in the range given"
    return None


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line_of(root: yaml.Node, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node that ``loc`` reaches."""
    node = root
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Valid keys of the model that ``loc`` points into (for 'did you mean')."""
    annotation: Any = model
    for part in loc:
        if part in SOURCE_TAGS and annotation == TableSources:
            annotation = WarehouseSource if part == "warehouse" else list[Source]
            continue
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (list, dict):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] down to the model or container inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = args[0]
        else:
            return annotation
