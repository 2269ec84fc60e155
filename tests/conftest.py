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
