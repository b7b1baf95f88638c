"""Small HTML pieces and number formats shared by the report's sections: tables, figures, empty
notes, a player's name with its colour swatch, percentages, step counts, Elo and durations.

Example:
    >>> html_table(["rank", "player"], [[1, "a<b"]]).split("<tbody>")[1]
    '<tr><td class="r">1</td><td class="l">a&lt;b</td></tr></tbody></table>'
    >>> percent_text(0.456), steps_text(25_000), duration_text(3725)
    ('46%', '25.0k', '1h 02m')
"""

from __future__ import annotations

import math
from typing import Sequence

from league.app.chart_svg import esc
from league.app.report_run import Run


def html_table(columns: Sequence[str], rows: Sequence[Sequence[object]], *, left: Sequence[int] = (1,),
               raw: Sequence[int] = ()) -> str:
    """A table; columns in `left` align left, cells in `raw` columns are trusted HTML."""
    head = "".join(f'<th class="{"l" if k in left else "r"}">{esc(c)}</th>' for k, c in enumerate(columns))
    body = "".join("<tr>" + "".join(f'<td class="{"l" if k in left else "r"}">{x if k in raw else esc(x)}</td>'
                                    for k, x in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_figure(svg: str, caption: str, *, extra: str = "", wide: bool = False) -> str:
    opening = '<figure class="wide">' if wide else "<figure>"
    return f"{opening}{svg}{extra}<figcaption>{esc(caption)}</figcaption></figure>"


def html_empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def player_html(run: Run, name: str) -> str:
    return f'<span class="swatch" style="background:{run.color(name)}"></span>{esc(name)}'


def percent_text(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def steps_text(value: float) -> str:
    return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.1f}k" if value >= 1e4 else f"{value:,.0f}"


def signed_elo(value: float) -> str:
    """Signed Elo without a "-0".

    Example:
        >>> signed_elo(-0.3), signed_elo(12.6), signed_elo(-40.0)
        ('+0', '+13', '-40')
    """
    return f"{value if round(value) != 0 else 0.0:+.0f}"


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s"
