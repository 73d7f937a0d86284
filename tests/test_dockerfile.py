"""The container image's promises, checked without a Docker engine: the database stays on the
/data volume whatever the .env says, dependencies are a layer of their own, and the health
check asks the bot. (`.ci/run` also builds the image when an engine is available.)"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> str:
    """The (last) instruction `name`, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.*)$", joined, flags=re.MULTILINE)
    assert found, f"no {name} in the Dockerfile"
    return str(found[-1])


def entrypoint_sees(tmp_path: Path, env: dict[str, str]) -> str:
    """Run the image's ENTRYPOINT with a stand-in `paperboy` that prints its PAPERBOY_DB."""
    fake = tmp_path / "paperboy"
    fake.write_text('#!/bin/sh\nprintf "%s" "$PAPERBOY_DB"\n', encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    command = json.loads(instruction("ENTRYPOINT"))
    base = {"PATH": f"{tmp_path}:{os.environ['PATH']}"}
    done = subprocess.run(
        [*command, "run"], env={**base, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "/data/paperboy.db"),
        ({"PAPERBOY_DB": ""}, "/data/paperboy.db"),  # `--env-file .env` from .env.example
        ({"PAPERBOY_DB": "/data/other.db"}, "/data/other.db"),
    ],
)
def test_the_database_stays_on_the_volume(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    assert entrypoint_sees(tmp_path, env) == expected


def test_env_example_leaves_the_database_to_the_image() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^PAPERBOY_DB=$", example, flags=re.MULTILINE)


def test_dependencies_are_a_layer_apart_from_the_source(tmp_path: Path) -> None:
    lines = DOCKERFILE.splitlines()
    first_source = next(i for i, line in enumerate(lines) if line.startswith("COPY bot"))
    install = next(i for i, line in enumerate(lines) if "requirements.txt" in line)
    assert install < first_source
    # The one-liner that lists the dependencies reads them from pyproject.toml.
    command = re.search(r'python -c "(.*?)"', DOCKERFILE)
    assert command is not None
    script = command.group(1).replace("/tmp/requirements.txt", str(tmp_path / "req.txt"))
    subprocess.run(["python3", "-c", script], cwd=ROOT, check=True)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert (tmp_path / "req.txt").read_text().splitlines() == deps


def test_the_health_check_asks_the_bot() -> None:
    check = instruction("HEALTHCHECK")
    assert "paperboy health" in " ".join(shlex.split(check.replace('"', " ")))
    assert "PAPERBOY_DB:-/data/paperboy.db" in check
