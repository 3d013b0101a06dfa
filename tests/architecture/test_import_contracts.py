"""importlinter.ini passes on our tree, and each of its contracts fails on a violation.

The violations are built as a throwaway tree laid out like ours (config/, contexts/, finfactory/)
and linted with the project's own importlinter.ini, so a contract that stopped catching its
violation would fail here.
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))

LAYERS = "Layers: config > contexts > finfactory"
INDEPENDENT = "Contexts are independent"
NO_DRF = "Domain modules do not depend on DRF"
ACYCLIC = "No import cycles between sibling modules"


def lint(tree: Path) -> subprocess.CompletedProcess:
    shutil.copy(ROOT / "importlinter.ini", tree / "importlinter.ini")
    return subprocess.run(
        [LINT_IMPORTS, "--config", "importlinter.ini", "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_tree(base: Path, files: dict[str, str]) -> Path:
    skeleton = {
        "config/__init__.py": "",
        "contexts/__init__.py": "",
        "finfactory/__init__.py": "",
        "finfactory/money.py": "",
        "contexts/alpha/__init__.py": "",
        "contexts/alpha/models.py": "",
        "contexts/alpha/api.py": "from contexts.alpha import models\n",
        "contexts/beta/__init__.py": "",
        "contexts/beta/models.py": "",
        "contexts/beta/api.py": "from contexts.beta import models\n",
        "contexts/products/__init__.py": "",
        "contexts/products/workflows.py": "",
    }
    for relative, source in {**skeleton, **files}.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return base


def contract_status(output: str, contract_prefix: str) -> str:
    # lint-imports wraps long names; join the report back into one line per contract.
    flat = " ".join(output.split())
    start = flat.index(contract_prefix)
    for status in ("KEPT", "BROKEN"):
        position = flat.find(status, start)
        if position != -1 and all(
            other == status or flat.find(other, start) == -1 or flat.find(other, start) > position
            for other in ("KEPT", "BROKEN")
        ):
            return status
    raise AssertionError(f"no status for {contract_prefix!r} in:\n{output}")


def test_our_tree_keeps_every_contract():
    result = subprocess.run(
        [LINT_IMPORTS, "--config", "importlinter.ini"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_clean_throwaway_tree_keeps_every_contract(tmp_path):
    tree = write_tree(tmp_path, {"contexts/products/workflows.py": "from contexts.alpha import api\n"})

    result = lint(tree)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("violation", "files", "contract"),
    [
        ("kernel imports a context", {"finfactory/money.py": "import contexts.alpha.api\n"}, LAYERS),
        ("context imports config", {"contexts/alpha/api.py": "import config\n"}, LAYERS),
        ("kernel imports config", {"finfactory/money.py": "from config import settings\n"}, LAYERS),
        (
            "cross-context model import",
            {"contexts/alpha/services.py": "from contexts.beta.models import Thing\n"},
            INDEPENDENT,
        ),
        (
            "cross-context api import outside orchestration",
            {"contexts/alpha/services.py": "from contexts.beta import api\n"},
            INDEPENDENT,
        ),
        (
            "orchestration reaching past a context's api",
            {"contexts/products/workflows.py": "from contexts.alpha.models import Thing\n"},
            INDEPENDENT,
        ),
        ("DRF in models", {"contexts/alpha/models.py": "from rest_framework import serializers\n"}, NO_DRF),
        ("spectacular in api", {"contexts/beta/api.py": "import drf_spectacular\n"}, NO_DRF),
        (
            "DRF reached indirectly from services",
            {
                "contexts/alpha/services.py": "from contexts.alpha.rest import views\n",
                "contexts/alpha/rest/__init__.py": "",
                "contexts/alpha/rest/views.py": "import rest_framework\n",
            },
            NO_DRF,
        ),
        (
            "cycle between sibling modules",
            {
                "contexts/alpha/services.py": "from contexts.alpha import selectors\n",
                "contexts/alpha/selectors.py": "from contexts.alpha import services\n",
            },
            ACYCLIC,
        ),
    ],
)
def test_each_contract_catches_its_violation(tmp_path, violation, files, contract):
    tree = write_tree(tmp_path, files)

    result = lint(tree)

    assert result.returncode != 0, f"{violation} was not caught:\n{result.stdout}"
    assert contract_status(result.stdout, contract) == "BROKEN", result.stdout


def test_orchestration_calling_a_context_api_is_the_one_allowed_crossing(tmp_path):
    workflow = "from contexts.alpha import api\nfrom contexts.beta import api as beta_api\n"
    tree = write_tree(tmp_path, {"contexts/products/workflows.py": workflow})

    result = lint(tree)

    assert contract_status(result.stdout, INDEPENDENT) == "KEPT", result.stdout
