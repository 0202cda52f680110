"""What of a module runs when it is loaded: its module-level statements (not ``if __name__
== "__main__"``), class bodies, and what those call in the module (functions, a class's
``__init__``, methods by name, a thread's target, a function handed to ``atexit.register``,
a timer or a pool, decorators), a few calls deep."""

from __future__ import annotations

import ast


def runs_on_load(tree: ast.Module, depth: int = 3, hooks: tuple[ast.AST, ...] = ()) -> set[int]:
    """Ids of the calls that run when the module runs: module level (class bodies too, not
    ``if __name__ == "__main__"``), the bodies of module functions called from there (and of
    functions defined in those bodies, called there), and ``hooks`` (install command
    methods, which run when the module serves an install)."""
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    # `Reporter().send()`: a class made at module level runs its __init__, and a method
    # called there runs too (by name: which object it is called on is not followed).
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    methods: dict[str, list[ast.AST]] = {}
    for node in classes.values():
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                methods.setdefault(item.name, []).append(item)
    # `import atexit as _a`: the runners' modules by the names this module gives them.
    modules = {
        alias.asname or alias.name: alias.name
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    found: set[int] = set()
    entered: set[str] = set()
    frontier: list[ast.AST] = list(tree.body) + [s for hook in hooks for s in hook.body]  # type: ignore[attr-defined]
    for _ in range(depth + 1):
        following: list[ast.AST] = []
        stack = frontier
        while stack:
            node = stack.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                # A decorator runs when what it decorates is defined: `@track` calls track.
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Name) and decorator.id in functions:
                        if decorator.id not in entered:
                            entered.add(decorator.id)
                            following.extend(functions[decorator.id].body)
                    else:
                        stack.append(decorator)
                if not isinstance(node, ast.ClassDef):
                    continue
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.If) and is_main_guard(node.test):
                stack.extend(node.orelse)
                continue
            if isinstance(node, ast.Call):
                found.add(id(node))
                func = node.func
                for keyword in node.keywords:
                    # `Thread(target=init).start()`: the target runs too.
                    if keyword.arg == "target" and isinstance(keyword.value, ast.Name):
                        func = keyword.value
                if _runs_what_it_is_handed(func, modules):
                    # `atexit.register(main)`, `Timer(5, main)`, `pool.submit(main)`.
                    handed = [a for a in node.args if isinstance(a, ast.Name)]
                    func = next((a for a in handed if a.id in functions), func)
                if isinstance(func, ast.Name) and func.id in functions and func.id not in entered:
                    entered.add(func.id)
                    body = functions[func.id].body
                    following.extend(body)
                    # A function defined inside it (`def _inner(): ...; _inner()`) can be
                    # called by name from there on.
                    for item in body:
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                            functions.setdefault(item.name, item)
                elif isinstance(func, ast.Name) and func.id in classes and func.id not in entered:
                    entered.add(func.id)
                    for item in classes[func.id].body:
                        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                            following.extend(item.body)
                elif isinstance(func, ast.Attribute) and "." + func.attr not in entered:
                    entered.add("." + func.attr)
                    for method in methods.get(func.attr, ()):
                        following.extend(method.body)  # type: ignore[attr-defined]
            stack.extend(ast.iter_child_nodes(node))
        frontier = following
        if not frontier:
            break
    return found


#: Calls that run a function handed to them (at exit, after a delay, on a thread or a pool):
#: ``module.function`` by both names, a method of any object by its own.
_RUNNERS = frozenset(
    {("atexit", "register"), ("threading", "Timer"), ("_thread", "start_new_thread")}
)
_RUNNER_METHODS = frozenset({"submit", "run_in_executor", "call_soon", "call_later"})


def _runs_what_it_is_handed(func: ast.expr, modules: dict[str, str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id == "Timer"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in _RUNNER_METHODS:
        return True
    if not isinstance(func.value, ast.Name):
        return False
    return (modules.get(func.value.id, func.value.id), func.attr) in _RUNNERS


def is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )
