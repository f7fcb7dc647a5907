"""The README's two newcomer commands stay true: CI runs the test command verbatim."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_app_and_test_commands_near_the_top():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.index("```bash") < 1500
    commands = readme_commands()
    assert len(commands) == 2
    assert "posecoach" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()
