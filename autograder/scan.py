"""Read a submission's code for signs of tampering, so a person can look at it.

The scan never changes a score (scores come from ``verify``); it explains
flags: "answer conv2d_forward, line 3: assigns to numpy.allclose".
"""

import ast

# Attributes and names whose use in an answer means the code reaches into the
# test machinery, the interpreter or the machine rather than computing an answer.
SUSPICIOUS_ATTRIBUTES = {
    "set_custom_exc": "replaces IPython's exception handler",
    "showtraceback": "touches IPython's traceback display",
    "excepthook": "replaces sys.excepthook",
    "input_transformers_cleanup": "rewrites the code of later cells",
    "input_transformers_post": "rewrites the code of later cells",
    "ast_transformers": "rewrites the code of later cells",
    "_exit": "kills the process (os._exit)",
    "kill": "sends signals to processes",
    "fork": "forks the process",
    "meta_path": "changes how modules are imported",
    "modules": "edits sys.modules",
    "_getframe": "inspects the caller's frames",
    "getsource": "reads source code of other modules",
    "register": "registers IPython event callbacks",
}
SUSPICIOUS_MODULES = {
    "ctypes", "subprocess", "multiprocessing", "importlib", "signal", "sqlite3", "gc",
    "builtins", "inspect", "threading", "socket", "shutil", "IPython", "torch",
}
SUSPICIOUS_CALLS = {
    "exec": "runs code built at run time (exec)",
    "eval": "evaluates code built at run time (eval)",
    "compile": "compiles code at run time",
    "__import__": "imports modules dynamically",
    "get_ipython": "reaches into the IPython kernel",
    "globals": "edits the notebook's global names",
    "setattr": "sets attributes dynamically",
    "open": "opens files",
}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Finder(ast.NodeVisitor):
    def __init__(self, protected_names):
        self.protected = protected_names
        self.findings = []
        self.depth = 0

    def note(self, node, text):
        self.findings.append((getattr(node, "lineno", 0), text))

    def visit_FunctionDef(self, node):
        if self.depth == 0 and node.name in self.protected:
            self.note(node, f"redefines {node.name}, a name the tests use")
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def _check_target(self, target, node):
        if isinstance(target, ast.Attribute):
            self.note(node, f"assigns to {_dotted(target) or target.attr}")
        elif isinstance(target, ast.Name) and self.depth == 0 and target.id in self.protected:
            self.note(node, f"rebinds {target.id}, a name the tests use")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node)

    def visit_Assign(self, node):
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if isinstance(node.target, ast.Attribute):
            self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                self.note(node, f"deletes {_dotted(target)}")
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            root = alias.name.split(".")[0]
            if root in SUSPICIOUS_MODULES or alias.name in ("scipy.signal", "scipy.ndimage", "coursekit.nn"):
                self.note(node, f"imports {alias.name}")
            name = alias.asname or root
            if self.depth == 0 and name in self.protected and self.protected[name] != _import_binding(alias):
                self.note(node, f"rebinds {name}, a name the tests use")
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if module.split(".")[0] in SUSPICIOUS_MODULES or module.startswith(("scipy.signal", "scipy.ndimage", "coursekit.nn")):
            self.note(node, f"imports from {module}")
        for alias in node.names:
            name = alias.asname or alias.name
            if self.depth == 0 and name in self.protected and self.protected[name] != _from_binding(node, alias):
                self.note(node, f"rebinds {name}, a name the tests use")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in SUSPICIOUS_ATTRIBUTES:
            self.note(node, f"uses {_dotted(node) or node.attr}: {SUSPICIOUS_ATTRIBUTES[node.attr]}")
        elif node.attr.startswith("__") and node.attr.endswith("__") and node.attr not in ("__init__", "__name__", "__class__", "__doc__"):
            self.note(node, f"uses the special attribute {node.attr}")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in ("__builtins__", "__loader__", "__spec__"):
            self.note(node, f"uses {node.id}")
        self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
            self.note(node, SUSPICIOUS_CALLS[node.func.id])
        self.generic_visit(node)


def _import_binding(alias):
    """What ``import a.b`` or ``import a.b as c`` binds its name to."""
    return ("import", alias.name if alias.asname else alias.name.split(".")[0])


def _from_binding(node, alias):
    return ("from", node.module or "", node.level, alias.name)


def defined_names(sources):
    """Top-level names bound by some code (the setup cells' imports and constants): ``{name: binding}``.

    The binding of an import says what it imports, so an answer cell that imports the same thing
    again (``import numpy as np`` after the setup's own) is no rebinding; other names map to None.
    """
    names = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.update({a.asname or a.name.split(".")[0]: _import_binding(a) for a in node.names})
            elif isinstance(node, ast.ImportFrom):
                names.update({a.asname or a.name: _from_binding(node, a) for a in node.names})
            elif isinstance(node, ast.Assign):
                names.update({t.id: None for t in node.targets if isinstance(t, ast.Name)})
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names[node.name] = None
    return names


def scan(cells, protected_names):
    """Findings ``[(cell label, line, text)]`` for ``cells`` = ``[(label, source)]``."""
    findings = []
    for label, source in cells:
        # IPython syntax (magics, shell escapes) is suspicious in an answer too.
        lines = source.splitlines()
        for number, line in enumerate(lines, 1):
            if line.lstrip().startswith(("%", "!")):
                findings.append((label, number, f"uses IPython syntax {line.strip()[:40]!r}"))
        python = "\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in lines)
        try:
            tree = ast.parse(python)
        except SyntaxError as error:
            findings.append((label, error.lineno or 0, f"does not parse: {error.msg}"))
            continue
        finder = _Finder(protected_names)
        finder.visit(tree)
        findings.extend((label, line, text) for line, text in finder.findings)
    return findings
