"""What a learner's open pages show when the teacher starts a new class, and the one-click way into it.

Every page of a learner in a class carries a notice, hidden while their class runs. The teacher's reset is pushed
to it (:class:`lesson.teaching.class_watch.ClassWatch`), so it appears at once on the quiz and demo pages; the join
page, whose whole content depends on the class, is drawn again. The notice's link, ``/join/again``, joins the new
class under the learner's name and counts the attempts they submitted after their class ended (kept in their own
storage, :func:`lesson.teaching.membership.pending_attempts`): nothing is lost, one click.
"""

from __future__ import annotations

from nicegui import background_tasks, ui

from lesson.rules.classroom import ClassroomRejected
from lesson.storage.learner_store import learner_store
from lesson.teaching import membership as class_membership
from lesson.teaching.class_watch import ClassWatch

NOTICE = 'Your class has ended: your teacher started a new one.'
JOIN_AGAIN = 'Join the new class'
REJOIN_PATH = '/join/again'


def class_notice(current_path: str) -> None:
    """The notice for this page, hidden until the learner's class ends (nothing for a learner in no class)."""
    store = class_membership.active_store()
    watch = class_membership.class_watch()
    if store is None or watch is None:
        return
    if current_path == '/join':  # its content is the membership (joined while open, too): drawn again on news
        _redraw_on_new_class(watch)
        return
    member = class_membership.membership(learner_store())
    if member is None:
        return
    with ui.element('div').classes('w-full my-2 p-3 rounded border-2 border-amber-700') as notice:
        notice.props('role=status data-testid=class-ended')
        ui.label(NOTICE).classes('font-semibold')
        with ui.row().classes('items-center gap-2'):
            ui.link(JOIN_AGAIN, REJOIN_PATH).classes('text-lg underline').props('data-testid=class-rejoin')
            ui.label('(one click; what you submitted since counts there)').classes('text-sm')
    notice.set_visibility(False)

    def new_class(class_id: str) -> None:
        if class_id != member.class_id and not notice.is_deleted:
            notice.set_visibility(True)

    async def check_now() -> None:  # a reset before this page was opened
        try:
            current = await store.current()
        except ClassroomRejected:
            return
        if current is not None and current.id != member.class_id:
            notice.set_visibility(True)

    unwatch = watch.watch(new_class)
    ui.context.client.on_delete(unwatch)
    background_tasks.create(check_now(), name='class notice')


def _redraw_on_new_class(watch: ClassWatch) -> None:
    anchor = ui.element('div')  # where the reload is sent from: this page's client

    def new_class(_class_id: str) -> None:
        if not anchor.is_deleted:
            with anchor:
                ui.navigate.reload()  # nothing typed is lost there but a nickname not yet sent

    unwatch = watch.watch(new_class)
    ui.context.client.on_delete(unwatch)
