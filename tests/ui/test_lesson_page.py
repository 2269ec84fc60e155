from nicegui.testing import User

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
    code = user.find(marker='code-first-socket').elements.pop()
    assert code.content == snippet.source
    diagram = user.find(marker='lesson-diagram').elements.pop()
    assert diagram.content.startswith('sequenceDiagram')


async def test_lesson_links_to_demos_and_quiz(user: User) -> None:
    await user.open('/')
    await user.should_see('Live demos')
    await user.should_see('Quiz')
    user.find('Live demos').click()
    await user.should_see('Live demos')
