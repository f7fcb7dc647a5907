"""A tiny flow layout for A4 PDF pages made of matplotlib figures.

Text, tables and plot blocks are placed top to bottom; a new page starts when the next
item does not fit, and tables repeat their header (and title) on the next page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

A4 = (8.27, 11.69)  # inches, portrait
MARGIN = 0.7


class PdfFlow:
    """Lays out text and tables top to bottom on A4 figures, adding pages as needed."""

    def __init__(self, pdf: PdfPages, footer: str) -> None:
        self.pdf, self.footer = pdf, footer
        self.fig: Figure | None = None
        self.y = 0.0
        self.pages = 0

    def new_page(self) -> Figure:
        """Finish the current page and start a new one with a numbered footer."""
        self.flush()
        self.fig, self.y = Figure(figsize=A4), MARGIN
        self.pages += 1
        self.fig.text(0.5, 0.35 / A4[1], f"{self.footer} · page {self.pages}",
                      ha="center", fontsize=7.5, color="#777777")
        return self.fig

    def flush(self) -> None:
        """Write the current page to the PDF."""
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` more inches fit on this one."""
        if self.fig is None or self.y + height > A4[1] - MARGIN - 0.2:
            self.new_page()

    def text(self, s: str, size: float = 10, x: float = MARGIN, advance: bool = True,
             **kw: Any) -> None:
        """One line of text at ``x`` inches; ``advance=False`` keeps the line for more."""
        self.need(size / 72 * 1.6)
        assert self.fig is not None
        self.fig.text(x / A4[0], 1 - self.y / A4[1], s, va="top", fontsize=size, **kw)
        if advance:
            self.y += size / 72 * 1.6

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float], text_cols: Sequence[int] = (), title: str = "",
              colour: str = "#1a1a1a", empty: str = "none") -> None:
        """A striped table with column ``widths`` in inches, continued across pages.

        The first column and ``text_cols`` are left-aligned, the others centred; ✓ and ✗
        are coloured. ``title`` is drawn above (and repeated on continuation pages).
        """
        row_h, size = 0.24, 8.5

        def draw_row(cells: Sequence[str], bold: bool, shade: str | None) -> None:
            assert self.fig is not None
            top = 1 - self.y / A4[1]
            if shade:
                self.fig.patches.append(Rectangle(
                    (MARGIN / A4[0], top - row_h / A4[1]), sum(widths) / A4[0], row_h / A4[1],
                    transform=self.fig.transFigure, color=shade, lw=0))
            x = MARGIN
            for j, (value, w) in enumerate(zip(cells, widths, strict=True)):
                left = j in text_cols or j == 0  # text left, numbers centred
                ink = {"✓": "#1e7b34", "✗": "#b42318"}.get(value, "#1a1a1a")
                self.fig.text((x + (0.06 if left else w / 2)) / A4[0],
                              top - row_h / 2 / A4[1], value, ha="left" if left else "center",
                              va="center", fontsize=size - 0.7 if bold else size, color=ink,
                              fontweight="bold" if bold else "normal")
                x += w
            self.y += row_h

        def header() -> None:
            self.need(row_h * 2)
            draw_row(headers, True, "#e8ebef")

        if title:
            self.need(0.3 + row_h * 2)
            self.text(title, size=13, fontweight="bold", color=colour)
        header()
        for k, row in enumerate(rows or [(empty,) + ("",) * (len(headers) - 1)]):
            if self.y + row_h > A4[1] - MARGIN - 0.2:
                self.new_page()
                if title:
                    self.text(f"{title} (continued)", size=11, fontweight="bold", color=colour)
                header()
            draw_row(row, False, "#f6f7f9" if k % 2 else None)
        self.y += 0.15

    def plot(self, height: float, title: str, width: float = A4[0] - 2 * MARGIN,
             below: float = 1.0) -> Axes:
        """Put a heading and a block of ``height`` inches on one page; return Axes in it.

        ``below`` inches under the Axes are left for tick labels and the legend.
        """
        self.need(height + 0.35)
        self.text(title, size=13, fontweight="bold")
        assert self.fig is not None
        left = (A4[0] - width) / 2 + 0.35
        ax = self.fig.add_axes((left / A4[0], 1 - (self.y + height - below) / A4[1],
                                (width - 0.45) / A4[0], (height - below - 0.3) / A4[1]))
        self.y += height
        return ax
