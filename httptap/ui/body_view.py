"""A scrollable, searchable view of a decoded body (Line API: big bodies stay cheap)."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

#: Matches found at most (each is a tuple; a one-letter search in 4 MiB could be millions).
MAX_MATCHES = 100_000

# Control characters would move the terminal's cursor: show them as a middle dot.
_CONTROL = {c: "·" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]}


class BodyView(ScrollView, can_focus=True):
    """Lines of text with case-insensitive search; ``n``/``N`` move between matches."""

    DEFAULT_CSS = """
    BodyView {
        height: 1fr;
        overflow: auto;
        background: $surface;
    }
    BodyView > .body-view--match { background: $warning 40%; }
    BodyView > .body-view--current { background: $warning; color: $background; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"body-view--match", "body-view--current"}

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[str] = []
        self.term = ""
        self.matches: list[tuple[int, int]] = []  # (line, column) of every match
        self.current = -1
        self._by_line: dict[int, list[int]] = {}
        self.set_text(text)

    @property
    def text(self) -> str:
        """The text shown (control characters replaced)."""
        return "\n".join(self.lines)

    def set_text(self, text: str) -> None:
        """Show ``text`` (keeps the search term and searches the new text)."""
        self.lines = [
            line.expandtabs(4).rstrip("\r").translate(_CONTROL) for line in text.split("\n")
        ] if text else []
        width = max((cell_len(line) for line in self.lines), default=0)
        self.virtual_size = Size(width, len(self.lines))
        self.search(self.term)
        self.refresh()

    def search(self, term: str) -> int:
        """Find ``term`` (case-insensitive) and go to the first match; returns the count."""
        self.term = term
        self.matches = []
        self._by_line = {}
        self.current = -1
        if term:
            needle = term.lower()
            for no, line in enumerate(self.lines):
                low = line.lower()
                start = low.find(needle)
                while start >= 0 and len(self.matches) < MAX_MATCHES:
                    self._by_line.setdefault(no, []).append(len(self.matches))
                    self.matches.append((no, start))
                    start = low.find(needle, start + max(len(needle), 1))
            if self.matches:
                self.goto(0)
        self.refresh()
        return len(self.matches)

    def goto(self, index: int) -> None:
        """Make match ``index`` (wrapping around) the current one and scroll to it."""
        if not self.matches:
            return
        self.current = index % len(self.matches)
        line, col = self.matches[self.current]
        height = max(self.scrollable_content_region.height, 1)
        width = max(self.scrollable_content_region.width, 1)
        x = cell_len(self.lines[line][:col])
        scroll_x = 0 if x < width - len(self.term) else x - width // 3
        self.scroll_to(x=scroll_x, y=max(line - height // 3, 0), animate=False)
        self.refresh()

    def next_match(self, step: int = 1) -> None:
        """Go to the next (``step`` 1) or previous (-1) match."""
        if self.matches:
            self.goto(self.current + step)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = max(self.scrollable_content_region.width, 1)
        base = self.rich_style
        no = scroll_y + y
        if no >= len(self.lines):
            return Strip.blank(width, base)
        line = self.lines[no]
        hits = self._by_line.get(no)
        if not hits:
            segs = [Segment(line, base)]
        else:
            match = base + self.get_component_rich_style("body-view--match", partial=True)
            current = base + self.get_component_rich_style("body-view--current", partial=True)
            segs = []
            pos = 0
            n = len(self.term)
            for idx in hits:
                col = self.matches[idx][1]
                if col > pos:
                    segs.append(Segment(line[pos:col], base))
                segs.append(Segment(line[col : col + n], current if idx == self.current
                                    else match))
                pos = col + n
            if pos < len(line):
                segs.append(Segment(line[pos:], base))
        strip = Strip(segs, cell_len(line))
        return strip.crop_extend(scroll_x, scroll_x + width, base)
