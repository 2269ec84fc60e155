"""Run the lesson's code: the lesson's own snippet, executed in this page against the embedded echo server.

demos/static/lesson_runner.js replaces only the address in the snippet's text, runs it with a `console`
whose lines come back here with `demo_lesson_code`, then sends one message (so `onmessage` fires) and
closes the socket a moment later (so `onclose` fires). The page shows the text that actually ran.
"""

from __future__ import annotations

import json

from nicegui import events, ui

from .demo_live_log import LiveLog
from .demo_sources import code_block

LESSON_MESSAGE = "Hello from the lesson's code"


class LessonCodePanel:
    def __init__(self, snippet: str) -> None:
        self.snippet = snippet
        self._build()
        ui.on('demo_lesson_code', self._take_report)

    def _build(self) -> None:
        ui.label("The lesson's snippet, exactly as the lesson shows it:").classes('font-semibold')
        code_block(self.snippet, "The lesson's snippet").mark('demo-lesson-snippet')
        ui.button("Run the lesson's code", icon='play_arrow', on_click=self.run).classes('self-start') \
            .mark('lesson-code-run')
        self.ran_heading = ui.label('The text that ran (only the address differs):').classes('font-semibold')
        self.ran = code_block('', 'The text that ran').props('data-code=lesson-ran') \
            .mark('lesson-code-ran')
        self.ran_heading.set_visibility(False)
        self.ran.set_visibility(False)
        self.output = LiveLog('Console output of the lesson code', 'lesson-code')
        self.output.container.mark('lesson-code-output')
        with self.output.container:
            ui.label("Nothing yet: press “Run the lesson's code”.").classes('opacity-70')

    def run(self) -> None:
        self.output.clear()
        ui.run_javascript(f'wsDemo.runLessonCodeOnPage({json.dumps(self.snippet)}, {json.dumps(LESSON_MESSAGE)})')

    def _take_report(self, event: events.GenericEventArguments) -> None:
        kind, text = event.args.get('kind'), str(event.args.get('text', ''))
        if kind == 'source':
            self.ran.set_content(text)
            self.ran_heading.set_visibility(True)
            self.ran.set_visibility(True)
            return
        if kind == 'log':
            self.output.add(lambda: ui.label(text).classes('break-all whitespace-pre-wrap')
                            .props('data-console-line=log'), text)
        elif kind == 'error':
            self.output.add(lambda: ui.label(f'error: {text}').classes('text-red-700')
                            .props('data-console-line=error'), f'error: {text}')
        elif kind == 'done':
            done = f'(the runner closed the socket: code {event.args.get("code")})'
            self.output.add(lambda: ui.label(done).classes('opacity-70').props('data-console-line=done'), done)
