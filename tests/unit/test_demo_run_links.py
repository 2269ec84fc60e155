"""The board's demo totals say under which link profile they were measured (issue 21's class moment): the page's
run summary names its profile, the class keeps each learner's profiles, the board says them in a sentence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from demos.protocol.link import PROFILE_IDS
from lesson.panels.lanes import run_from_event
from lesson.rules import classroom, demo_runs
from lesson.rules.progress import DemoRun

from .test_classroom import NOON, joined

SUMMARY: dict[str, Any] = {
    'poll_requests': 12,
    'poll_updates': 30,
    'poll_empty': 2,
    'poll_interval_ms': 500,
    'poll_delay_p50_ms': 841.3,
    'push_updates': 31,
    'push_delay_p50_ms': 300.4,
    'run_id': 1,
}


def test_the_summary_names_its_profile_and_an_unknown_one_refuses_it() -> None:
    assert (run := run_from_event({**SUMMARY, 'link_profile': '3g'})) is not None and run.link_profile == '3g'
    assert (old := run_from_event(SUMMARY)) is not None and old.link_profile == 'same-room'  # a page before links
    for bad in ('dial-up', None, 3, ['3g']):
        assert run_from_event({**SUMMARY, 'link_profile': bad}) is None


def test_every_profile_has_a_name_on_the_board() -> None:
    assert set(demo_runs.LINK_NAMES) == set(PROFILE_IDS)


def test_the_board_says_under_which_profiles_the_totals_were_measured() -> None:
    run = run_from_event({**SUMMARY, 'link_profile': '3g'})
    assert run is not None
    klass = joined('Ada', 'Bob', 'Cy')
    assert classroom.demo_links_sentence(klass.learners) == ''  # no run yet: nothing to say
    klass = classroom.record_demo_run(klass, 'learner-0000', run, NOON)
    klass = classroom.record_demo_run(klass, 'learner-0001', run, NOON)
    assert classroom.demo_links_sentence(klass.learners) == 'Measured on the link: 3G (2 learners).'
    # Ada runs again on loopback: both her profiles count, each once; Cy's custom link is named as such.
    klass = classroom.record_demo_run(klass, 'learner-0000', replace(run, run_id=2, link_profile='same-room'), NOON)
    klass = classroom.record_demo_run(klass, 'learner-0000', replace(run, run_id=3), NOON)
    klass = classroom.record_demo_run(klass, 'learner-0002', replace(run, link_profile='custom'), NOON)
    assert klass.learners[0].demo_links == ('3g', 'same-room')
    assert classroom.demo_links_sentence(klass.learners) == (
        'Measured on the link: 3G (2 learners), same room (1 learner), a custom link (1 learner).'
    )
    # The stores keep it (files and Redis both keep the class as this JSON).
    assert classroom.class_from_json(classroom.class_to_json(klass)) == klass


@pytest.mark.parametrize('profile', ['satellite', 'lossy-wifi'])
def test_a_kept_run_reads_back_with_its_profile(profile: str) -> None:
    run = DemoRun(1, 1, 0, 500, None, 1, None, 5, profile)
    klass = classroom.record_demo_run(joined('Ada'), 'learner-0000', run, NOON)
    again = classroom.class_from_json(classroom.class_to_json(klass))
    assert again.learners[0].last_run == run and again.learners[0].demo_links == (profile,)
