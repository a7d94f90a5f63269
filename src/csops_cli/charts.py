"""Charts of the weekly report as inline SVG text, drawn by matplotlib.

No pyplot: each chart is its own ``Figure`` on the SVG canvas, so nothing global (a GUI
backend, open figures) is involved. Text stays text (``svg.fonttype: none``: small files that
a browser renders and searches); ``$`` is never read as mathematics, since names come from
data; matplotlib escapes text for XML. The root element is made to fill its container's width.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

BAND_COLOURS = {"green": "#2f9e5b", "yellow": "#e3a612", "red": "#d64545"}
INK, MUTED, GRID, ACCENT = "#1f2933", "#616e7c", "#e4e7eb", "#3e63dd"
MINUS = "\u2212"  # one minus sign, typographic
WIDTH = 5.6  # inches: narrow enough that the text still reads when a phone shrinks it
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "csops",  # the same chart gives the same file
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica Neue", "Arial", "Helvetica"],
    "font.size": 11,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titlelocation": "left",
    "axes.titlecolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
    "legend.fontsize": 10,
}
_ROOT = re.compile(r'<svg ([^>]*?)width="[^"]*" height="[^"]*" ([^>]*)>')
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_IDS = re.compile(r'(id="|url\(#|xlink:href="#)')


def short_money(value: float) -> str:
    """$1.2M, $350k, $900: axis labels that fit a phone."""
    sign = MINUS if value < 0 else ""
    value = abs(value)
    if value >= 1e6:
        return f"{sign}${value / 1e6:,.1f}M"
    if value >= 1e3:
        return f"{sign}${value / 1e3:,.0f}k"
    return f"{sign}${value:,.0f}"


@contextmanager
def _figure(height: float, label: str, into: list[str]) -> Iterator[Figure]:
    """A figure to draw on; its SVG is appended to ``into`` when the block ends."""
    with rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        yield figure
        into.append(_svg(figure, label))


def _svg(figure: Figure, label: str) -> str:
    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # no XML declaration nor DOCTYPE inside HTML
    text = _METADATA.sub("", text, count=1)
    # ids unique in the page: several charts share one document
    prefix = f"c{zlib.crc32(label.encode()):08x}-"
    text = _IDS.sub(lambda found: found.group(1) + prefix, text)
    from html import escape

    return _ROOT.sub(lambda found: f'<svg {found.group(1)}{found.group(2)} width="100%" '
                     f'role="img" aria-label="{escape(label)}">', text, count=1)


def _money_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: short_money(value)))


def band_mix(mix: pd.DataFrame, value: str, title: str) -> str:
    """Stacked bars per week: red at the bottom, where a rise shows first."""
    out: list[str] = []
    with _figure(3.4, title, out) as figure:
        axes = figure.add_subplot()
        dates = sorted(mix["as_of"].unique())
        labels = [f"{pd.Timestamp(d):%b %d}" for d in dates]
        bottom = np.zeros(len(dates))
        for band in ("red", "yellow", "green"):
            heights = (mix[mix["health_band"] == band].set_index("as_of")[value]
                       .reindex(dates, fill_value=0).to_numpy(dtype=float))
            axes.bar(range(len(dates)), heights, bottom=bottom, color=BAND_COLOURS[band],
                     label=band, width=0.75)
            bottom += heights
        axes.set_xticks(range(len(dates)), labels, rotation=45, ha="right", fontsize=9)
        axes.set_title(title)
        axes.grid(axis="y", color=GRID)
        axes.set_axisbelow(True)
        if value == "arr":
            _money_axis(axes.yaxis)
        else:
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=3, reverse=True)
    return out[0]


def metrics_against_targets(rows: list[dict]) -> str:
    """Each metric as a share of its target (a ceiling for lower-is-better metrics, so
    target / value there): one scale for all, the target at 100 %, met in green, missed in
    red. ``rows``: name, value, target, higher_is_better, text (the value as read),
    target_text, met."""
    out: list[str] = []
    cap = 1.6  # beyond 160 % of target the bar stops; its text says how far
    with _figure(0.55 * len(rows) + 1.2, "Core metrics against targets", out) as figure:
        axes = figure.add_subplot()
        positions = np.arange(len(rows))[::-1]
        for position, row in zip(positions, rows, strict=True):
            value, target = row["value"], row["target"]
            attained = None
            if value is not None and target:
                attained = value / target if row["higher_is_better"] else \
                    (target / value if value else cap)
            colour = {True: BAND_COLOURS["green"], False: BAND_COLOURS["red"]}.get(
                row["met"], MUTED)
            axes.barh(position, min(attained or 0, cap), color=colour, height=0.6)
            label = f"{row['text']} vs {row['target_text']}" if target is not None \
                else f"{row['text']} (no target)"
            axes.annotate(label, (min(attained or 0, cap), position), xytext=(4, 0),
                          textcoords="offset points", va="center", fontsize=9, color=INK)
        axes.axvline(1.0, color=INK, linewidth=1.5)
        axes.set_yticks(positions, [row["name"] for row in rows], fontsize=10)
        axes.set_xlim(0, cap + 0.55)
        axes.set_xticks([0, 0.5, 1.0, 1.5], ["0%", "50%", "100%", "150%"])
        axes.set_title("Share of target (line: the target)", fontsize=11)
        axes.grid(axis="x", color=GRID)
        axes.set_axisbelow(True)
    return out[0]


def nrr_waterfall(details: dict[str, float]) -> str:
    """Starting ARR, + expansion, - contraction, - churn, = ending ARR: floating bars."""
    start, expansion = details["starting_arr"], details["expansion"]
    contraction, churn = details["contraction"], details["churn"]
    end = details.get("ending_arr", start + expansion - contraction - churn)
    steps = [("Starting ARR", 0.0, start, ACCENT, short_money(start)),
             ("Expansion", start, expansion, BAND_COLOURS["green"], "+" + short_money(expansion)),
             ("Contraction", start + expansion - contraction, contraction, BAND_COLOURS["yellow"],
              MINUS + short_money(contraction)),
             ("Churn", start + expansion - contraction - churn, churn, BAND_COLOURS["red"],
              MINUS + short_money(churn)),
             ("Ending ARR", 0.0, end, ACCENT, short_money(end))]
    out: list[str] = []
    with _figure(3.4, "NRR bridge", out) as figure:
        axes = figure.add_subplot()
        for position, (_, base, height, colour, text) in enumerate(steps):
            axes.bar(position, height, bottom=base, color=colour, width=0.6)
            axes.annotate(text, (position, base + height), xytext=(0, 3),
                          textcoords="offset points", ha="center", va="bottom", fontsize=10,
                          color=INK)
        for position in range(len(steps) - 1):  # connectors: where the next bar starts
            level = steps[position][1] + steps[position][2] if position < 2 else steps[position][1]
            axes.plot([position + 0.3, position + 0.7], [level, level], color=MUTED,
                      linewidth=0.8)
        axes.set_xticks(range(len(steps)), [step[0] for step in steps], fontsize=10)
        axes.set_title(f"NRR bridge: {end / start:.1%} net retention" if start else "NRR bridge")
        _money_axis(axes.yaxis)
        axes.set_ylim(0, max(start + expansion, end) * 1.12 or 1)
        axes.grid(axis="y", color=GRID)
        axes.set_axisbelow(True)
    return out[0]


def renewal_calendar(renewals: pd.DataFrame, as_of: pd.Timestamp, days: int,
                     thresholds: tuple[float, float]) -> str:
    """Date x health score, each renewal a marker sized by its ARR and coloured by its band;
    the band thresholds as lines."""
    out: list[str] = []
    with _figure(3.8, "Renewal calendar", out) as figure:
        axes = figure.add_subplot()
        largest = float(renewals["arr"].max()) if len(renewals) else 1.0
        for band in ("green", "yellow", "red"):
            part = renewals[renewals["health_band"] == band]
            if part.empty:
                continue
            sizes = 20 + 380 * np.sqrt(part["arr"].to_numpy(dtype=float) / largest)
            axes.scatter(pd.to_datetime(part["renewal_date"]), part["health_score"], s=sizes,
                         color=BAND_COLOURS[band], alpha=0.6, edgecolors="white",
                         linewidths=0.5, label=band)
        for threshold in thresholds:
            axes.axhline(threshold, color=MUTED, linewidth=0.8, linestyle="--")
        axes.set_xlim(as_of, as_of + pd.Timedelta(days=days))
        axes.set_ylim(0, 100)
        axes.set_ylabel("health score")
        axes.set_title("Size: ARR", fontsize=10)
        axes.grid(color=GRID)
        axes.set_axisbelow(True)
        from matplotlib.dates import DateFormatter

        axes.xaxis.set_major_formatter(DateFormatter("%b %d"))
        if len(renewals):
            axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=3, markerscale=0.5)
    return out[0]


def plays_activity(plays: pd.DataFrame) -> str:
    """Per play: fired this week, open, resolved, as grouped horizontal bars."""
    out: list[str] = []
    series = [("fired", ACCENT), ("open", BAND_COLOURS["yellow"]),
              ("resolved", BAND_COLOURS["green"])]
    with _figure(0.7 * max(len(plays), 1) + 1.4, "Plays", out) as figure:
        axes = figure.add_subplot()
        positions = np.arange(len(plays))[::-1]
        height = 0.26
        for offset, (column, colour) in enumerate(series):
            values = plays[column].to_numpy(dtype=float) if len(plays) else np.array([])
            bars = axes.barh(positions + (1 - offset) * height, values, height=height,
                             color=colour, label=column)
            axes.bar_label(bars, labels=[f"{v:,.0f}" if v else "" for v in values], padding=2,
                           fontsize=9, color=INK)
        axes.set_yticks(positions, [str(name) for name in plays.get("play_name", [])])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title("Plays: fired this week, open, resolved")
        axes.grid(axis="x", color=GRID)
        axes.set_axisbelow(True)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=3)
    return out[0]


def backtest_bands(by_band: pd.DataFrame, base_rate: float | None, title: str) -> str:
    """Churn or contraction rate per band at renewal, against the base rate."""
    out: list[str] = []
    with _figure(3.2, "Backtest", out) as figure:
        axes = figure.add_subplot()
        bands = [band for band in ("green", "yellow", "red") if band in by_band.index]
        rates = [float(by_band.loc[band, "churn_rate"]) if pd.notna(
            by_band.loc[band, "churn_rate"]) else 0.0 for band in bands]
        bars = axes.bar(bands, rates, color=[BAND_COLOURS[b] for b in bands], width=0.6)
        axes.bar_label(bars, labels=[f"{rate:.0%}" for rate in rates], padding=2, color=INK)
        if base_rate is not None:
            axes.axhline(base_rate, color=INK, linestyle="--", linewidth=1)
            axes.annotate(f"base rate {base_rate:.0%}", (len(bands) - 0.5, base_rate),
                          xytext=(0, 4), textcoords="offset points", ha="right",
                          fontsize=9, color=INK)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
        axes.set_ylim(0, max([*rates, base_rate or 0, 0.01]) * 1.2)
        axes.set_title(title)
        axes.grid(axis="y", color=GRID)
        axes.set_axisbelow(True)
    return out[0]
