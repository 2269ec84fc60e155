import pytest
from nicegui import ui
from nicegui.testing import User, UserInteraction

from lesson.rules.content import Code, Lesson
from lesson.storage.content_files import bundled_content_dir, load_lesson

LESSON: Lesson = load_lesson(bundled_content_dir())


async def test_lesson_shows_every_section_heading_and_tag(user: User) -> None:
    await user.open('/')
    await user.should_see(LESSON.title)
    for section in LESSON.sections:
        await user.should_see(section.title)
    for tag in LESSON.tags:
        await user.should_see(tag)


async def test_lesson_shows_the_comparison_table_rows(user: User) -> None:
    await user.open('/')
    for row in (
        'Each request gets one answer, and then that exchange is over',
        'One connection stays open',
        'Only the client starts an exchange',
        'Client and server may each send',
        'Suits data that is loaded now and then',
        'Suits frequent, fast, continuous updates',
    ):
        await user.should_see(row)


async def test_lesson_shows_the_code_sample_and_the_diagram(user: User) -> None:
    await user.open('/')
    snippet = LESSON.code('first-socket')
    assert isinstance(snippet, Code)
    code = user.find(kind=ui.code, marker='code-first-socket').elements.pop()
    assert code.content == snippet.source
    diagram = user.find(kind=ui.mermaid, marker='lesson-diagram').elements.pop()
    assert diagram.content.startswith('sequenceDiagram')


# Where each header link must lead, and something only that page shows. Written out here rather than read from the
# header's own table, so that a link pointed at the wrong page fails.
DESTINATIONS = [
    ('/', 'Live demos', '/demo', 'Echo server:'),
    ('/', 'Quiz', '/quiz', 'quiz-attempt'),  # a marker: the quiz's questions (drawn in the browser)
    ('/quiz', 'Lesson', '/', 'code-first-socket'),  # a marker: the lesson's first code sample
]
NAVIGATION_WITHIN = 50  # should_see's tries, 0.1 s apart: the click opens the page in a background task


@pytest.mark.parametrize(('start', 'label', 'path', 'only_there'), DESTINATIONS, ids=[d[1] for d in DESTINATIONS])
async def test_the_header_links_lead_to_their_pages(
    user: User, start: str, label: str, path: str, only_there: str
) -> None:
    await user.open(start)
    await user.should_not_see(only_there)  # so that seeing it below means the click went somewhere
    with user.scope(ui.header):
        links = {link for link in user.find(kind=ui.link, content=label).elements if link.text == label}
    assert len(links) == 1, f'the header has {len(links)} links named {label!r}'
    UserInteraction(user, links, label).click()
    await user.should_see(only_there, retries=NAVIGATION_WITHIN)
    assert user.back_history[-1] == path
