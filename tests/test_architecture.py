"""Layers import in one direction; the provider process loads only what its first call needs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pulumi_metal_reset"

# In layer order: each may import only those before it (TYPE_CHECKING imports included).
DELIVERY_MODULES = (
    "models",
    "scrub",
    "ledger",
    "outcome",
    "errors",
    "sinks",
    "lifecycle",
    "__init__",
)

# module (relative to the package) -> top-level imports it must never make
FORBIDDEN: dict[str, set[str]] = {
    "schedule": {"pulumi", "requests", "urllib3", "pydantic", "http", "socket"},
    "endpoint": {"pulumi", "requests", "urllib3", "http", "socket"},
    "errors": {"pulumi", "requests", "urllib3", "http"},
    "api_models": {"pulumi", "requests", "urllib3", "http"},
    "inputs": {"pulumi", "requests", "urllib3", "http"},
    "settings": {"pulumi", "requests", "urllib3", "http"},
    "rotation": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "client": {"pulumi"},
    # Typed state and the unknown sentinel: plain data the provider process loads before its
    # first call, so no pydantic models to build either.
    "state": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    "unknowns": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    "credentials": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    # What check judges before a call: settings resolution only, never a connection.
    "preflight": {"pulumi", "requests", "urllib3", "http", "socket"},
    # The rotation steps: the DELETE comes in as a callable, the delivery code lazily.
    "reset": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    # Review tooling: reads exports offline, so no Pulumi, no gRPC and no HTTP stack.
    **{
        module: {"pulumi", "requests", "urllib3", "http", "socket", "grpc"}
        for module in (
            "audit/rules",
            "audit/export",
            "audit/fields",
            "audit/findings",
            "audit/report",
            "audit/command",
            "cli",
            "__main__",
        )
    },
    "deliver": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "delivery/__init__": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "delivery/models": {"pulumi", "requests", "urllib3", "http"},
    "delivery/scrub": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "delivery/ledger": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "delivery/outcome": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "delivery/errors": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "delivery/sinks": {"pulumi", "requests", "urllib3", "http"},
    "delivery/lifecycle": {"pulumi", "requests", "urllib3", "http", "pydantic"},
}
INTERNAL_FORBIDDEN: dict[str, set[str]] = {
    "client": {"provider", "resource", "inputs", "settings", "rotation", "emulator", "testing"},
    # delivery/models builds on inputs (its Failure), so inputs never imports delivery.
    "inputs": {"client", "provider", "resource", "emulator", "testing", "delivery", "deliver"},
    "settings": {"client", "provider", "resource", "emulator", "testing"},
    "provider": {"resource", "emulator", "testing"},
    "resource": {"emulator", "testing", "client"},
    # The rotation decision compares typed state; it never depends on validation (issue 9 §4).
    "rotation": {"inputs", "settings", "client", "provider", "resource", "emulator", "testing"},
    "state": {"inputs", "settings", "client", "provider", "resource", "rotation", "credentials"},
    "unknowns": {"inputs", "settings", "client", "provider", "resource", "state", "rotation"},
    "credentials": {"inputs", "settings", "client", "provider", "resource", "state", "rotation"},
    "preflight": {"inputs", "client", "provider", "resource", "emulator", "testing"},
    "reset": {"inputs", "settings", "client", "provider", "resource", "emulator", "testing"},
    **{
        module: {"client", "provider", "resource", "settings", "inputs", "emulator", "testing"}
        for module in ("audit/rules", "audit/export", "audit/findings", "audit/command", "cli")
    },
    "deliver": {"provider", "resource", "client", "settings", "inputs", "emulator", "testing"},
    **{
        f"delivery/{module}": {
            "deliver",
            "provider",
            "resource",
            "client",
            "settings",
            "rotation",
            "state",
            "emulator",
            "testing",
            # Validation is the one layer below that delivery builds on: models reports its
            # failures as inputs.Failure; the I/O and decision layers need none of it.
            *(() if module == "models" else ("inputs",)),
        }
        for module in DELIVERY_MODULES
    },
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_third_party_layering(module: str) -> None:
    tops = {name.split(".")[0] for name in _imports(PACKAGE / f"{module}.py")}
    assert not tops & FORBIDDEN[module], f"{module} imports {tops & FORBIDDEN[module]}"


@pytest.mark.parametrize("module", sorted(INTERNAL_FORBIDDEN))
def test_internal_layering(module: str) -> None:
    ours = {
        name.split(".")[1]
        for name in _imports(PACKAGE / f"{module}.py")
        if name.startswith("pulumi_metal_reset.")
    }
    assert not ours & INTERNAL_FORBIDDEN[module], f"{module} imports {ours}"


@pytest.mark.parametrize("module", DELIVERY_MODULES)
def test_delivery_layers_import_only_downwards(module: str) -> None:
    prefix = "pulumi_metal_reset.delivery"
    found = {
        "__init__" if name == prefix else name.split(".")[2]
        for name in _imports(PACKAGE / "delivery" / f"{module}.py")
        if name == prefix or name.startswith(prefix + ".")
    }
    allowed = set(DELIVERY_MODULES[: DELIVERY_MODULES.index(module)])
    assert found <= allowed, f"delivery/{module} imports {found - allowed}"


def test_nothing_outside_testing_imports_the_emulator() -> None:
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).parts
        if relative[0] in ("emulator", "testing"):
            continue
        assert not any("emulator" in name for name in _imports(path)), path


def test_provider_import_does_not_load_the_http_stack() -> None:
    """Unpickling the provider imports its module; requests loads only on the first API call."""
    code = (
        "import sys, pulumi_metal_reset.provider as p;"
        "print(sorted(m for m in ('requests', 'urllib3', 'email_validator', "
        "'pulumi_metal_reset.client', 'pulumi_metal_reset.emulator') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_delivery_code_loads_only_when_a_resource_delivers() -> None:
    """The provider starts without it; `outcome` (for diff) and `lifecycle` load no sinks and
    build no delivery models: those load only when a resource has `deliver_to`."""
    code = (
        "import sys, pulumi_metal_reset.provider;"
        "before = sorted(m for m in sys.modules if 'delivery' in m or m == 'tenacity');"
        "import pulumi_metal_reset.delivery.outcome, pulumi_metal_reset.delivery.lifecycle;"
        "after = sorted(m for m in ('tenacity', 'pulumi_metal_reset.delivery.models',"
        " 'pulumi_metal_reset.delivery.sinks') if m in sys.modules);"
        "print(before, after)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] []"


def test_package_ships_py_typed() -> None:
    assert (PACKAGE / "py.typed").exists()


def test_testing_exports_resolve() -> None:
    import pulumi_metal_reset.testing as testing

    assert set(testing.__all__) == set(testing._LAZY)
    for name in testing.__all__:
        assert getattr(testing, name) is not None
