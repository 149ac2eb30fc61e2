"""The two README commands, .ci/run, pyproject.toml and environment.yml agree."""

import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def readme_commands():
    return [line.strip() for line in (REPO / "README.md").read_text().splitlines() if line.startswith("    python3 -m venv .venv && ")]


def test_readme_has_exactly_two_commands_main_job_and_tests():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert commands[0].endswith("python -m autograder demo")
    assert commands[1].endswith("python -m pytest")


def test_ci_runs_both_readme_commands_taken_from_the_readme(tmp_path):
    """.ci/run reads the two commands out of README.md: run its extraction and compare."""
    script = (REPO / ".ci" / "run").read_text()
    extraction = next(line for line in script.splitlines() if line.startswith("mapfile -t commands"))
    shell = f"cd {REPO} && {extraction} && printf '%s\\n' \"${{commands[@]}}\""
    import subprocess

    got = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True).stdout.splitlines()
    assert got == readme_commands()
    assert 'bash -euo pipefail -c "${commands[0]}"' in script and 'bash -euo pipefail -c "${commands[1]}"' in script


def _requirement_names(requirements):
    return {re.split(r"[<>=!~ ]", r.strip(), maxsplit=1)[0].lower(): r.replace(" ", "") for r in requirements}


def test_environment_yml_mirrors_the_pyproject_dependencies():
    """Everything `pip install -e '.[test]'` installs, the conda environment has too (the test extra included)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    text = (REPO / "environment.yml").read_text().split("dependencies:", 1)[1]
    listed = [line.strip()[2:] for line in text.splitlines()
              if line.strip().startswith("- ") and not line.strip().startswith(("- python", "- pip", "- -e"))]
    assert _requirement_names(listed) == wanted


def contract_document():
    """``{assignment id: {"notebook", "functions"}}`` as docs/COURSE_SPEC.md writes them: the course
    layout table, and the signatures that open each bullet under "## Graded exercises" / "### <id>"."""
    text = (REPO / "docs" / "COURSE_SPEC.md").read_text()
    layout = text.split("## Course layout", 1)[1].split("\n## ", 1)[0]
    contract = {a: {"notebook": nb, "functions": []}
                for a, nb in re.findall(r"^\| \d+ \| `(\w+)` \| `([\w.]+)` \|", layout, re.M)}
    graded = text.split("## Graded exercises", 1)[1].split("\n## ", 1)[0]
    for section in graded.split("\n### ")[1:]:
        assignment, body = section.split("\n", 1)
        for bullet in re.split(r"\n(?=- )", body):
            if bullet.startswith("- "):
                signatures = " ".join(bullet.split()).split(" \u2014 ", 1)[0]  # before the em dash: the names
                contract[assignment.strip()]["functions"] += re.findall(r"`(\w+)\(", signatures)
    written = text.split("## Written answers", 1)[1].split("\n## ", 1)[0] if "## Written answers" in text else ""
    for section in written.split("\n### ")[1:]:
        assignment, body = section.split("\n", 1)
        cells = re.findall(r"^- `(\w+)` \((\d+) points?\)", body, re.M)
        contract[assignment.strip()]["written"] = {grade_id: int(points) for grade_id, points in cells}
    return contract


def without_written(registry):
    """The registry as the shared contract of the nine notebooks has it (written answers came later, issue 14)."""
    return {a: {k: v for k, v in spec.items() if k != "written"} for a, spec in registry.items()}


def test_exercise_list_is_the_contracts():
    shared = REPO.parent / "shared" / "exercises.json"
    ours = json.loads((REPO / "autograder" / "exercises.json").read_text())
    if shared.exists():
        assert without_written(ours) == json.loads(shared.read_text())
    assert ours == contract_document()
    assert list(ours) == list(contract_document())  # course order


def test_the_contract_document_is_the_shared_one():
    shared = REPO.parent / "shared" / "COURSE_SPEC.md"
    if not shared.exists():
        pytest.skip("no ../shared/COURSE_SPEC.md beside this checkout to compare with")
    ours = (REPO / "docs" / "COURSE_SPEC.md").read_text()
    before, _, after = ours.partition("## Written answers")  # the repo's addition (issue 14): the rest is shared
    assert before + (after[after.index("\n## ") + 1:] if after else "") == shared.read_text(), \
        "docs/COURSE_SPEC.md differs from ../shared/COURSE_SPEC.md: copy the contract into the repo"
    assert json.loads((REPO / "docs" / "exercises.json").read_text()) == json.loads((REPO / "autograder" / "exercises.json").read_text())


def test_every_assignment_of_the_contract_has_its_source_notebook():
    ours = json.loads((REPO / "autograder" / "exercises.json").read_text())
    missing = [a for a, spec in ours.items() if not (REPO / "notebooks" / a / spec["notebook"]).exists()]
    assert not missing
