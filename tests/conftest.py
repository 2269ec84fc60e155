"""Run the fast folders first, so a broken unit fails in seconds, and the browser last."""

import os

import pytest

FOLDER_ORDER = ('unit', 'cli', 'server', 'ui', 'browser')


def _folder_rank(item: pytest.Item) -> int:
    parts = str(item.path).replace(os.sep, '/').split('/tests/')[-1].split('/')
    return FOLDER_ORDER.index(parts[0]) if parts[0] in FOLDER_ORDER else len(FOLDER_ORDER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_folder_rank)  # stable: the order inside a folder is kept
    for item in items:
        if _folder_rank(item) == FOLDER_ORDER.index('browser'):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def a_new_minute_for_outsider_log_lines() -> None:
    """The page server's warnings a client can trigger are one line a minute per address, process-wide: each test
    starts a new minute, so what an earlier test logged does not silence this one's first line."""
    from demos.protocol.limits import OncePerMinute
    from lesson.web import outsider_log

    outsider_log.OUTSIDERS.lines = OncePerMinute()
