"""The board's shared moments: what the teacher does to every learner's page at once (take the echo server down,
feed the whole class the same updates, put the whole class on one link profile, start a new class)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from lesson.pages.teacher.setup import TeacherSetup
from lesson.pages.teacher.style import BUTTON_COLOR, tagged
from lesson.rules.demo_runs import LINK_NAMES

#: Seconds the echo server stays down when the teacher takes it down for everyone.
OUTAGE_S = 4.0
CLASS_FEED_RATES = (1.0, 2.0, 5.0, 10.0)
#: The profiles the class can be put on: the named ones (a custom link is each learner's own figures).
CLASS_LINKS = {profile: name for profile, name in LINK_NAMES.items() if profile != 'custom'}


async def reset(setup: TeacherSetup) -> None:
    with ui.dialog() as dialog, ui.card():
        ui.label(
            'Start a new class? The current one ends: its results stay listed and can be exported, '
            'and learners must join the new one.'
        )
        with ui.row():
            confirm = ui.button('Start a new class', color='negative', on_click=lambda: dialog.submit(True))
            tagged(confirm, 'board-reset-confirm')
            ui.button('Cancel', on_click=lambda: dialog.submit(False))
    if await dialog:
        await setup.store.start_class()
        ui.notify('A new class has started.')


def _elsewhere(reply: dict[str, Any]) -> str:
    """What the other instances did, when there are any (``--redis-url``): one more sentence for the notice."""
    if 'other_instances' not in reply:
        return ''
    others = reply['other_instances']
    if others is None:
        return ' The other instances could not be told: Redis is unreachable.'
    return f' {others} other instance{"" if others == 1 else "s"} did the same.' if others else ''


async def _command(setup: TeacherSetup, command: dict[str, Any]) -> dict[str, Any] | None:
    """This echo server's reply (every instance's echo server hears it), or ``None`` after telling the teacher why
    there is none or it refused."""
    try:
        reply = await setup.moments.send(command)
    except (OSError, TimeoutError) as error:
        ui.notify(f'The echo server could not be reached: {error}', type='negative')
        return None
    if not reply.get('ok'):
        ui.notify(f'Refused: {reply.get("error")}', type='negative')
        return None
    return reply


async def outage(setup: TeacherSetup) -> None:
    if (reply := await _command(setup, {'do': 'restart', 'seconds': OUTAGE_S})) is not None:
        ui.notify(f'The echo server is down for {OUTAGE_S:g} s: watch every page reconnect.{_elsewhere(reply)}')


async def class_feed(setup: TeacherSetup, start: bool, rate: float) -> None:
    command: dict[str, Any] = {
        'do': 'class_feed',
        'action': 'start' if start else 'stop',
        'rate_per_s': rate,
        'session_ids': None,
    }
    if (reply := await _command(setup, command)) is None:
        return
    if start:
        ui.notify(
            f'Class feed started at {rate:g}/s for {reply.get("followers")} open demo pages and any that open.'
            + _elsewhere(reply)
        )
    else:
        ui.notify('Class feed stopped: each page has its own feed again.' + _elsewhere(reply))


async def class_link(setup: TeacherSetup, profile: str | None) -> None:
    if (reply := await _command(setup, {'do': 'class_link', 'profile': profile})) is None:
        return
    if profile is None:
        returned = reply.get('returned')
        ui.notify(f'Class link ended: {returned} demo pages are back on their own link.' + _elsewhere(reply))
    else:
        ui.notify(
            f'The class is on {CLASS_LINKS[profile]}: {reply.get("sessions")} demo pages and any that open.'
            + _elsewhere(reply)
        )


def _link_controls(setup: TeacherSetup) -> None:
    profile = ui.select(CLASS_LINKS, value='3g', label='Class link').style('min-width: 11rem')
    tagged(profile, 'board-link-profile')
    put = ui.button(
        'Put the class on this link', icon='network_check', on_click=lambda: class_link(setup, profile.value)
    )
    tagged(put.props(f'color={BUTTON_COLOR}'), 'board-link-start')
    end = ui.button('End the class link', icon='stop', on_click=lambda: class_link(setup, None))
    tagged(end.props(f'color={BUTTON_COLOR}'), 'board-link-stop')


def controls(setup: TeacherSetup, presenting: bool) -> None:
    with tagged(ui.card().classes('w-full my-4'), 'board-controls'):
        ui.label('Shared moments').classes('text-xl font-semibold')
        with ui.row().classes('gap-2 flex-wrap items-center'):
            down = ui.button(
                f'Take the echo server down for everyone ({OUTAGE_S:g} s)',
                icon='power_settings_new',
                color='negative',
                on_click=lambda: outage(setup),
            )
            tagged(down, 'board-outage')
            rate = ui.select({r: f'{r:g} updates/s' for r in CLASS_FEED_RATES}, value=2.0, label='Class feed rate')
            rate.style('min-width: 11rem')  # its label was cut to 'Class feed r…'

            async def feed(start: bool) -> None:
                await class_feed(setup, start, rate.value)

            start = ui.button('Start the class feed', icon='podcasts', on_click=lambda: feed(True))
            tagged(start.props(f'color={BUTTON_COLOR}'), 'board-feed-start')
            stop = ui.button('Stop the class feed', icon='stop', on_click=lambda: feed(False))
            tagged(stop.props(f'color={BUTTON_COLOR}'), 'board-feed-stop')
        ui.label(
            "The class feed sends the same updates to every student's lanes; students press Start on the demo page "
            'to follow it.'
        ).classes('text-sm opacity-80')
        with ui.row().classes('gap-2 flex-wrap items-center'):
            _link_controls(setup)
        ui.label(
            "The class link shapes every student's new demo connections as that link would (sockets already open "
            'keep theirs); the demo totals below say which links they were measured on.'
        ).classes('text-sm opacity-80')
        # outlined as the lesser action; solid in presenter mode, where indigo on black would be unreadable
        again = ui.button('Reset: start a new class…', icon='restart_alt', on_click=lambda: reset(setup))
        tagged(again.props(f'color={BUTTON_COLOR}' if presenting else f'outline color={BUTTON_COLOR}'), 'board-reset')
