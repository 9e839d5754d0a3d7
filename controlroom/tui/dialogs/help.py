"""What every key does, in one place (the footer only has room for the main ones)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Main screen[/b]
  ↑ ↓ PgUp PgDn   move in the table (or the alarm panel)
  tab             switch between sensor table and alarm panel
  enter           detail: history and live chart (or double-click)
  n               start a sensor (a reference preset or custom), or
                  play a scenario (shipped, or a file) at a speed
  x               stop the selected sensor, wherever it runs
  a               acknowledge the selected alarm, or the
                  selected sensor's alarm
  A               acknowledge with a comment
  ctrl+a          acknowledge all the alarms shown (asks first)
  c               comment on the alarm (every operator sees it)
  s               shelve the alarm: for a time (up to the plant's
                  maximum) or one-shot, with a reason
  u               unshelve the alarm
  S               the shelved list (u there unshelves)
  e               edit the sensor's alarm limits (checked as
                  typed, a reason required, sent to every
                  coordinator)
  b               silence the bell (a newer alarm rings again)
  h               alarm history: filter by sensor, priority, state,
                  time, text; s saves the rows as CSV
  l               action log: who did what, when; s saves CSV
  k               alarm performance (ISA-18.2): rate, flood,
                  chattering, stale, most frequent
  p               pause / resume the view (alarms stay live)
  r               replay: the plant as it was at a moment
  /               filter sensors by name (escape clears)
  ctrl+p          command palette
  q               quit (asks about sensors this session started)

[b]Replay[/b]  (REPLAY banner; nothing acts on the plant from it)
  space           play / pause
  + -             faster / slower: 1x 2x 5x 10x 30x 60x
  .               step 10 s of history
  l, escape       live again

[b]Detail screen[/b]
  1 … 7           window: 1 min, 15 min, 1 h, 24 h, 7 d, 30 d, 1 y
  s               save the window as CSV
  +               lay another sensor over the chart (up to 4 in all)
  -               take the last one laid over off
  m               each on its own scale ⇄ all normalised to their
                  safe ranges (0 = safe min, 1 = safe max)
  escape          back

[b]History, log[/b]  tab: filters ⇄ list; s: save CSV; f5: query
  again; escape: back

[b]States[/b]  ● NORMAL  ▲ HIGH  ▼ LOW  ◌ STALE  ✕ OFFLINE
  STALE: silent for 3 periods. OFFLINE: said goodbye or stopped.
  Normal is muted; colour is for what is abnormal, always with words.
[b]Alarms[/b]  priority 1 CRIT  2 HIGH  3 MED  4 LOW, in its colour
  (filled until acknowledged); "! … NOT ACKED" waits for an ack.
[b]Header[/b]  ▶ SCENARIO name: a scenario this session plays.
  FLOOD n/10 min: more than 10 alarms per operator in
  10 minutes. CHATTER n: points with 3+ activations in a minute.
[b]Bell[/b]  a new unacknowledged high or critical alarm rings the
  terminal bell every 3 s until acknowledged or silenced (b).
  Off: --no-bell or CONTROLROOM_BELL=off (the header says "bell off").
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
