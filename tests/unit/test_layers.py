"""The house's layers, checked: the pure layers load no server machinery, no module imports itself round a cycle,
and the arrows point down (demos/ never imports lesson/, the echo server never the benchmark, the rules nothing
above them).

The import graph is read from the source with `ast`, so an import inside a function (lazy) or under
`if TYPE_CHECKING:` counts as much as one at the top: each is a dependency a reader has to follow, and a lazy
import that closes a cycle is a cycle still. The purity check runs in a fresh interpreter, since this test
process has long imported everything.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Collection, Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ('lesson', 'demos')
PURE = ('lesson.rules', 'demos.protocol')
#: What a pure module must not bring in: an event loop (and so any asyncio server), TLS, the page server and what it
#: stands on, websockets' I/O layer, a Redis client.
SERVER_MACHINERY = (
    'asyncio',
    'ssl',
    'nicegui',
    'uvicorn',
    'starlette',
    'fastapi',
    'socketio',
    'engineio',
    'websockets.asyncio',
    'websockets.sync',
    'redis',
    'httpx',
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob('*.py'))}


def imported_names(source: str, name: str, is_package: bool) -> set[str]:
    """Every module name an import statement anywhere in ``source`` names (``from a import b`` names both ``a``
    and ``a.b``: b may be a module), relative imports made absolute."""
    package = name if is_package else name.rpartition('.')[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[: len(package.split('.')) - node.level + 1]
                stem = '.'.join([*base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ''
            names.add(stem)
            names.update(f'{stem}.{alias.name}' for alias in node.names)
    return names


def resolve(name: str, known: Collection[str]) -> str | None:
    """The project module an imported name lands in (its longest known prefix), or None for anything else."""
    while name and name not in known:
        name = name.rpartition('.')[0]
    return name or None


@cache
def import_graph() -> dict[str, frozenset[str]]:
    graph = {}
    for name, path in modules().items():
        named = imported_names(path.read_text(), name, is_package=path.stem == '__init__')
        targets = {resolve(target, modules()) for target in named}
        graph[name] = frozenset(target for target in targets if target and target != name)
    return graph


def cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def reachable(graph: dict[str, frozenset[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def within(name: str, packages: Iterable[str]) -> bool:
    return any(name == package or name.startswith(package + '.') for package in packages)


# -- the checks can fail: each finder sees what it must ------------------------------------------------------------


def test_the_finders_see_lazy_and_type_only_imports_and_find_cycles() -> None:
    source = (
        'from typing import TYPE_CHECKING\n'
        'if TYPE_CHECKING:\n    from .b import Thing\n'
        'def later():\n    import demos.bench.clients\n    from .. import rules\n'
    )
    assert {'demos.bench.clients', 'lesson.pages.b', 'lesson.pages.b.Thing', 'lesson', 'lesson.rules'} <= (
        imported_names(source, 'lesson.pages.a', is_package=False)
    )
    assert resolve('demos.bench.clients.Client', ['demos.bench', 'demos.bench.clients']) == 'demos.bench.clients'
    graph = {'a': frozenset({'b'}), 'b': frozenset({'c'}), 'c': frozenset({'a'}), 'd': frozenset({'a'})}
    assert cycles(graph) == [['a', 'b', 'c']]
    assert cycles({**graph, 'c': frozenset()}) == []
    assert reachable(graph, 'd') == {'a', 'b', 'c'}


def test_the_graph_covers_both_packages() -> None:
    graph = import_graph()
    assert {'lesson.app', 'lesson.rules.quiz', 'demos.protocol.frames', 'demos.server.echo_server'} <= set(graph)
    assert 'demos.protocol.frames' in reachable(graph, 'demos.server.echo_server')


# -- the house's rules ----------------------------------------------------------------------------------------------


def test_the_pure_layers_load_no_server_machinery() -> None:
    """Each module of lesson.rules and demos.protocol imported in turn in a fresh interpreter; whatever server
    machinery appears is charged to the module whose import brought it in."""
    pure = [name for name in modules() if within(name, PURE)]
    code = (
        'import importlib, json, sys\n'
        'brought = {}\n'
        f'for name in {pure!r}:\n'
        '    before = set(sys.modules)\n'
        '    importlib.import_module(name)\n'
        '    brought[name] = sorted(set(sys.modules) - before)\n'
        'print(json.dumps(brought))\n'
    )
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    brought = json.loads(done.stdout)
    assert set(brought) == set(pure) and len(pure) >= 15
    offending = {name: [m for m in loaded if within(m, SERVER_MACHINERY)] for name, loaded in brought.items()}
    assert {name: found for name, found in offending.items() if found} == {}


def test_no_import_cycles_lazy_or_type_only_included() -> None:
    assert cycles(import_graph()) == []


def test_demos_never_imports_lesson() -> None:
    graph = import_graph()
    wrong = {name: sorted(t for t in graph[name] if within(t, ['lesson'])) for name in graph if within(name, ['demos'])}
    assert {name: targets for name, targets in wrong.items() if targets} == {}


def test_the_echo_server_never_imports_the_benchmark() -> None:
    graph = import_graph()
    server = [name for name in graph if within(name, ['demos.server'])]
    wrong = {name: sorted(t for t in reachable(graph, name) if within(t, ['demos.bench'])) for name in server}
    assert {name: targets for name, targets in wrong.items() if targets} == {}


def test_the_rules_import_nothing_from_the_layers_above() -> None:
    above = ['lesson.pages', 'lesson.web', 'lesson.storage', 'lesson.teaching', 'lesson.panels', 'lesson.app']
    graph = import_graph()
    rules = [name for name in graph if within(name, ['lesson.rules'])]
    wrong = {name: sorted(t for t in reachable(graph, name) if within(t, above)) for name in rules}
    assert {name: targets for name, targets in wrong.items() if targets} == {}
