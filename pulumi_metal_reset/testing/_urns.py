"""URNs as the engine writes and reads them: ``urn:pulumi:<stack>::<project>::<type>::<name>``.

``sdk/go/common/resource/urn/urn.go`` (``New``, ``QualifiedType``, ``Type``, ``Name``) and
``sdk/go/common/resource/stack.go`` (``DefaultRootStackURN``), v3.259.0. The type part of a
child's URN is its parents' types joined with ``$`` (:meth:`._deployment.Deployment.make_urn`).
"""

from __future__ import annotations

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
#: The type of the default provider every Python dynamic resource uses (named ``default``).
DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-python"


def make_urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    """``urn.New`` with the ``$``-joined type already built."""
    return f"urn:pulumi:{stack}::{project}::{qualified_type}::{name}"


def root_stack_urn(stack: str, project: str) -> str:
    """``DefaultRootStackURN``: the stack resource ``<project>-<stack>``."""
    return make_urn(stack, project, ROOT_STACK_TYPE, f"{project}-{stack}")


def default_provider_urn(stack: str, project: str) -> str:
    """The URN of the default provider of dynamic resources."""
    return make_urn(stack, project, DYNAMIC_PROVIDER_TYPE, "default")


def qualified_type(urn: str) -> str:
    """The URN's type part: the parents' types and the resource's, joined with ``$``."""
    return urn.split("::")[2] if urn.count("::") >= 3 else ""


def urn_type(urn: str) -> str:
    """The resource type of a URN (the last type in a ``$``-joined chain)."""
    return qualified_type(urn).rsplit("$", 1)[-1]


def urn_name(urn: str) -> str:
    """``Name``: everything after the third ``::``, so a name may itself hold ``::``."""
    return urn.split("::", 3)[-1]
