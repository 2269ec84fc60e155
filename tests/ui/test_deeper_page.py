"""The "Going deeper" page and the lesson diagram's caption, as the page server builds them (no JavaScript)."""

from nicegui import ui
from nicegui.testing import User

from lesson.pages.deeper import load
from lesson.rules.content import Diagram
from lesson.storage.content_files import bundled_content_dir, load_lesson

DEEPER = load(bundled_content_dir())
LESSON = load_lesson(bundled_content_dir())


async def test_going_deeper_shows_every_section_under_its_anchor(user: User) -> None:
    await user.open('/deeper')
    await user.should_see(DEEPER.title)
    for section in DEEPER.sections:
        await user.should_see(section.title)
    anchors = {element.props.get('id') for element in user.find(kind=ui.element).elements}
    assert DEEPER.anchors <= anchors
    await user.should_see('The same-origin policy, which stops a page')  # a note's prose, not only its heading
    await user.should_not_see('Sources:')  # writers' comments stay in the file


async def test_the_lesson_links_to_going_deeper(user: User) -> None:
    await user.open('/')
    await user.should_see('Going deeper')
    markdown = [element for element in user.find(kind=ui.markdown).elements if isinstance(element, ui.markdown)]
    assert any('](/deeper)' in element.content for element in markdown)


async def test_the_diagram_has_a_visible_caption_with_every_step(user: User) -> None:
    (diagram,) = [block for section in LESSON.sections for block in section.blocks if isinstance(block, Diagram)]
    await user.open('/')
    caption = user.find(marker='lesson-diagram-caption').elements.pop()
    assert isinstance(caption, ui.html) and caption.props['tag'] == 'figcaption'
    assert diagram.description in caption.content
    assert user.find(marker='lesson-diagram').elements.pop().props['aria-label'] == diagram.title
