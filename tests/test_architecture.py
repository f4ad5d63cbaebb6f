"""Layers import in one direction; the provider process loads only what its first call needs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fresh_python import fresh_python

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

# module or subpackage (relative to the package) -> top-level imports it must never make
FORBIDDEN: dict[str, set[str]] = {
    "schedule": {"pulumi", "requests", "urllib3", "pydantic", "http", "socket"},
    "endpoint": {"pulumi", "requests", "urllib3", "http", "socket"},
    "operations": {"pulumi", "requests", "urllib3", "pydantic", "http", "socket"},
    "errors": {"pulumi", "requests", "urllib3", "http"},
    "api_models": {"pulumi", "requests", "urllib3", "http"},
    # pydantic-core validates here; pydantic's Python layer stays off the first calls' path.
    "connection": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "inputs": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "settings": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    "provider": {"requests", "urllib3", "http", "pydantic"},
    "rotation": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    # Typed state and the unknown sentinel: plain data the provider process loads before its
    # first call, so no pydantic models to build either.
    "state": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    "unknowns": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    "credentials": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    # What check judges before a call: settings resolution only, never a connection.
    "preflight": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    # The rotation steps: the DELETE comes in as a callable, the delivery code lazily.
    "reset": {"pulumi", "requests", "urllib3", "http", "socket", "pydantic"},
    # Review tooling: reads exports offline, so no Pulumi, no gRPC and no HTTP stack.
    **{
        module: {"pulumi", "requests", "urllib3", "http", "socket", "grpc"}
        for module in ("audit", "cli", "__main__")
    },
    "deliver": {"pulumi", "requests", "urllib3", "http", "pydantic"},
    # Delivery runs commands and writes files; pydantic only where it validates (models, sinks).
    **{
        f"delivery/{module}": {"pulumi", "requests", "urllib3", "http", "pydantic"}
        for module in ("__init__", "scrub", "ledger", "outcome", "errors", "lifecycle")
    },
    "delivery/models": {"pulumi", "requests", "urllib3", "http"},
    "delivery/sinks": {"pulumi", "requests", "urllib3", "http"},
    # The client parses bodies through api_models and never validates: no pydantic of its own.
    "client": {"pulumi", "pydantic"},
    "emulator": {"pulumi", "requests", "urllib3", "pydantic"},
}
INTERNAL_FORBIDDEN: dict[str, set[str]] = {
    "client": {
        "provider",
        "resource",
        "inputs",
        "settings",
        "rotation",
        "schedule",
        "emulator",
        "testing",
    },
    "connection": {"client", "settings", "inputs", "provider", "resource", "emulator", "testing"},
    # delivery/models builds on inputs (its Failure), so inputs never imports delivery.
    "inputs": {"client", "provider", "resource", "emulator", "testing", "delivery", "deliver"},
    "settings": {"client", "provider", "resource", "emulator", "testing"},
    "provider": {"resource", "emulator", "testing"},
    "resource": {"emulator", "testing", "client"},
    "emulator": {"client", "settings", "inputs", "provider", "resource", "testing"},
    # The rotation decision compares typed state; it never depends on validation.
    "rotation": {"inputs", "settings", "client", "provider", "resource", "emulator", "testing"},
    "state": {"inputs", "settings", "client", "provider", "resource", "rotation", "credentials"},
    "unknowns": {"inputs", "settings", "client", "provider", "resource", "state", "rotation"},
    "credentials": {"inputs", "settings", "client", "provider", "resource", "state", "rotation"},
    "preflight": {"inputs", "client", "provider", "resource", "emulator", "testing"},
    "reset": {"inputs", "settings", "client", "provider", "resource", "emulator", "testing"},
    "audit": {"client", "provider", "resource", "settings", "inputs", "emulator", "testing"},
    "cli": {"client", "provider", "resource", "settings", "inputs", "emulator", "testing"},
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


def _files(module: str) -> list[Path]:
    """The module's file, or every file of the subpackage of that name."""
    package = PACKAGE / module
    return sorted(package.rglob("*.py")) if package.is_dir() else [PACKAGE / f"{module}.py"]


def _imports(path: Path) -> set[str]:
    """Every import in the file, wherever it is: top level, in functions, under TYPE_CHECKING."""
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
    for path in _files(module):
        tops = {name.split(".")[0] for name in _imports(path)}
        assert not tops & FORBIDDEN[module], f"{path.name} imports {tops & FORBIDDEN[module]}"


@pytest.mark.parametrize("module", sorted(INTERNAL_FORBIDDEN))
def test_internal_layering(module: str) -> None:
    for path in _files(module):
        ours = {
            name.split(".")[1] for name in _imports(path) if name.startswith("pulumi_metal_reset.")
        }
        assert not ours & INTERNAL_FORBIDDEN[module], f"{path.name} imports {ours}"


#: The README's development layout, in order: each module imports only modules after it.
LAYER_ORDER = (
    "resource", "provider", "reset", "preflight", "rotation", "inputs", "settings", "credentials",
    "client", "connection", "api_models", "errors", "operations", "state", "schedule",
    "unknowns", "endpoint",
)  # fmt: skip


def test_the_readme_lists_the_layers_in_this_order() -> None:
    """The README's Development block is the map a reader trusts: it names the layers top down."""
    readme = (PACKAGE.parent / "README.md").read_text()
    block = readme.split("## Development", 1)[1].split("```", 2)[1]
    named = re.findall(r"\b([a-z_]+)(?:\.py|/)", block)
    listed = [name for name in named if name in LAYER_ORDER]
    assert listed == list(LAYER_ORDER)


def test_layers_import_only_downwards() -> None:
    for position, module in enumerate(LAYER_ORDER):
        for path in _files(module):
            ours = {
                name.split(".")[1]
                for name in _imports(path)
                if name.startswith("pulumi_metal_reset.")
            }
            upwards = ours & set(LAYER_ORDER[:position])
            assert not upwards, f"{path.name} ({module}) imports {upwards}, listed above it"


# --- the client does not validate settings ----------------------------------------------------


def test_client_modules_import_no_validation() -> None:
    """`settings.connection_for` validates and normalises, once; the client reads the result.

    FORBIDDEN and INTERNAL_FORBIDDEN keep pydantic and settings out of every client file."""
    for path in _files("client"):
        assert "pulumi_metal_reset.endpoint.normalise_api_url" not in _imports(path), path


def test_client_import_loads_no_validation_layer() -> None:
    code = (
        "import sys, pulumi_metal_reset.client;"
        "print(sorted(m for m in ('pulumi_metal_reset.settings', 'pulumi_metal_reset.inputs', "
        "'email_validator', 'pulumi') if m in sys.modules))"
    )
    out = fresh_python(code)
    assert out.strip() == "[]"


def test_client_takes_a_connection_as_it_is() -> None:
    """Values that connection_for would refuse pass through untouched: nothing is re-checked."""
    from pulumi_metal_reset.client import MetalClient
    from pulumi_metal_reset.connection import Connection

    unchecked = Connection(
        api_url="http://Not-Normalised.example:1/x/",
        api_url_source="a test",
        token=SecretStr(" not header safe "),
        token_source="a test",
        timeout=-1.0,
        max_retries=-5,
        max_retry_wait=float("nan"),
    )
    assert MetalClient(unchecked).api_url == "http://Not-Normalised.example:1/x/"


# --- no import circle, counting TYPE_CHECKING and function-level imports ---------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it names in any import statement (relative ones too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(base: str, name: str | None = None) -> str | None:
        if name is not None and f"{base}.{name}" in modules:
            return f"{base}.{name}"  # `from package import submodule`
        while base and base not in modules:
            base = base.rpartition(".")[0]  # `import a.b.attr` names module a.b
        return base or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges.update(
                    resolve(a.name)
                    for a in node.names
                    if a.name == PACKAGE.name or a.name.startswith(PACKAGE.name + ".")
                )
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                if base == PACKAGE.name or base.startswith(PACKAGE.name + "."):
                    edges.update(resolve(base, a.name) for a in node.names)
        graph[module] = {e for e in edges if e is not None and e != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_anywhere_in_the_package() -> None:
    assert _cycles(_import_graph()) == []


def test_the_circle_finder_finds_circles() -> None:
    """The check above is not vacuous: the same finder reports a planted circle."""
    graph = _import_graph()
    assert "pulumi_metal_reset.provider" in graph["pulumi_metal_reset"]  # TYPE_CHECKING seen
    assert "pulumi_metal_reset.client._outcomes" in graph["pulumi_metal_reset.client._client"]
    graph["pulumi_metal_reset.errors"] = graph["pulumi_metal_reset.errors"] | {
        "pulumi_metal_reset.client._client"
    }
    assert any("pulumi_metal_reset.errors" in cycle for cycle in _cycles(graph))


def test_the_emulator_handler_depends_on_a_protocol_not_on_the_server() -> None:
    names = _imports(PACKAGE / "emulator" / "handler.py")
    assert not {n for n in names if n.startswith("pulumi_metal_reset.emulator.server")}
    assert "typing.Protocol" in names


@pytest.mark.parametrize("module", ["metal_api", "control_api", "wire"])
def test_the_emulator_apis_know_nothing_of_sockets(module: str) -> None:
    """Serving the Metal API and serving the control API are jobs apart from the HTTP handler."""
    names = _imports(PACKAGE / "emulator" / f"{module}.py")
    assert not names & {"socket", "socketserver", "http.server", "selectors"}
    siblings = {
        name.split(".")[2]
        for name in names
        if name.startswith("pulumi_metal_reset.emulator.") and len(name.split(".")) > 2
    }
    assert not siblings & ({"handler", "server", "metal_api", "control_api"} - {module})


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
    out = fresh_python(code)
    assert out.strip() == "[]"


def test_the_first_create_builds_no_response_model() -> None:
    """A create that succeeds reads no body, so it does not pay for the body models; the first
    rotation does."""
    code = (
        "import sys\n"
        "from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator\n"
        "from pulumi_metal_reset.client import MetalClient\n"
        "from pulumi_metal_reset.settings import connection_for\n"
        "with Emulator() as emu:\n"
        "    config = {'equinix:endpoint': emu.url, 'equinix:authToken': DEV_TOKEN}\n"
        "    client = MetalClient(connection_for({}, config, {}))\n"
        "    client.create_password_reset_token('a@example.com')\n"
        "    print('pulumi_metal_reset.api_models' in sys.modules)\n"
        "    client.reset_password()\n"
        "    print('pulumi_metal_reset.api_models' in sys.modules)\n"
    )
    out = fresh_python(code)
    assert out.split() == ["False", "True"]


def test_package_ships_py_typed() -> None:
    assert (PACKAGE / "py.typed").exists()


def test_testing_exports_resolve() -> None:
    import pulumi_metal_reset.testing as testing

    assert set(testing.__all__) == set(testing._LAZY)
    for name in testing.__all__:
        assert getattr(testing, name) is not None


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
    out = fresh_python(code)
    assert out.strip() == "[] []"


TESTING = PACKAGE / "testing"
# The test engine stands in for Pulumi's engine: it knows nothing of this package's product.
TESTING_ENGINE_MODULES = sorted(
    p.relative_to(TESTING).with_suffix("").as_posix()
    for p in TESTING.rglob("*.py")
    if p.relative_to(TESTING).as_posix() not in ("__init__.py", "fixtures.py", "faketime.py")
)


@pytest.mark.parametrize("module", TESTING_ENGINE_MODULES)
def test_test_engine_imports_no_product_module(module: str) -> None:
    ours = {
        name.split(".")[1]
        for name in _imports(TESTING / f"{module}.py")
        if name.startswith("pulumi_metal_reset.")
    }
    assert ours <= {"testing"}, f"testing/{module} imports {ours - {'testing'}}"


@pytest.mark.parametrize(
    "path", sorted(TESTING.rglob("*.py")), ids=lambda p: p.relative_to(TESTING).as_posix()
)
def test_testing_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 400, f"{path.name}: split it by concern"
