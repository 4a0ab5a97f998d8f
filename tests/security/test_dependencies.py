"""Dependencies are locked and audited (issue 15, item 8).

The locks (requirements/*.lock, `make lock`) pin every transitive dependency with its hashes, and pin exactly what
pyproject.toml pins. The audit (`make audit`, part of `make lint`) fails on a known vulnerability, and fails too
when it cannot read the vulnerability data for a locked release — pip-audit on its own skips such a package and
passes. The audit tests run `make audit` itself, so they prove the command the Makefile runs.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
RUNTIME_LOCK, DEV_LOCK = REPO / "requirements" / "runtime.lock", REPO / "requirements" / "dev.lock"

# CVE-2018-18074 (requests sends the Authorization header on to a redirect's http:// host), fixed in 2.20.0.
VULNERABLE = ("requests==2.19.0"
              " --hash=sha256:421cfc8d9dde7d6aff68196420afd86b88c65d77d8da9cf83f4ecad785d7b9d6"
              " --hash=sha256:cc408268d0e21589bcc2b2c248e42932b8c4d112f499c12c92e99e2178a6134c\n")
ITS_IDS = ("PYSEC-2018-28", "GHSA-x84v-xcm2-53pg", "CVE-2018-18074")
NOT_ON_PYPI = f"berdaya-no-such-package==0.0.1 --hash=sha256:{'0' * 64}\n"
UNREADABLE = "could not be audited"  # pip-audit's words for a release whose vulnerability data it could not read


def locked(lock: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) for each requirement of a pip-compile lock."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    entries = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *options = line.split()
        name, version = requirement.split("==")
        entries[canonicalize_name(name)] = (version, sum(option.startswith("--hash=sha256:") for option in options))
    return entries


def pinned(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in map(Requirement, requirements):
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"pyproject.toml pins every dependency exactly: {requirement}"
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_the_locks_pin_what_pyproject_pins_and_hash_every_file():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, dev = locked(RUNTIME_LOCK), locked(DEV_LOCK)
    expected = [("runtime.lock", runtime, pinned(project["dependencies"])),
                ("dev.lock", dev, pinned(project["dependencies"] + project["optional-dependencies"]["dev"])),
                ("dev.lock", dev, {name: version for name, (version, _) in runtime.items()})]
    disagreements = [f"{lock}: {name} {entries.get(name, ('missing',))[0]}, wanted {version}"
                     for lock, entries, pins in expected for name, version in pins.items()
                     if entries.get(name, (None,))[0] != version]
    assert disagreements == [], "pyproject.toml and the locks disagree: run `make lock`"
    unhashed = [name for entries in (runtime, dev) for name, (_, hashes) in entries.items() if hashes == 0]
    assert unhashed == []
    assert {"nameko", "kombu", "eventsourcing", "psycopg"} <= set(runtime) and "pytest" not in runtime
    assert {"pip-audit", "pip-tools", "pytest", "nameko"} <= set(dev)


def audit(lock_text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`make audit` of a lock with these lines (-o: never rebuild the venv from inside a test)."""
    lock = tmp_path / "audited.lock"
    lock.write_text(lock_text, encoding="utf-8")
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "audit", f"AUDIT_LOCK={lock}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def unreadable(result: subprocess.CompletedProcess) -> str | None:
    lines = [line for line in result.stderr.splitlines() if UNREADABLE in line]
    return lines[0] if lines else None


@pytest.mark.pypi
def test_the_audit_fails_when_it_cannot_read_a_releases_vulnerability_data(tmp_path):
    result = audit(NOT_ON_PYPI, tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert unreadable(result) and "audit FAILED" in result.stderr


@pytest.mark.pypi
def test_the_audit_fails_on_a_vulnerable_pin_and_names_the_vulnerability(tmp_path):
    result = audit(VULNERABLE, tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    if reason := unreadable(result):
        pytest.skip(f"NOT PROVED: the audit failed, but because PyPI's vulnerability data is out of reach here: "
                    f"{reason}")
    assert "requests" in result.stdout and any(id_ in result.stdout for id_ in ITS_IDS), result.stdout


@pytest.mark.pypi
def test_no_locked_dependency_has_a_known_vulnerability(tmp_path):
    result = audit(DEV_LOCK.read_text(encoding="utf-8"), tmp_path)
    if reason := unreadable(result):
        pytest.skip(f"NOT AUDITED: PyPI's vulnerability data is out of reach here (`make audit` fails): {reason}")
    assert result.returncode == 0, result.stdout + result.stderr
