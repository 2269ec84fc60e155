"""The teacher address deploy/run-local.sh prints, opened in Chromium through HAProxy: the board on either instance.

The issue saw app1's address give 200/403/200/403 through the proxy and a browser pinned to app2 stay on 403: each
instance had made its own token. run-local.sh now gives all of them one.
"""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from ..deploy.test_run_local_one_class import Deployment, deployment

__all__ = ['deployment']  # the fixture: run-local.sh with two instances


def test_the_printed_teacher_address_opens_the_board_on_each_instance(browser: Browser, deployment: Deployment) -> None:
    address = deployment.teacher_address()
    for instance in ('app1', 'app2', 'app2', 'app1'):
        context = browser.new_context(viewport={'width': 1280, 'height': 720})
        try:
            context.add_cookies([{'name': 'SERVERID', 'value': instance, 'url': address}])
            page = context.new_page()
            page.set_default_timeout(15_000)
            answer = page.goto(address)
            assert answer is not None and answer.status == 200, f'{instance}: {answer and answer.status}'
            expect(page.get_by_test_id('board-controls')).to_be_visible()
            served = {c['name']: c['value'] for c in context.cookies()}.get('SERVERID')
            assert served == instance  # the proxy kept the browser where its cookie said
            page.reload()  # and again on the same instance (a token exchanged for a cookie must still work)
            expect(page.get_by_test_id('board-controls')).to_be_visible()
        finally:
            context.close()
