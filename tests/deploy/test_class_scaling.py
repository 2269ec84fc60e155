"""The scaling benchmark, tiny: a class of four through HAProxy to two instances, every lane through one port."""

from __future__ import annotations

from benchmarks.class_scaling import run_once


def test_a_tiny_class_through_the_proxy_reaches_both_instances() -> None:
    report = run_once(2, 4, 1.5)
    assert report['learners_joined'] == 4, report['errors']
    assert report['errors_total'] == 0, report['errors']
    assert report['feed_started'] and report['updates_made'] > 0
    assert report['lost_updates']['push_and_sse'] == 0
    assert report['polls'] > 0 and report['long_polls'] > 0
    # the proxy spread the learners (round robin on their first page load) and each one's lanes followed it
    assert report['routes'] == {'SERVERID=app1': 2, 'SERVERID=app2': 2}
    assert report['proxy_cpu_s'] > 0
