"""The `?` help screen: every key and what it sends, from the one key table (tui.keys)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import help_rows

EXTRA_LINES = (
    ("ctrl+q", "close the dashboard only; training goes on"),
    ("esc / ?", "close this help"),
)


def help_content() -> Content:
    """The key table as lines "key  what it does"."""
    lines = [Content.styled("Keys — commands go to the trainer through the run's control/", "bold")]
    rows = help_rows() + list(EXTRA_LINES)
    for key, text in rows:
        lines.append(Content.assemble((f"  {key:<8}", "bold $accent"), text))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Lists every key; any of escape, ? or q closes it (q here never quits the trainer)."""

    BINDINGS = [
        Binding("escape", "dismiss", "close"),
        Binding("question_mark", "dismiss", "close"),
        Binding("q", "dismiss", "close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: auto; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    HelpScreen #help-text { width: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(help_content(), id="help-text")
