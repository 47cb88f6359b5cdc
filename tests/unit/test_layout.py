"""The house rules of bot/, providers/ and storage/, read from the source with `ast`.

bot/ is organised in rooms (docs/ARCHITECTURE.md). A room may import only rooms at a lower
level, plus the top files it is allowed; rooms on the same level don't import each other;
no module takes part in an import cycle. Every import counts: at module level, inside a
function, and under `if TYPE_CHECKING:` (a type-only import still ties the two rooms
together for a reader, and a cycle of them is still a cycle).

Each failure names the file, the line and the import, and the rule it breaks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "providers", "storage")

#: The files of bot/ that are no room: wiring (app, __main__) and what every room shares.
TOP_FILES = ("bot", "bot.__main__", "bot.app", "bot.config", "bot.services")

#: Each room's level (a room imports only lower levels); None: imports no other room.
LEVELS: dict[str, int | None] = {
    "schedule": 1,
    "media": 1,
    "engine": 2,
    "compose": 3,
    "accounts": 3,
    "ops": 3,
    "ui": 4,
    "admin": 4,
    "handlers": 5,
    "api": 5,
    "demo": None,
}

#: The top files each room (or top file) may import, beyond the rooms below it.
#: `bot` is the package itself (its __init__ runs on every import).
TOP_ALLOWED: dict[str, set[str]] = {
    **{room: {"bot", "bot.config"} for room in ("schedule", "media", "engine")},
    **{
        room: {"bot", "bot.config", "bot.services"}
        for room in ("compose", "accounts", "ops", "ui", "admin", "handlers", "api")
    },
    "demo": set(),
    "bot": set(),
    "bot.config": {"bot"},
    "bot.services": {"bot", "bot.config"},
}
#: What the top files may import of the rooms: services.py only what no room depends on
#: (it reaches the engine through Protocols the engine satisfies); app and __main__ wire
#: everything.
TOP_ROOMS: dict[str, set[str]] = {
    "bot": set(),
    "bot.config": set(),
    "bot.services": {"schedule", "media"},
    "bot.app": set(LEVELS),
    "bot.__main__": set(LEVELS),
}

#: handlers/ is one room in sub-rooms; a sub-room imports only those listed for it, and no
#: sub-room imports the modules directly in handlers/ (the graph, the gate, the commands),
#: which may import every sub-room.
HANDLER_SUBROOMS: dict[str, set[str]] = {
    "compose": set(),
    "platforms": set(),
    "edit": {"compose"},
    "posts": {"compose"},
    "admin": set(),
    "automation": set(),
}

#: Libraries a room must not import.
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "schedule": ("telegram.ext",),
    "engine": ("telegram.ext",),
}

MAX_LINES = 450
MAX_MODULES = 12


@dataclass(frozen=True)
class Import:
    source: str  #: the importing module
    path: Path
    line: int
    target: str  #: the imported module (the longest known prefix of what is named)
    text: str  #: the statement as written
    type_only: bool  #: under `if TYPE_CHECKING:`

    def where(self) -> str:
        note = " (under TYPE_CHECKING)" if self.type_only else ""
        return f"{self.path.relative_to(ROOT)}:{self.line}: `{self.text}`{note}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.relative_to(ROOT).parts:
                continue  # Alembic's scripts: run by Alembic, imported by nobody
            found[_module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str) -> str | None:
    """The module of ours `name` refers to (a module, or a name inside one); None if not
    ours."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    source = path.read_text()
    tree = ast.parse(source, str(path))
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from visit(stmt, True)
                for stmt in child.orelse:
                    yield from visit(stmt, type_only)
            else:
                yield from visit(child, type_only)

    def visit(node: ast.AST, type_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            text = " ".join((ast.get_source_segment(source, node) or "").split())
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    package = package[: len(package) - node.level + 1]
                    base = ".".join([*package, *([base] if base else [])])
                names = [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                top = name.split(".")[0]
                if top not in PACKAGES:
                    # A library: only its name matters (the forbidden ones).
                    yield Import(module, path, node.lineno, name, text, type_only)
                    continue
                target = _resolve(name)
                if target is not None and target != module:
                    yield Import(module, path, node.lineno, target, text, type_only)
        else:
            yield from walk(node, type_only)

    yield from walk(tree, False)


@cache
def imports() -> tuple[Import, ...]:
    return tuple(item for module, path in modules().items() for item in _imports_of(module, path))


def ours(item: Import) -> bool:
    return item.target.split(".")[0] in PACKAGES


def room_of(module: str) -> str | None:
    """ "engine" for bot.engine.runner (and for bot/engine/__init__.py); the module itself for
    a top file; None outside bot/, and for a module lying loose in bot/ (in no room)."""
    parts = module.split(".")
    if parts[0] != "bot" or len(parts) < 2:
        return module if module in TOP_FILES else None
    if module in TOP_FILES:
        return module
    path = modules().get(module)
    loose = len(parts) == 2 and (path is None or path.name != "__init__.py")
    return None if loose else parts[1]


def _may_import(source_room: str, target_room: str) -> bool:
    if source_room in TOP_FILES:
        if target_room in TOP_FILES:
            return target_room in TOP_ALLOWED.get(source_room, set()) or source_room in (
                "bot.app",
                "bot.__main__",
            )
        return target_room in TOP_ROOMS[source_room]
    if target_room in TOP_FILES:
        return target_room in TOP_ALLOWED[source_room]
    level, other = LEVELS[source_room], LEVELS[target_room]
    if level is None or other is None:
        return False
    return other < level


def _rule(source_room: str) -> str:
    if source_room in TOP_FILES:
        allowed = sorted(TOP_ALLOWED.get(source_room, set()) | TOP_ROOMS[source_room])
        return f"{source_room} may import only: {', '.join(allowed) or 'no room'}"
    level = LEVELS[source_room]
    if level is None:
        return f"{source_room}/ imports no other room"
    lower = sorted(room for room, other in LEVELS.items() if other is not None and other < level)
    allowed = sorted(TOP_ALLOWED[source_room])
    return (
        f"{source_room}/ (level {level}) may import only rooms below it "
        f"({', '.join(lower) or 'none'}) and {', '.join(allowed)}"
    )


def test_every_module_of_bot_is_in_a_room_or_a_top_file() -> None:
    strays = [
        str(path.relative_to(ROOT))
        for module, path in modules().items()
        if module.startswith("bot.") and room_of(module) is None
    ]
    unknown = sorted(
        {
            f"bot/{room}/"
            for module in modules()
            if (room := room_of(module)) is not None
            and room not in TOP_FILES
            and room not in LEVELS
        }
    )
    assert not strays, f"modules of bot/ in no room (move them into one): {strays}"
    assert not unknown, f"rooms the layout test doesn't know (give them a level): {unknown}"


def test_rooms_import_only_downwards() -> None:
    wrong = []
    for item in imports():
        if not ours(item):
            continue
        source_room, target_room = room_of(item.source), room_of(item.target)
        source_top, target_top = item.source.split(".")[0], item.target.split(".")[0]
        if source_top in ("providers", "storage"):
            if target_top != source_top:
                wrong.append(f"{item.where()}: {source_top}/ never imports {target_top}/")
            continue
        if source_room is None or target_room is None or source_room == target_room:
            continue
        if not _may_import(source_room, target_room):
            target = target_room if target_room in TOP_FILES else f"{target_room}/"
            wrong.append(
                f"{item.where()}: imports {target} against the rooms' direction: "
                f"{_rule(source_room)}"
            )
    assert not wrong, "imports against the allowed direction:\n" + "\n".join(wrong)


def test_forbidden_libraries() -> None:
    wrong = [
        f"{item.where()}: {room}/ must not import {library}"
        for item in imports()
        if (room := room_of(item.source)) in FORBIDDEN_LIBRARIES
        for library in FORBIDDEN_LIBRARIES[room]
        if item.target == library or item.target.startswith(f"{library}.")
    ]
    assert not wrong, "\n".join(wrong)


def _handler_subroom(module: str) -> str | None:
    """ "compose" for bot.handlers.compose.preview; "" for a module directly in handlers/."""
    parts = module.split(".")
    if parts[:2] != ["bot", "handlers"] or len(parts) < 3:
        return None
    return parts[2] if len(parts) > 3 else ""


def test_handler_subrooms_import_in_one_direction() -> None:
    wrong = []
    for item in imports():
        source, target = _handler_subroom(item.source), _handler_subroom(item.target)
        if source is None or target is None or source == "" or source == target:
            continue
        allowed = HANDLER_SUBROOMS.get(source)
        if allowed is None:
            wrong.append(f"{item.where()}: handlers/{source}/ is a sub-room the test doesn't know")
        elif target == "":
            wrong.append(
                f"{item.where()}: handlers/{source}/ imports a module directly in handlers/ "
                "(those wire the sub-rooms; sub-rooms never import them)"
            )
        elif target not in allowed:
            wrong.append(
                f"{item.where()}: handlers/{source}/ may import only "
                f"{', '.join(f'handlers/{r}/' for r in sorted(allowed)) or 'no other sub-room'}"
            )
    assert not wrong, "\n".join(wrong)


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {module: set() for module in modules()}
    for item in imports():
        if ours(item):
            graph[item.source].add(item.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                strong(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return found


def _loops(component: list[str]) -> list[list[Import]]:
    """The shortest loop through each module of `component` (breadth first), each loop once,
    as the imports that make it."""
    members = set(component)
    edges: dict[str, list[Import]] = {}
    for item in imports():
        if item.source in members and item.target in members:
            edges.setdefault(item.source, []).append(item)
    loops: list[list[Import]] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    for start in component:
        paths: dict[str, list[Import]] = {start: []}
        queue = [start]
        loop: list[Import] | None = None
        while queue and loop is None:
            node = queue.pop(0)
            for item in edges.get(node, []):
                if item.target == start:
                    loop = [*paths[node], item]
                    break
                if item.target not in paths:
                    paths[item.target] = [*paths[node], item]
                    queue.append(item.target)
        key = frozenset((item.source, item.target) for item in loop or ())
        if loop and key not in seen:
            seen.add(key)
            first = min(range(len(loop)), key=lambda i: loop[i].source)
            loops.append(loop[first:] + loop[:first])  # told from its first module by name
    return loops


def test_no_import_cycles() -> None:
    messages = []
    for component in _cycles():
        for loop in _loops(component):
            chain = " -> ".join([loop[0].source, *(item.target for item in loop)])
            through = "\n".join(f"    {item.where()}" for item in loop)
            messages.append(
                f"import cycle: {chain}\n  closed by {loop[-1].where()}\n  through:\n{through}"
            )
    assert not messages, "\n".join(messages)


def test_sizes() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for module, path in modules().items()
        if module.startswith("bot.") and not module.startswith("bot.handlers")
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    ]
    crowded = []
    for package in sorted({path.parent for path in modules().values() if path.parts}):
        if package.relative_to(ROOT).parts[0] != "bot" or package == ROOT / "bot":
            continue
        count = len([p for p in package.glob("*.py") if p.name != "__init__.py"])
        if count > MAX_MODULES:
            crowded.append(f"{package.relative_to(ROOT)}/: {count} modules")
    assert not long, f"modules of bot/ outside handlers/ over {MAX_LINES} lines: {long}"
    assert not crowded, f"rooms with more than {MAX_MODULES} modules: {crowded}"


def test_every_room_says_what_it_holds() -> None:
    silent = [
        str(path.relative_to(ROOT))
        for module, path in modules().items()
        if module.startswith("bot.") and path.name == "__init__.py"
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not silent, f"rooms whose __init__.py has no docstring: {silent}"


def test_the_demo_imports_nothing_of_crier() -> None:
    """bot/demo/ imitates an outside service (api.telegram.org): beyond the rooms rule, it
    imports neither providers/ nor storage/ nor a top file of bot/."""
    wrong = [
        f"{item.where()}: demo/ imports {item.target}"
        for item in imports()
        if room_of(item.source) == "demo" and ours(item) and room_of(item.target) != "demo"
    ]
    assert not wrong, "\n".join(wrong)
