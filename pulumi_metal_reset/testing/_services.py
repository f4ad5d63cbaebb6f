"""The gRPC services a program talks to: the ResourceMonitor and the Engine (logging, root).

They turn requests into :class:`._records.Goal` values for :func:`._steps.register`, as the
engine's ``resmon`` (``pkg/resource/deploy/source_eval.go``) does, and nothing more.
"""

from __future__ import annotations

import traceback

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from ._deployment import Deployment, StepFailed, Stopped
from ._records import Goal, LogEntry
from ._steps import register
from ._wire import from_struct, to_struct

_SEVERITIES = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


def goal_from_request(request: resource_pb2.RegisterResourceRequest) -> Goal:
    """The registration as the engine keeps it. ``deleteBeforeReplace`` counts as set when the
    SDK says it is defined or when it is true (the Go SDK never sets "defined")."""
    dbr: bool | None = None
    if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
        dbr = request.deleteBeforeReplace
    return Goal(
        type=request.type,
        name=request.name,
        custom=request.custom,
        properties=from_struct(request.object),
        parent=request.parent,
        protect=request.protect if request.HasField("protect") else None,
        retain_on_delete=request.retainOnDelete if request.HasField("retainOnDelete") else None,
        delete_before_replace=dbr,
        dependencies=list(request.dependencies),
        property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
        ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges),
        additional_secret_outputs=list(request.additionalSecretOutputs),
        import_id=request.importId,
        alias_urns=list(request.aliasURNs),
    )


class MonitorServicer(resource_pb2_grpc.ResourceMonitorServicer):
    """The ResourceMonitor the SDK talks to; unlisted RPCs answer UNIMPLEMENTED."""

    def __init__(self, deployment: Deployment, *, parallel: int) -> None:
        self.deployment = deployment
        self.parallel = parallel

    def GetDeploymentInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> resource_pb2.DeploymentInfo:
        """Advertise secrets only: unknowns then travel as the sentinel, resources by ID.

        The SDK (since 3.256; this package's floor is 3.260) asks this once per program and
        falls back to the legacy ``SupportsFeature`` probe only when it is UNIMPLEMENTED
        (``settings._load_monitor_feature_support``), so that probe is not served."""
        d = self.deployment
        return resource_pb2.DeploymentInfo(
            project=d.project,
            stack=d.stack,
            dryRun=d.dry_run,
            parallel=self.parallel,
            supportedFeatures=[resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS],
        )

    def RegisterResource(
        self, request: resource_pb2.RegisterResourceRequest, context: grpc.ServicerContext
    ) -> resource_pb2.RegisterResourceResponse:
        """Run the resource's step; a failed step fails the call, and so the program. After a
        bail the engine reads no more registrations, and once the run is over answers each one
        still waiting UNAVAILABLE (``resmon.RegisterResource``), which the SDK turns into
        "Resource monitor has terminated, shutting down"; the test engine answers each one so
        as soon as its turn comes (see _turns.py)."""
        try:
            result = register(self.deployment, goal_from_request(request))
        except StepFailed:
            context.abort(grpc.StatusCode.UNKNOWN, f"step for {request.name!r} failed")
            raise  # unreachable: abort raises
        except Stopped:
            context.abort(
                grpc.StatusCode.UNAVAILABLE,
                "resource monitor shut down while sending resource registration",
            )
            raise
        except Exception:
            message = f"test engine error:\n{traceback.format_exc()}"
            self.deployment.error("", message)
            context.abort(grpc.StatusCode.INTERNAL, message)
            raise
        return resource_pb2.RegisterResourceResponse(
            urn=result.urn, id=result.id, object=to_struct(result.outputs), unknown=result.unknown
        )

    def RegisterResourceOutputs(
        self, request: resource_pb2.RegisterResourceOutputsRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Record stack exports (secrets stay wrapped) or component outputs: an event of the
        main loop like a registration, so after a bail it is never read either."""
        d = self.deployment
        with d.turns.turn():
            if not d.bailed:
                d.record_outputs(request.urn, from_struct(request.outputs))
                return empty_pb2.Empty()
        context.abort(
            grpc.StatusCode.UNAVAILABLE, "resource monitor shut down while sending resource outputs"
        )
        raise AssertionError("unreachable: abort raises")

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
        """Keep the program's log messages; errors and warnings become diagnostics."""
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
