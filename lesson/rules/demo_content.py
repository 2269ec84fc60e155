"""The demo page's learner text (``content/demo.md`` and ``content/demo_panels.toml``), parsed and checked (pure).

``demo.md`` is in the lesson's format (front matter, ``## Title {#anchor}`` sections); its front matter also holds
the lanes' names and the texts of the lanes panel and the echo console. ``demo_panels.toml`` holds the texts of the
other panels, one table each. Every panel declares the keys it needs (``TEXT_KEYS``); a missing one, a lane the
code does not know or a section the page places a panel under that is missing stops start-up with file and line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from demos.protocol.lanes import COMPARED_LANES
from lesson.rules.content import ContentError, Section, front_matter, parse_lesson

#: What each lane needs in ``[lanes.ID]``.
LANE_KEYS = ('title', 'requests', 'empty', 'failures', 'good_for')

PanelTexts = Mapping[str, str]


@dataclass(frozen=True)
class LaneText:
    """How a lane is named for the learner, and what its figures mean; the rows line up across the four panels."""

    title: str
    requests: str
    empty: str
    failures: str
    good_for: str


@dataclass(frozen=True)
class DemoContent:
    title: str
    lead: str
    sections: tuple[Section, ...]
    lanes: dict[str, LaneText]
    #: Texts by panel name (``lanes_panel``, ``console``, and the tables of ``demo_panels.toml``).
    panels: dict[str, dict[str, str]]

    def section(self, anchor: str) -> Section:
        return next(section for section in self.sections if section.anchor == anchor)


def _line_of(text: str, pattern: str) -> int:
    """The first line matching ``pattern`` (a regex), for error messages; 1 when none does."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(pattern, line):
            return number
    return 1


def _texts(table: object, name: str, keys: Iterable[str], text: str, source: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ContentError(source, _line_of(text, rf'^\[{re.escape(name)}\]'), f'[{name}] is missing')
    line = _line_of(text, rf'^\[{re.escape(name)}\]')
    for key in keys:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ContentError(source, line, f'[{name}] needs a non-empty text "{key}"')
    return {key: value for key, value in table.items() if isinstance(value, str)}


def parse_demo(
    text: str, source: str, *, panel_keys: Mapping[str, Iterable[str]], anchors: Iterable[str]
) -> tuple[str, str, tuple[Section, ...], dict[str, LaneText], dict[str, dict[str, str]]]:
    """Parse ``demo.md``: title, lead, sections, lanes and the texts of the panels named in ``panel_keys``."""
    page = parse_lesson(text, source)
    table = front_matter(text, source)
    lead = table.get('lead')
    if not isinstance(lead, str) or not lead.strip():
        raise ContentError(source, _line_of(text, r'^lead\s*='), "front matter needs a non-empty 'lead'")
    have = {section.anchor for section in page.sections}
    for anchor in anchors:
        if anchor not in have:
            raise ContentError(
                source, len(text.splitlines()), f'no section {{#{anchor}}}: the page places a panel under it'
            )
    lanes_table = table.get('lanes')
    if not isinstance(lanes_table, dict):
        raise ContentError(source, 1, 'front matter needs a [lanes.ID] table for each lane')
    known = {lane.id for lane in COMPARED_LANES}
    for lane_id in lanes_table:
        if lane_id not in known:
            raise ContentError(
                source,
                _line_of(text, rf'^\[lanes\.{re.escape(lane_id)}\]'),
                f'unknown lane "{lane_id}" (the lanes are {", ".join(sorted(known))})',
            )
    lanes = {}
    for lane in COMPARED_LANES:
        texts = _texts(lanes_table.get(lane.id), f'lanes.{lane.id}', LANE_KEYS, text, source)
        lanes[lane.id] = LaneText(**{key: texts[key] for key in LANE_KEYS})
    panels = {name: _texts(table.get(name), name, keys, text, source) for name, keys in panel_keys.items()}
    return page.title, lead.strip(), page.sections, lanes, panels


def parse_panel_texts(text: str, source: str, panel_keys: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """Parse ``demo_panels.toml``: one table of texts per panel named in ``panel_keys``."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = int(match.group(1)) if (match := re.search(r'line (\d+)', str(error))) else 1
        raise ContentError(source, line, f'not valid TOML: {error}') from error
    return {name: _texts(table.get(name), name, keys, text, source) for name, keys in panel_keys.items()}
