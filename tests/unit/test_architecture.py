"""The house rules, checked: services never import each other; domain modules do no I/O."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Services never import each other KEPT" in result.stdout
    assert "Domain modules are pure: no I/O libraries KEPT" in result.stdout


def test_the_independence_contract_names_every_service():
    # A new service folder must join the contract, or it could import the others unnoticed.
    pyproject = (ROOT / "pyproject.toml").read_text()
    services = sorted(p.name for p in (ROOT / "services").iterdir()
                      if (p / "service.py").exists())
    for service in services:
        assert f'"services.{service}"' in pyproject, f"services.{service} missing from the import contracts"
