"""The rulebook: every rule the services refuse with, its sentence, and the tests that prove it.

``docs/domain.md`` explains the programme in prose and ends with this table, generated between two markers so it
cannot drift: a rule renamed, added or left without a test shows in the table, and a unit test fails until the
document is regenerated (``python -m tests.support.rulebook``).

A test *proves* a rule when the rule's name appears as a string in it — in its body, its decorators (a
``parametrize`` case), or a module-level constant it uses.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "domain.md"
BEGIN, END = "<!-- rules:begin -->", "<!-- rules:end -->"
SERVICE_CODE = ("services/registry", "services/grants", "services/training", "services/gateway", "shared")
REFUSING = {"RuleViolated", "NotYours", "ValidationFailed", "refuse", "invalid"}
RULE = re.compile(r"[a-z_]+\.[a-z_.]+|concurrency")


def raised_rules(folder: Path) -> set[str]:
    """Every rule named where a refusal is made: ``RuleViolated("rule", …)``, ``ValidationFailed(field, "rule", …)``,
    a local ``refuse("rule", …)``, or ``rule="…"`` of any error."""
    rules = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in REFUSING:
                rules |= {arg.value for arg in node.args[:2] if isinstance(arg, ast.Constant)
                          and isinstance(arg.value, str) and RULE.fullmatch(arg.value)}
            rules |= {keyword.value.value for keyword in node.keywords if keyword.arg == "rule"
                      and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)}
    return rules


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def proving_tests(tests: Path) -> dict[str, list[str]]:
    """Each string found in a test (or in a constant or helper of its module it names), mapped to the tests
    (``path::name``) it appears in."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(tests.rglob("test_*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        constants: dict[str, set[str]] = {}
        for node in module.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = _strings(node)
            elif isinstance(node, ast.FunctionDef) and not node.name.startswith("test_"):
                constants[node.name] = _strings(node)  # a helper of the module's tests: what it asserts, they prove
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                strings = _strings(node).union(*(constants.get(name, set()) for name in _names(node)))
                for string in strings:
                    found[string].add(f"{path.relative_to(ROOT)}::{node.name}")
    return {string: sorted(ids) for string, ids in found.items()}


def table() -> str:
    from services.gateway.console.refusals import SENTENCES  # the console's words for a rule, in English

    rules = set().union(*(raised_rules(ROOT / folder) for folder in SERVICE_CODE))
    proofs = proving_tests(ROOT / "tests")
    lines = ["| rule | what the office is told | proved by |", "| --- | --- | --- |"]
    for rule in sorted(rules):
        sentence = SENTENCES.get(rule, "").replace("|", "\\|") or "(an operator's tool: the CLI's message)"
        tests = proofs.get(rule, [])
        shown = "<br>".join(f"`{test}`" for test in tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3
                                                                    else "")
        lines.append(f"| `{rule}` | {sentence} | {shown or '**no test yet**'} |")
    return "\n".join(lines)


def document_with_table(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    DOC.write_text(document_with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
