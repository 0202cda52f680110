"""What of a module runs when it is loaded: its module-level statements (not ``if __name__
== "__main__"``), class bodies, and what those call in the module (functions, a class's
``__init__``, methods by name, a thread's target, a function handed to ``atexit.register``
or decorated with it, a timer, a pool or ``map``, one called through ``globals()``,
``getattr`` or a literal table of functions, decorators, default values, metaclasses and
``__init_subclass__``), a few calls deep."""

from __future__ import annotations

import ast


def runs_on_load(tree: ast.Module, depth: int = 3, hooks: tuple[ast.AST, ...] = ()) -> set[int]:
    """Ids of the calls and imports that run when the module runs: module level (class
    bodies too, not ``if __name__ == "__main__"``), the bodies of module functions called
    from there (and of functions defined in those bodies, called there), and ``hooks``
    (install command methods, which run when the module serves an install)."""
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
    # `from atexit import register as _r`: a runner by the name this module gives it, as
    # "atexit.register".
    modules.update(
        {
            alias.asname or alias.name: f"{node.module}.{alias.name}"
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and not node.level
            for alias in node.names
        }
    )
    # `HANDLERS = {"a": setup}` then `HANDLERS["a"]()`: what a literal table of the
    # module's functions holds.
    tables = {
        node.targets[0].id: names
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        for names in (_named_values(node.value),)
        if names
    }
    found: set[int] = set()
    entered: set[str] = set()
    reach = _Reach(functions, classes, entered)
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
                        reach.enter(decorator.id, following)
                    else:
                        stack.append(decorator)
                    if not isinstance(node, ast.ClassDef) and _runs_what_it_is_handed(
                        decorator, modules
                    ):
                        # `@atexit.register`: what it decorates is handed to a runner.
                        reach.enter(node.name, following)
                if not isinstance(node, ast.ClassDef):
                    # Default values are computed when the function is defined.
                    stack.extend(node.args.defaults)
                    stack.extend(d for d in node.args.kw_defaults if d is not None)
                    continue
                # Defining a class runs its metaclass and its bases' `__init_subclass__`.
                for base in node.bases:
                    if isinstance(base, ast.Name) and base.id in classes:
                        for item in classes[base.id].body:
                            if (
                                isinstance(item, ast.FunctionDef)
                                and item.name == "__init_subclass__"
                            ):
                                following.extend(item.body)
                for keyword in node.keywords:
                    if keyword.arg == "metaclass" and isinstance(keyword.value, ast.Name):
                        reach.enter(keyword.value.id, following)
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.add(id(node))
                continue
            if isinstance(node, ast.If) and is_main_guard(node.test):
                stack.extend(node.orelse)
                continue
            if isinstance(node, ast.For) and isinstance(node.iter, ast.List | ast.Tuple):
                # `for step in (collect, send): step()`: each runs.
                for name in _named_values(node.iter):
                    reach.enter(name, following)
            if isinstance(node, ast.Call):
                found.add(id(node))
                func = node.func
                for name in _runs(node, modules, tables):
                    reach.enter(name, following)
                if isinstance(func, ast.Attribute) and "." + func.attr not in entered:
                    entered.add("." + func.attr)
                    for method in methods.get(func.attr, ()):
                        following.extend(method.body)  # type: ignore[attr-defined]
            stack.extend(ast.iter_child_nodes(node))
        frontier = following
        if not frontier:
            break
    return found


class _Reach:
    """The module's functions and classes, and which of them the walk has entered."""

    def __init__(
        self,
        functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
        classes: dict[str, ast.ClassDef],
        entered: set[str],
    ) -> None:
        self.functions = functions
        self.classes = classes
        self.entered = entered

    def enter(self, name: str, following: list[ast.AST]) -> None:
        """Queue on ``following`` what calling ``name`` runs (once): a function's body, or
        what making an instance of a class runs."""
        if name in self.entered:
            return
        self.entered.add(name)
        if name in self.functions:
            body = self.functions[name].body
            following.extend(body)
            # A function defined inside it (`def _inner(): ...; _inner()`) can be called by
            # name from there on.
            for item in body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(item.name, item)
        elif name in self.classes:
            for item in self.classes[name].body:
                if isinstance(item, ast.FunctionDef) and item.name in _MADE:
                    following.extend(item.body)


#: What making an instance of a class runs (``__del__`` when it is dropped).
_MADE = frozenset({"__init__", "__new__", "__post_init__", "__del__"})
#: Builtins that call the function handed to them first.
_APPLIERS = frozenset({"map", "filter"})
#: Builtins that return the module's names as a dict (``globals()["main"]()``).
_NAMESPACES = frozenset({"globals", "locals", "vars"})


def _runs(call: ast.Call, modules: dict[str, str], tables: dict[str, list[str]]) -> list[str]:
    """The module's functions (or classes) a call runs, by name: what it calls
    (``main()``), a thread's ``target``, a function handed to a runner (``atexit.register``,
    a timer, a pool) or to ``map``/``filter``, ``globals()["main"]()``,
    ``getattr(module, "main")()``, an entry of a literal table of functions
    (``HANDLERS["a"]()``)."""
    func = call.func
    names = [
        k.value.id for k in call.keywords if k.arg == "target" and isinstance(k.value, ast.Name)
    ]
    if isinstance(func, ast.Name):
        names.append(func.id)
        if func.id in _APPLIERS and call.args and isinstance(call.args[0], ast.Name):
            names.append(call.args[0].id)
    elif isinstance(func, ast.Subscript):
        key = func.slice
        if isinstance(func.value, ast.Name) and func.value.id in tables:
            names += tables[func.value.id]
        elif (
            isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id in _NAMESPACES
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            names.append(key.value)
    elif (
        isinstance(func, ast.Call)
        and isinstance(func.func, ast.Name)
        and func.func.id == "getattr"
        and len(func.args) >= 2
        and isinstance(func.args[1], ast.Constant)
        and isinstance(func.args[1].value, str)
    ):
        names.append(func.args[1].value)
    if _runs_what_it_is_handed(func, modules):
        # `atexit.register(main)`, `Timer(5, main)`, `pool.submit(main)`.
        names += [a.id for a in call.args if isinstance(a, ast.Name)]
    return names


def _named_values(node: ast.AST) -> list[str]:
    """The names a list, tuple or dict literal holds as its items or values."""
    if isinstance(node, ast.Dict):
        items = node.values
    elif isinstance(node, ast.List | ast.Tuple):
        items = node.elts
    else:
        return []
    return [item.id for item in items if isinstance(item, ast.Name)]


#: Calls that run a function handed to them (at exit, after a delay, on a thread or a pool):
#: ``module.function`` by both names, a method of any object by its own.
_RUNNERS = frozenset(
    {("atexit", "register"), ("threading", "Timer"), ("_thread", "start_new_thread")}
)
_RUNNER_METHODS = frozenset({"submit", "run_in_executor", "call_soon", "call_later"})


def _runs_what_it_is_handed(func: ast.expr, modules: dict[str, str]) -> bool:
    if isinstance(func, ast.Name):
        module, _, name = modules.get(func.id, "").rpartition(".")
        return func.id == "Timer" or (module, name) in _RUNNERS
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
