"""The stack as ``pulumi stack export`` prints it: ``apitype.UntypedDeployment`` version 3.

Field names and omissions follow ``sdk/go/common/apitype/core.go`` (``DeploymentV3``,
``ResourceV3``, ``SecretV1``) and ``SerializeResource``/``SerializePropertyValue`` in
``pkg/resource/stack/deployment.go`` (v3.259.0). Choices the test engine makes, because it has no
backend and no secrets provider:

* a secret is ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  "ciphertext": "test-engine:withheld"}``: the shape of an encrypted secret, with its value left
  out (nothing is encrypted, so no ciphertext could be honest); ``show_secrets=True`` writes
  ``"plaintext"`` as ``pulumi stack export --show-secrets`` does;
* there is no ``secrets_providers`` section;
* the default provider every dynamic resource uses, ``pulumi:providers:pulumi-python::default``,
  is not kept in the test engine's state; the export adds it (ID derived from the stack URN, so
  it is the same on every export) and refers to it from each custom resource's ``provider``;
* ``manifest.version`` names the test engine; ``magic`` is its SHA-256, as the CLI computes it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from ._state import ResourceState, StackState
from ._urns import DYNAMIC_PROVIDER_TYPE, ROOT_STACK_TYPE, default_provider_urn, root_stack_urn
from ._wire import SECRET_SIG, SIG_KEY, is_secret

ENGINE_VERSION = "pulumi-metal-reset-test-engine"
WITHHELD = "test-engine:withheld"


def serialize_value(value: Any, show_secrets: bool) -> Any:
    """``SerializePropertyValue``: secrets as a signature object, nulls kept, rest as is.
    ``show_secrets`` writes a secret's ``"plaintext"`` (``--show-secrets``; plan files always)."""
    if is_secret(value):
        if show_secrets:
            inner = json.dumps(serialize_value(value.get("value"), True), separators=(",", ":"))
            return {SIG_KEY: SECRET_SIG, "plaintext": inner}
        return {SIG_KEY: SECRET_SIG, "ciphertext": WITHHELD}
    if isinstance(value, dict):
        return {k: serialize_value(v, show_secrets) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [serialize_value(v, show_secrets) for v in value]
    return value


def manifest() -> dict[str, str]:
    """``apitype.ManifestV1`` for files the test engine writes (exports and plans): now, and
    the test engine's name as the version with its SHA-256 as ``magic``."""
    return {
        "time": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "magic": hashlib.sha256(ENGINE_VERSION.encode()).hexdigest(),
        "version": ENGINE_VERSION,
    }


def _resource(res: ResourceState, provider_ref: str, show_secrets: bool) -> dict[str, Any]:
    """``SerializeResource``: the fields a ``ResourceV3`` keeps, empty ones omitted."""
    out: dict[str, Any] = {"urn": res.urn, "custom": res.custom}
    optional: dict[str, Any] = {
        "delete": res.delete,
        "id": res.id,
    }
    out.update({k: v for k, v in optional.items() if v})
    out["type"] = res.type
    if res.inputs:
        out["inputs"] = serialize_value(res.inputs, show_secrets)
    if res.outputs:
        out["outputs"] = serialize_value(res.outputs, show_secrets)
    rest: dict[str, Any] = {
        "parent": res.parent,
        "protect": res.protect,
        "dependencies": res.dependencies,
        "provider": provider_ref if res.custom else "",
        "propertyDependencies": res.property_dependencies,
        "pendingReplacement": res.pending_replacement,
        "additionalSecretOutputs": res.additional_secret_outputs,
        "importID": res.import_id,
        "retainOnDelete": res.retain_on_delete,
        "created": res.created,
        "modified": res.modified,
        "ignoreChanges": res.ignore_changes,
        "replaceOnChanges": res.replace_on_changes,
    }
    out.update({k: v for k, v in rest.items() if v})
    return out


def export_deployment(state: StackState, *, show_secrets: bool = False) -> dict[str, Any]:
    """``{"version": 3, "deployment": {...}}`` for the stack's current state."""
    resources: list[dict[str, Any]] = []
    stack_urn = root_stack_urn(state.stack, state.project)
    provider_urn = default_provider_urn(state.stack, state.project)
    provider_id = str(uuid.uuid5(uuid.NAMESPACE_URL, stack_urn))
    provider_ref = f"{provider_urn}::{provider_id}"
    provider = {
        "urn": provider_urn,
        "custom": True,
        "id": provider_id,
        "type": DYNAMIC_PROVIDER_TYPE,
    }
    needs_provider = any(r.custom for r in state.resources)
    for res in state.resources:
        resources.append(_resource(res, provider_ref, show_secrets))
        if needs_provider and res.type == ROOT_STACK_TYPE:
            resources.append(provider)
            needs_provider = False
    if needs_provider:  # no stack resource in state: the provider goes first
        resources.insert(0, provider)
    for entry in resources:
        if entry.get("type") == ROOT_STACK_TYPE and state.outputs:
            entry["outputs"] = serialize_value(state.outputs, show_secrets)
    deployment: dict[str, Any] = {"manifest": manifest()}
    if resources:
        deployment["resources"] = resources
    deployment["metadata"] = {}
    return {"version": 3, "deployment": deployment}
