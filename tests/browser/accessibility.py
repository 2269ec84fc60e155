"""axe-core through axe-playwright-python: the violations a learner using assistive technology would hit."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING_IMPACTS = frozenset({'serious', 'critical'})


def serious_violations(page: Page) -> list[str]:
    """One readable line per serious or critical violation on the page as it is now."""
    results = Axe().run(page)
    return [
        f'{v["id"]} ({v["impact"]}): {v["help"]} at {[node["target"] for node in v["nodes"]]}'
        for v in results.response['violations']
        if v['impact'] in BLOCKING_IMPACTS
    ]
