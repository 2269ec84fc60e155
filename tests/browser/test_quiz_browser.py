"""The quiz in Chromium: keyboard alone, progress kept across a reload and an app restart, no serious a11y issue;
the results, drawn in the browser from one JSON, say exactly what the server-drawn page said."""

import html
import re
from collections.abc import Callable
from itertools import pairwise

from playwright.sync_api import Browser, Locator, Page, expect

from lesson.panels.quiz_result import markdown_html
from lesson.rules.quiz import Question
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

from ..support.demo_run import RUN
from .accessibility import serious_violations
from .conftest import RunningApp

CONTENT = bundled_content_dir()
LESSON = load_lesson(CONTENT)
QUIZ = load_quiz(CONTENT, LESSON.anchors)
TOTAL = len(QUIZ.questions)
MAX_TABS = 40  # header links + dark switch + up to four options per question: far fewer than this

FOCUSED = """() => {
  const element = document.activeElement;
  const group = element.closest('[role=radiogroup]');
  return {role: element.getAttribute('role'), label: element.getAttribute('aria-label'),
          text: element.textContent.trim(), group: group && group.getAttribute('aria-labelledby')};
}"""


def focused(page: Page) -> dict[str, str | None]:
    return page.evaluate(FOCUSED)


def tab_until(page: Page, wanted: Callable[[dict[str, str | None]], bool]) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press('Tab')
        if wanted(focused(page)):
            return
    raise AssertionError(f'Tab never reached the element; focus is on {focused(page)}')


def group(page: Page, question: Question) -> Locator:
    return page.locator(f'[role=radiogroup][aria-labelledby="quiz-prompt-{question.id}"]')


def option(page: Page, question: Question, option_id: str) -> Locator:
    return group(page, question).get_by_role('radio', name=question.option(option_id).text, exact=True)


def choose_with_tab_and_space(page: Page, question: Question, option_id: str) -> None:
    text = question.option(option_id).text
    tab_until(page, lambda f: f['group'] == f'quiz-prompt-{question.id}' and f['label'] == text)
    page.keyboard.press('Space')
    expect(option(page, question, option_id)).to_have_attribute('aria-checked', 'true')


def choose_with_arrows(page: Page, question: Question, option_id: str) -> None:
    """Tab into the group, then arrow down to the wanted option: each arrow chooses the next one, as natively."""
    tab_until(page, lambda f: f['group'] == f'quiz-prompt-{question.id}')
    shown = group(page, question).get_by_role('radio').evaluate_all('radios => radios.map(r => r.ariaLabel)')
    # nothing chosen yet: the first arrow chooses the first option, then one more per step
    for label in shown[: shown.index(question.option(option_id).text) + 1]:
        page.keyboard.press('ArrowDown')
        step = group(page, question).get_by_role('radio', name=label, exact=True)
        expect(step).to_have_attribute('aria-checked', 'true')
        expect(step).to_be_focused()


def test_keyboard_only_reload_submit_and_restart(start_app: Callable[..., RunningApp], page: Page) -> None:
    running = start_app()
    first, second, third, fourth = QUIZ.questions
    wrong_fourth = next(o.id for o in fourth.options if not o.correct)
    page.goto(running.url + '/quiz', wait_until='networkidle')
    status = page.get_by_role('status')
    expect(status).to_have_text(f'Answered 0 of {TOTAL}')
    submit = page.get_by_role('button', name='Submit answers')
    expect(submit).to_be_disabled()

    choose_with_arrows(page, first, first.correct_option.id)
    choose_with_tab_and_space(page, second, second.correct_option.id)
    expect(status).to_have_text(f'Answered 2 of {TOTAL}')

    page.reload(wait_until='networkidle')
    expect(status).to_have_text(f'Answered 2 of {TOTAL}')
    expect(option(page, first, first.correct_option.id)).to_have_attribute('aria-checked', 'true')
    expect(option(page, second, second.correct_option.id)).to_have_attribute('aria-checked', 'true')

    choose_with_tab_and_space(page, third, third.correct_option.id)
    choose_with_arrows(page, fourth, wrong_fourth)
    expect(status).to_have_text(f'Answered {TOTAL} of {TOTAL}')
    expect(submit).to_be_enabled()
    tab_until(page, lambda f: f['text'] is not None and 'Submit answers' in f['text'])
    page.keyboard.press('Enter')

    score = f'{TOTAL - 1} / {TOTAL} (75 %)'
    expect(page.get_by_role('heading', name='Your result, attempt 1')).to_be_focused()
    expect(page.get_by_text(score, exact=True)).to_be_visible()
    expect(page.get_by_text(QUIZ.band_message(75), exact=True)).to_be_visible()
    expect(page.get_by_role('link', name='Read again in the lesson:').first).to_have_attribute(
        'href', f'/#{first.lesson_anchor}'
    )

    # leave first: a NiceGUI page whose server comes back reloads itself, which would abort the goto below
    page.goto('about:blank')
    running.restart()
    page.goto(running.url + '/quiz', wait_until='networkidle')
    history = page.locator('.q-expansion-item').filter(has_text='Attempt 1 ·')
    expect(history).to_contain_text(f'{score} · best')
    page.goto(running.url + '/', wait_until='networkidle')
    expect(page.get_by_text(f'Your best quiz score: {score}')).to_be_visible()


def test_quiz_has_no_serious_accessibility_violation(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/quiz', wait_until='networkidle')
    expect(page.get_by_role('status')).to_have_text(f'Answered 0 of {TOTAL}')
    before = serious_violations(page)
    print('\n'.join(before))

    for question in QUIZ.questions:
        wrong = next(o.id for o in question.options if not o.correct)
        option(page, question, wrong).click()
    page.get_by_role('button', name='Submit answers').click()
    expect(page.get_by_text(f'0 / {TOTAL} (0 %)', exact=True)).to_be_visible()
    page.locator('.q-expansion-item').first.get_by_role('button').click()
    # Quasar shows an unnamed progress bar while NiceGUI fetches a component's script (here the expansion's)
    expect(page.locator('.q-loading-bar[role=progressbar]')).to_have_count(0)
    after = serious_violations(page)
    print('\n'.join(after))
    assert before == [] and after == []


OPTION_BOXES = """group => [...group.querySelectorAll('[role=radio]')].map(radio => {
  const box = radio.getBoundingClientRect();
  const label = radio.querySelector('.q-radio__label').getBoundingClientRect();
  const lineHeight = parseFloat(getComputedStyle(radio.querySelector('.q-radio__label')).lineHeight);
  return {top: box.top, bottom: box.bottom, width: box.width, height: box.height,
          lines: Math.round(label.height / lineHeight)};
})"""
MIN_TARGET_PX = 24  # WCAG 2.2 SC 2.5.8, target size (minimum)
MIN_GAP_PX = 4


def test_on_a_phone_options_are_big_enough_and_apart_even_when_they_wrap(lesson_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 375, 'height': 812})
    page.goto(lesson_app.url + '/quiz', wait_until='networkidle')
    wrapped = 0
    for question in QUIZ.questions:
        boxes = group(page, question).evaluate(OPTION_BOXES)
        assert len(boxes) == len(question.options)
        for box in boxes:
            assert box['width'] >= MIN_TARGET_PX and box['height'] >= MIN_TARGET_PX, (question.id, box)
        for above, below in pairwise(boxes):
            assert below['top'] - above['bottom'] >= MIN_GAP_PX, (question.id, above, below)
        wrapped += sum(box['lines'] > 1 for box in boxes)
    assert wrapped > 0  # the case the rule is about: at 375 px some options take two lines or more
    assert page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') <= 0


def test_results_render_markdown_and_times_in_the_browsers_zone(lesson_app: RunningApp, browser: Browser) -> None:
    context = browser.new_context(viewport={'width': 375, 'height': 812}, timezone_id='Asia/Kolkata')
    try:
        page = context.new_page()
        page.goto(lesson_app.url + '/quiz', wait_until='networkidle')
        expect(page.get_by_text('Each attempt you submit is listed here')).to_be_visible()
        for question in QUIZ.questions:
            option(page, question, next(o.id for o in question.options if not o.correct)).click()
        page.get_by_role('button', name='Submit answers').click()
        expect(page.get_by_role('heading', name='Your result, attempt 1')).to_be_visible()
        results = page.locator('.lesson-column')
        expect(results.locator('code').filter(has_text='wss://').first).to_be_visible()  # `wss://` became code
        text = results.inner_text()
        assert '`' not in text
        assert '.:' not in text and '?:' not in text  # an option and its feedback are not glued with a colon
        # Kolkata is UTC+05:30 and has no summer time: the attempt's time says IST whatever the date
        expect(page.locator('.q-expansion-item').filter(has_text='Attempt 1 ·')).to_contain_text(' IST · ')
    finally:
        context.close()


# what the lanes panel sends at Stop, sent here over the page's own socket (a real run takes the demo's seconds)
# Resolves once the server acknowledges the event: socket.io acknowledges when the server's handler has returned,
# and the run's handler writes the learner's storage before it returns, so the quiz page reads it afterwards.
SEND_RUN = """run => new Promise(resolve => {
  const [id, element] = Object.entries(mounted_app.elements)
    .find(([, e]) => (e.events || []).some(event => event.type === 'run'));
  const listener = element.events.find(event => event.type === 'run').listener_id;
  window.socket.emit('event', {id: Number(id), client_id: window.clientId, listener_id: listener,
                               args: [JSON.stringify(run)]}, () => resolve(true));
})"""


def plain(markup: str) -> str:
    """The text a Markdown block shows: its HTML without tags, whitespace as one space."""
    blocks_apart = re.sub(r'</(?:p|li|h\d)>|<br\s*/?>', ' ', markup)
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', '', blocks_apart)).split())


def lines(text: str) -> list[str]:
    return [' '.join(line.split()) for line in text.splitlines() if line.strip()]


def expected_card(index: int, question: Question, chosen_id: str, quote: str | None) -> list[str]:
    """The lines of one question's result as the server-drawn page showed them (icons are ligature text)."""
    right = chosen_id == question.correct_option.id
    shown = [
        'check_circle' if right else 'cancel',
        'Right' if right else 'Wrong',
        f'Question {index}',
        question.prompt,
        f'Your answer: {question.option(chosen_id).text}',
        f'Correct answer: {question.correct_option.text}',
        plain(markdown_html(question.explanation)),
    ]
    if QUIZ.run_quote(question.id) is not None:
        shown += [
            'science',
            quote
            or 'Run the polling-versus-push demo on the Live demos page, and this answer will quote your own figures.',
        ]
    for option in question.options:
        tags = [t for t, on in (('your answer', option.id == chosen_id), ('correct', option.correct)) if on]
        shown += [option.text, *([f'({", ".join(tags)})'] if tags else []), plain(markdown_html(option.feedback))]
    title = next(s.title for s in LESSON.sections if s.anchor == question.lesson_anchor)
    return [*shown, f'Read again in the lesson: {title}']


def card_lines(card: Locator) -> list[str]:
    """The card's lines, each Markdown block as one line of plain text (as :func:`plain` makes it)."""
    blocks = card.evaluate("""card => [...card.querySelectorAll('.nicegui-markdown')].map(b => b.innerText)""")
    text = card.inner_text()
    for block in blocks:
        text = text.replace(block, ' '.join(block.split()) + '\n')
    return lines(text)


def test_results_feedback_quotes_history_and_links_say_what_they_said(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/demo', wait_until='networkidle')
    page.evaluate(SEND_RUN, RUN)
    page.goto(lesson_app.url + '/quiz', wait_until='networkidle')
    chosen = {
        q.id: (q.correct_option.id if i % 2 else next(o.id for o in q.options if not o.correct))
        for i, q in enumerate(QUIZ.questions)
    }
    for question in QUIZ.questions:
        option(page, question, chosen[question.id]).click()
    page.get_by_role('button', name='Submit answers').click()
    heading = page.get_by_role('heading', name='Your result, attempt 1')
    expect(heading).to_be_focused()
    score = sum(chosen[q.id] == q.correct_option.id for q in QUIZ.questions)
    percent = score * 100 // TOTAL
    expect(page.get_by_test_id('quiz-score')).to_have_text(f'{score} / {TOTAL} ({percent} %)')
    expect(page.get_by_test_id('quiz-band')).to_have_text(QUIZ.band_message(percent))
    quotes = {
        'main-advantage': 'In your run on the demo page, polling made 48 requests for 12 updates, and 36 of them came '
        'back empty. The WebSocket got its 12 updates over one open connection, without asking once.',
        'server-has-news': 'In your run on the demo page (link: same room), the WebSocket delivered each update a '
        'median 1.8 ms after the server made it; polling every 500 ms, an update waited for the next question: a '
        'median 251 ms.',
    }
    for index, question in enumerate(QUIZ.questions, 1):
        card = page.get_by_test_id(f'quiz-result-{question.id}')
        assert card_lines(card) == expected_card(index, question, chosen[question.id], quotes.get(question.id))
        expect(card.get_by_role('link', name=re.compile('^Read again'))).to_have_attribute(
            'href', f'/#{question.lesson_anchor}'
        )
        # links inside the explanations and feedback are the Markdown's own
        wanted = re.findall(
            r'href="([^"]+)"',
            markdown_html(question.explanation) + ''.join(markdown_html(o.feedback) for o in question.options),
        )
        shown = card.locator('.nicegui-markdown a').evaluate_all('links => links.map(a => a.getAttribute("href"))')
        assert shown == wanted

    # the history: one line per attempt, its answers inside; opened with the keyboard
    summary = page.locator('.q-expansion-item').filter(has_text='Attempt 1 ·')
    expect(summary).to_contain_text(f'· {score} / {TOTAL} ({percent} %) · best')
    summary.get_by_role('button').focus()
    page.keyboard.press('Enter')
    for question in QUIZ.questions:
        answer = question.option(chosen[question.id]).text
        verdict = 'Right' if chosen[question.id] == question.correct_option.id else 'Wrong'
        prompt = question.prompt if question.prompt.endswith(('.', '?', '!', ')')) else f'{question.prompt}.'
        answer = answer if answer.endswith(('.', '?', '!', ')')) else f'{answer}.'
        expect(summary).to_contain_text(f'{verdict}: {prompt} Your answer: {answer}')

    # Try again with the keyboard: the form comes back and takes the focus; the history keeps attempt 1, closed
    page.get_by_role('button', name='Try again').focus()
    page.keyboard.press('Enter')
    expect(page.get_by_role('heading', name='Attempt 2')).to_be_focused()
    expect(page.get_by_role('status')).to_have_text(f'Answered 0 of {TOTAL}')
    expect(page.get_by_test_id('quiz-score')).to_have_count(0)
    expect(summary).to_have_class(re.compile(r'\bq-expansion-item--collapsed\b'))
