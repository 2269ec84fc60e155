"""The learner's /join page through NiceGUI's `user` fixture: no class, joining, a refused nickname, leaving."""

from nicegui import ui
from nicegui.testing import User

from lesson.teaching import membership as class_membership


async def start_a_class() -> str:
    store = class_membership.active_store()
    assert store is not None  # the app registered the teacher pages with a store
    return (await store.start_class()).id


async def test_without_a_class_the_page_says_so(user: User) -> None:
    store = class_membership.active_store()
    assert store is not None
    if await store.current() is None:
        await user.open('/join')
        await user.should_see(marker='join-none')


async def test_join_with_a_nickname_then_leave(user: User) -> None:
    class_id = await start_a_class()
    await user.open('/join')
    user.find(marker='join-nickname').type('  Grace  ')
    user.find(marker='join-button').click()
    await user.should_see('You are in the class as Grace.')
    store = class_membership.active_store()
    assert store is not None
    klass = await store.read(class_id)
    assert klass is not None and [learner.name for learner in klass.learners] == ['Grace']
    user.find(marker='join-leave').click()
    await user.should_see(marker='join-button')
    klass = await store.read(class_id)
    assert klass is not None and klass.present == ()


async def test_a_control_character_nickname_is_refused_and_nothing_joins(user: User) -> None:
    class_id = await start_a_class()
    await user.open('/join')
    nickname = user.find(marker='join-nickname').elements.pop()
    assert isinstance(nickname, ui.input)
    nickname.value = 'bad\u202ename'
    user.find(marker='join-button').click()
    await user.should_see('A nickname cannot contain control or invisible characters.')
    store = class_membership.active_store()
    assert store is not None
    klass = await store.read(class_id)
    assert klass is not None and klass.learners == ()
