"""The engine's side of one run: the ResourceMonitor and Engine services, and the step logic.

This stands in for the Go engine's resource monitor, step generator and step executor, reduced to
what a Python dynamic provider sees: Configure once, Check/Diff with secrets stripped, Create /
Update / Delete only outside preview, create-before-delete replacement, deletes of resources the
program no longer registers, secret re-marking of outputs. Everything provider-specific stays in
the real ``python -m pulumi.dynamic`` server.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    resource_pb2,
    resource_pb2_grpc,
)

from ._state import ResourceState
from ._wire import (
    PropertyMap,
    annotate_secrets,
    changed_keys,
    from_struct,
    go_format,
    make_secret,
    strip_secrets,
    to_display,
    to_struct,
)
from .provider_server import ProviderServer

Op = Literal["create", "update", "replace", "same", "delete"]

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
_SEVERITIES = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


@dataclass
class Step:
    """One planned (preview) or executed (up/destroy) step for one resource."""

    urn: str
    type: str
    name: str
    op: Op
    #: Names of checked inputs that changed (old inputs vs new checked inputs), ``__`` keys hidden.
    diffs: list[str] = field(default_factory=list)
    #: The CLI's ``[diff: ...]`` entries: ``~key`` changed, ``+key`` added, ``-key`` removed.
    diff_marks: list[str] = field(default_factory=list)
    #: The resource's (planned) outputs; secrets as ``Secret``, unknowns as ``UNKNOWN``.
    outputs: dict[str, Any] = field(default_factory=dict)
    #: Why the step failed, when it did.
    error: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """A message the program logged through the Engine service (``pulumi.log``)."""

    severity: str
    message: str
    urn: str = ""

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


class Registered(NamedTuple):
    """What RegisterResource answers."""

    urn: str
    id: str
    outputs: PropertyMap


class StepFailed(Exception):
    """A step failed; the message is what the CLI would print for it."""


def _diff_marks(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    marks = []
    for key in changed_keys(olds, news):
        sign = "+" if key not in olds else "-" if key not in news else "~"
        marks.append(sign + key)
    return marks


def _parent_type(parent_urn: str) -> str:
    return parent_urn.split("::")[2] if parent_urn else ""


class Deployment:
    """One preview, up or destroy of one stack: the state in, the steps, the state out."""

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        dry_run: bool,
        config: Mapping[str, str],
        secret_keys: frozenset[str],
        old_resources: list[ResourceState],
        provider_factory: Callable[[], ProviderServer],
        call_timeout: float = 120.0,
    ) -> None:
        self.project = project
        self.stack = stack
        self.dry_run = dry_run
        self.config = dict(config)
        self.secret_keys = secret_keys
        self.old_resources = list(old_resources)
        self._old_live = {r.urn: r for r in old_resources if not r.delete}
        self._provider_factory = provider_factory
        self._call_timeout = call_timeout
        self._lock = threading.Lock()
        self._provider_lock = threading.Lock()
        self._provider: ProviderServer | None = None
        self._provider_error: str | None = None
        self.steps: list[Step] = []
        self.errors: list[str] = []
        self.logs: list[LogEntry] = []
        self.provider_calls: list[tuple[str, str]] = []
        #: Resources registered this run, in registration order (urn -> state).
        self.registered: dict[str, ResourceState] = {}
        self._seen: set[str] = set()
        #: Old resources to delete at the end: replaced ones (create-before-delete).
        self.replaced: list[ResourceState] = []
        self.stack_urn = self.make_urn("", ROOT_STACK_TYPE, f"{project}-{stack}")
        self.stack_outputs: PropertyMap = {}
        self.root_urn = ""

    # -- helpers ------------------------------------------------------------------------------

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: parent types joined with ``$``, the root stack's type left out."""
        parent_type = _parent_type(parent)
        qualified = type_
        if parent_type and parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    def _add_step(self, step: Step) -> None:
        with self._lock:
            self.steps.append(step)
            if step.error:
                self.errors.append(step.error)

    def log(self, entry: LogEntry) -> None:
        """Record a log message from the program."""
        with self._lock:
            self.logs.append(entry)

    def provider(self) -> ProviderServer:
        """The one provider server of this run, started and configured on first use."""
        with self._provider_lock:
            if self._provider_error is not None:
                raise StepFailed(self._provider_error)
            if self._provider is None:
                try:
                    server = self._provider_factory().start()
                except Exception as exc:
                    self._provider_error = f"could not start the dynamic provider: {exc}"
                    raise StepFailed(self._provider_error) from None
                self._provider = server
                args = {
                    key: make_secret(value) if key in self.secret_keys else value
                    for key, value in self.config.items()
                }
                request = provider_pb2.ConfigureRequest(
                    args=to_struct(args), acceptSecrets=True, acceptResources=True
                )
                self._call("Configure", "", server.stub.Configure, request)
            return self._provider

    def close(self) -> None:
        """Kill the provider server, if one was started."""
        with self._provider_lock:
            if self._provider is not None:
                self._provider.close()

    def provider_output(self) -> str:
        """What the provider process printed (stdout and stderr)."""
        return "" if self._provider is None else self._provider.output()

    def _call(self, method: str, urn: str, fn: Callable[..., Any], request: Any) -> Any:
        with self._lock:
            self.provider_calls.append((method, urn))
        try:
            return fn(request, timeout=self._call_timeout)
        except grpc.RpcError as exc:
            details = exc.details() or str(exc.code())
            raise StepFailed(details.rstrip("\n")) from None

    # -- registration -------------------------------------------------------------------------

    def register(self, request: resource_pb2.RegisterResourceRequest) -> Registered:
        """Handle one RegisterResource: the URN, ID and outputs to answer with."""
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if urn in self._seen:
                message = f"Duplicate resource URN '{urn}'; try giving it a unique name"
                self.errors.append(message)
                raise StepFailed(message)
            self._seen.add(urn)
        if request.custom:
            return self._register_custom(urn, request)
        return self._register_component(urn, request)

    def _register_component(
        self, urn: str, request: resource_pb2.RegisterResourceRequest
    ) -> Registered:
        inputs = from_struct(request.object)
        old = self._old_live.get(urn)
        new = ResourceState(
            urn=urn, type=request.type, custom=False, parent=request.parent, inputs=inputs
        )
        if old is not None:
            new.outputs = old.outputs
        diffs = changed_keys(old.inputs, inputs) if old is not None else []
        op: Op = "create" if old is None else "update" if diffs else "same"
        with self._lock:
            self.registered[urn] = new
        marks = _diff_marks(old.inputs, inputs) if old is not None else []
        self._add_step(Step(urn, request.type, request.name, op, diffs, marks))
        return Registered(urn, "", {})

    def _register_custom(
        self, urn: str, request: resource_pb2.RegisterResourceRequest
    ) -> Registered:
        type_, name = request.type, request.name
        old = self._old_live.get(urn)
        step = Step(urn, type_, name, "create" if old is None else "same")
        try:
            new, result_id = self._plan_and_apply(urn, request, old, step)
        except StepFailed as exc:
            message = f"{type_} resource '{name}': {exc}"
            step.error = message
            with self._lock:
                if old is not None:
                    self.registered[urn] = old  # a failed resource keeps its old state
            self._add_step(step)
            raise StepFailed(message) from None
        with self._lock:
            self.registered[urn] = new
        step.outputs = to_display(new.outputs)
        self._add_step(step)
        return Registered(urn, result_id, new.outputs)

    def _plan_and_apply(
        self,
        urn: str,
        request: resource_pb2.RegisterResourceRequest,
        old: ResourceState | None,
        step: Step,
    ) -> tuple[ResourceState, str]:
        type_, name = request.type, request.name
        if not type_.startswith(DYNAMIC_TYPE_PREFIX):
            raise StepFailed(
                f"the test engine runs only Python dynamic providers, not {type_!r} resources"
            )
        news = from_struct(request.object)
        if old is not None:
            for key in request.ignoreChanges:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        server = self.provider()
        stub = server.stub
        olds_in = old.inputs if old is not None else {}

        def run_check(olds: PropertyMap) -> PropertyMap:
            check = self._call(
                "Check",
                urn,
                stub.Check,
                provider_pb2.CheckRequest(
                    urn=urn,
                    name=name,
                    type=type_,
                    olds=to_struct(strip_secrets(olds)),
                    news=to_struct(strip_secrets(news)),
                    randomSeed=os.urandom(32),
                ),
            )
            if check.failures:
                lines = []
                for failure in check.failures:
                    if failure.property:
                        # The CLI prints the value as given, secret or not (NOTES §3).
                        value = go_format(strip_secrets(news.get(failure.property)))
                        lines.append(
                            f"property {failure.property} value {value} has a problem: "
                            f"{failure.reason}"
                        )
                    else:
                        lines.append(f"has a problem: {failure.reason}")
                raise StepFailed("\n".join(lines))
            return annotate_secrets(from_struct(check.inputs), news)

        checked = run_check(olds_in)

        def against_old(old: ResourceState, checked: PropertyMap) -> dict[str, Any]:
            """Diff and Update send the same fields: old outputs as olds, secrets stripped."""
            return {
                "id": old.id,
                "urn": urn,
                "name": name,
                "type": type_,
                "olds": to_struct(strip_secrets(old.outputs)),
                "news": to_struct(strip_secrets(checked)),
                "old_inputs": to_struct(strip_secrets(old.inputs)),
                "ignoreChanges": list(request.ignoreChanges),
            }

        delete_before_replace = request.deleteBeforeReplace
        if old is not None:
            diff = self._call(
                "Diff", urn, stub.Diff, provider_pb2.DiffRequest(**against_old(old, checked))
            )
            input_changes = changed_keys(old.inputs, checked)
            changes = diff.changes
            if changes == provider_pb2.DiffResponse.DIFF_UNKNOWN:
                changes = (
                    provider_pb2.DiffResponse.DIFF_SOME
                    if input_changes
                    else provider_pb2.DiffResponse.DIFF_NONE
                )
            replaces = list(diff.replaces)
            on_changes = set(request.replaceOnChanges)
            if changes == provider_pb2.DiffResponse.DIFF_SOME and on_changes:
                replaces += [k for k in input_changes if "*" in on_changes or k in on_changes]
            if changes == provider_pb2.DiffResponse.DIFF_NONE:
                step.op = "same"
            else:
                step.op = "replace" if replaces else "update"
                if replaces:
                    # Like the real engine (step_generator.go, "we need to recompute the default
                    # values"): a replacement is checked again with no old inputs, and Create
                    # gets those inputs.
                    checked = run_check({})
                    input_changes = changed_keys(old.inputs, checked)
                step.diffs = input_changes
                step.diff_marks = _diff_marks(old.inputs, checked)
            delete_before_replace = delete_before_replace or diff.deleteBeforeReplace

        secret_outs = set(request.additionalSecretOutputs)

        def finish_outputs(outs: PropertyMap) -> PropertyMap:
            outs = annotate_secrets(outs, checked)
            return {k: make_secret(v) if k in secret_outs else v for k, v in outs.items()}

        new = ResourceState(
            urn=urn,
            type=type_,
            custom=True,
            parent=request.parent,
            inputs=checked,
            delete_before_replace=delete_before_replace,
        )
        if step.op == "same":
            assert old is not None
            new.id = old.id
            new.outputs = finish_outputs(old.outputs)
            return new, new.id
        if self.dry_run:
            # supportsPreview=False: the planned state is the checked inputs.
            new.id = old.id if (old is not None and step.op == "update") else ""
            new.outputs = finish_outputs(dict(checked))
            if step.op == "replace" and old is not None:
                with self._lock:
                    self.replaced.append(old)
            return new, new.id
        if step.op == "update":
            assert old is not None
            resp = self._call(
                "Update", urn, stub.Update, provider_pb2.UpdateRequest(**against_old(old, checked))
            )
            new.id = old.id
            new.outputs = finish_outputs(from_struct(resp.properties))
            return new, new.id
        if step.op == "replace" and old is not None and delete_before_replace:
            self._delete_resource(old)
        resp = self._call(
            "Create",
            urn,
            stub.Create,
            provider_pb2.CreateRequest(
                urn=urn, name=name, type=type_, properties=to_struct(strip_secrets(checked))
            ),
        )
        new.id = resp.id
        new.outputs = finish_outputs(from_struct(resp.properties))
        if step.op == "replace" and old is not None and not delete_before_replace:
            with self._lock:
                self.replaced.append(old)
        return new, new.id

    def register_outputs(self, urn: str, outputs: PropertyMap) -> None:
        """RegisterResourceOutputs: the stack's exports, or a component's outputs."""
        with self._lock:
            if urn == self.stack_urn:
                self.stack_outputs = outputs
            elif urn in self.registered:
                self.registered[urn].outputs = outputs

    # -- deletes ------------------------------------------------------------------------------

    def _delete_resource(self, res: ResourceState) -> None:
        if not res.custom or self.dry_run:
            return
        server = self.provider()
        self._call(
            "Delete",
            res.urn,
            server.stub.Delete,
            provider_pb2.DeleteRequest(
                id=res.id,
                urn=res.urn,
                name=res.name,
                type=res.type,
                properties=to_struct(strip_secrets(res.outputs)),
                old_inputs=to_struct(strip_secrets(res.inputs)),
            ),
        )

    def _delete_step(self, res: ResourceState, *, show: bool = True) -> bool:
        """Delete one resource (or plan it in preview); False when the provider failed.

        ``show=False`` is for the old half of a replacement: the CLI shows it as part of the
        ``replace`` step, not as a resource of its own.
        """
        step = Step(res.urn, res.type, res.name, "delete")
        try:
            self._delete_resource(res)
        except StepFailed as exc:
            step.error = f"{res.type} resource '{res.name}': {exc}"
            self._add_step(step)
            return False
        if show:
            self._add_step(step)
        return True

    def finish(self, program_ok: bool) -> list[ResourceState]:
        """After the program: delete replaced and unregistered resources; return the new state.

        Deletes run in reverse registration order. When the program failed, nothing is deleted
        (as the real engine): unregistered resources stay, replaced ones stay marked ``delete``
        and go at the end of the next successful update.
        """
        unregistered = [
            r for r in self.old_resources if not r.delete and r.urn not in self.registered
        ]
        pending = [*reversed(self.replaced), *(r for r in reversed(self.old_resources) if r.delete)]
        kept = unregistered
        if program_ok:
            kept = [r for r in reversed(unregistered) if not self._delete_step(r)][::-1]
            pending = [r for r in pending if not self._delete_step(r, show=False)]
        return [
            *self.registered.values(),
            *kept,
            *(replace(r, delete=True) for r in reversed(pending)),
        ]

    def destroy(self) -> list[ResourceState]:
        """Delete every resource in reverse order; return what could not be deleted."""
        remaining = [
            r for r in reversed(self.old_resources) if not self._delete_step(r, show=not r.delete)
        ]
        return remaining[::-1]


class MonitorServicer(resource_pb2_grpc.ResourceMonitorServicer):
    """The ResourceMonitor the SDK talks to; unlisted RPCs answer UNIMPLEMENTED."""

    def __init__(self, deployment: Deployment, *, parallel: int) -> None:
        self.deployment = deployment
        self.parallel = parallel

    def GetDeploymentInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> resource_pb2.DeploymentInfo:
        """Advertise secrets only: unknowns then travel as the sentinel, resources by ID."""
        d = self.deployment
        return resource_pb2.DeploymentInfo(
            project=d.project,
            stack=d.stack,
            dryRun=d.dry_run,
            parallel=self.parallel,
            supportedFeatures=[resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS],
        )

    def SupportsFeature(
        self, request: resource_pb2.SupportsFeatureRequest, context: grpc.ServicerContext
    ) -> resource_pb2.SupportsFeatureResponse:
        """The legacy probe, consistent with GetDeploymentInfo."""
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id == "secrets")

    def RegisterResource(
        self, request: resource_pb2.RegisterResourceRequest, context: grpc.ServicerContext
    ) -> resource_pb2.RegisterResourceResponse:
        """Run the resource's step; a failed step fails the call, and so the program."""
        try:
            result = self.deployment.register(request)
        except StepFailed as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
            raise  # unreachable: abort raises
        except Exception:
            message = f"test engine error:\n{traceback.format_exc()}"
            with self.deployment._lock:
                self.deployment.errors.append(message)
            context.abort(grpc.StatusCode.INTERNAL, message)
            raise
        return resource_pb2.RegisterResourceResponse(
            urn=result.urn, id=result.id, object=to_struct(result.outputs)
        )

    def RegisterResourceOutputs(
        self, request: resource_pb2.RegisterResourceOutputsRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Record stack exports (secrets stay wrapped) or component outputs."""
        self.deployment.register_outputs(request.urn, from_struct(request.outputs))
        return empty_pb2.Empty()

    def SignalAndWaitForShutdown(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Every step already ran inside RegisterResource, so there is nothing to wait for."""
        return empty_pb2.Empty()


class EngineServicer(engine_pb2_grpc.EngineServicer):
    """The Engine service: logging and the root resource."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def Log(self, request: engine_pb2.LogRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Keep the program's log messages for the result."""
        severity = _SEVERITIES.get(request.severity, str(request.severity))
        self.deployment.log(LogEntry(severity, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(
        self, request: engine_pb2.GetRootResourceRequest, context: grpc.ServicerContext
    ) -> engine_pb2.GetRootResourceResponse:
        """The root resource URN set by SetRootResource."""
        return engine_pb2.GetRootResourceResponse(urn=self.deployment.root_urn)

    def SetRootResource(
        self, request: engine_pb2.SetRootResourceRequest, context: grpc.ServicerContext
    ) -> engine_pb2.SetRootResourceResponse:
        """Remember the root resource URN."""
        self.deployment.root_urn = request.urn
        return engine_pb2.SetRootResourceResponse()

    def RequirePulumiVersion(
        self, request: engine_pb2.RequirePulumiVersionRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Accept any range: the test engine stands in for a current CLI."""
        return empty_pb2.Empty()
