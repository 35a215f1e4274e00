"""Charts of the supervision figures as SVG, drawn on the server by pygal (a maintained charting
library: no chart code of ours). Pages embed them with `<img>`, so the SVG's own styles need no
exception in the page's Content-Security-Policy; no JavaScript (pygal's tooltips script is
turned off), Chinese labels in the CJK fonts the reader has."""
from __future__ import annotations

from typing import Any

import pygal
from lxml import etree
from pygal.style import Style

FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
STYLE = Style(font_family=FONT, background="#ffffff", plot_background="#ffffff", foreground="#263238",
              foreground_strong="#263238", foreground_subtle="#90a4ae", opacity=".9", opacity_hover=".95",
              colors=("#1565c0", "#ef6c00", "#90a4ae", "#2e7d32", "#c62828"),
              label_font_size=13, major_label_font_size=13, legend_font_size=13, title_font_size=16,
              value_font_size=12, tooltip_font_size=12)


def _config(title: str, height: int) -> dict[str, Any]:
    return dict(title=title, style=STYLE, js=[], disable_xml_declaration=False, width=900, height=height,
                legend_at_bottom=True, legend_at_bottom_columns=3, print_values=False, show_y_guides=True,
                truncate_label=12, no_data_text="所选期间没有数据")


def _label(row: dict[str, Any]) -> str:
    """A body's name short enough for the axis (pygal sizes margins for Latin text; CJK is wider)."""
    name = row["name"] or row["department"]
    return name if len(name) <= 10 else name[:9] + "…"


def _render(chart: Any) -> str:
    """The SVG without pygal's inline configuration script (its tooltips need JavaScript we do
    not serve; an <img> would not run it anyway)."""
    tree = chart.render_tree()
    for script in tree.iter("{http://www.w3.org/2000/svg}script", "script"):
        script.getparent().remove(script)
    return etree.tostring(tree, encoding="unicode")


def department_days(rows: list[dict[str, Any]], limit: int = 15) -> str:
    """Working days used per item (median, p90) against the limit, for the busiest bodies."""
    shown = sorted((r for r in rows if r["decided"]), key=lambda r: -r["decided"])[:limit]
    chart = pygal.HorizontalBar(**_config("各部门办理用时（工作日）：中位数、P90 与时限", 120 + 46 * max(len(shown), 1)),
                                margin_left=60)  # CJK labels are wider than pygal reckons
    chart.x_labels = [_label(r) for r in shown]
    chart.add("用时中位数", [r["days_median"] for r in shown])
    chart.add("用时P90", [r["days_p90"] for r in shown])
    chart.add("时限中位数", [r["limit_median"] for r in shown])
    return _render(chart)


def department_on_time(rows: list[dict[str, Any]], limit: int = 15) -> str:
    """Share decided on time, per body (percent)."""
    shown = sorted((r for r in rows if r["on_time_share"] is not None), key=lambda r: -r["decided"])[:limit]
    chart = pygal.HorizontalBar(**_config("按时办结率（%）", 120 + 30 * max(len(shown), 1)), range=(0, 100),
                                margin_left=60)
    chart.x_labels = [_label(r) for r in shown]
    chart.add("按时办结率", [round(r["on_time_share"] * 100, 1) for r in shown])
    return _render(chart)


def savings(report: dict[str, Any]) -> str:
    """Average working days per closed case: actual against the two serial baselines, per region."""
    rows = [r for r in report["regions"] if r["cases"]]
    chart = pygal.Bar(**_config("每个办结项目平均用时（工作日）：并联实际与串联基准", 420))
    chart.x_labels = [r["name"] or r["region"] for r in rows]
    chart.add("并联实际", [round(r["elapsed_days"] / r["cases"], 1) for r in rows])
    chart.add("串联实际（逐项相加）", [round(r["serial_actual_days"] / r["cases"], 1) for r in rows])
    chart.add("串联时限（时限相加）", [round(r["serial_limit_days"] / r["cases"], 1) for r in rows])
    return _render(chart)


def years(report: dict[str, Any]) -> str:
    """Projects accepted and closed (办结) per year."""
    rows = report["years"]
    chart = pygal.Bar(**_config("各年度受理与办结项目数", 380))
    chart.x_labels = [str(r["year"]) for r in rows]
    top = max([r["accepted"] for r in rows] + [r["closed"] for r in rows] + [1])
    if top < 10:  # whole projects on the axis, not 0.2 steps
        chart.y_labels = list(range(0, top + 1))
    chart.add("受理", [r["accepted"] for r in rows])
    chart.add("办结", [r["closed"] for r in rows])
    return _render(chart)
