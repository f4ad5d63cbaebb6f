"""The engine's side of the provider protocol: one dynamic-provider server per run, called as the
engine's provider plugin (``pkg/resource/plugin/provider_plugin.go``) calls it.

The server answers Configure with ``acceptSecrets=False``, so every request goes out with secrets
stripped, and secret-ness is put back on what comes in from the names it had on the way out
(``annotateSecrets``). Diff and Update receive the old *outputs* as ``olds`` and the old inputs as
``old_inputs``; Delete receives the old outputs. Every call is recorded, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from pulumi.runtime.proto import provider_pb2

from ._state import ResourceState
from ._urns import urn_name, urn_type
from ._wire import PropertyMap, annotate_secrets, from_struct, make_secret, strip_secrets, to_struct
from .provider_server import ProviderServer


class ProviderError(Exception):
    """A provider call failed; the message is the gRPC details, as the CLI prints them."""


@dataclass(frozen=True)
class CheckAnswer:
    """Checked inputs (secret-ness restored) and failures as ``(property, reason)``."""

    inputs: PropertyMap
    failures: list[tuple[str, str]]


@dataclass(frozen=True)
class DiffAnswer:
    """What the dynamic-provider server sends back from Diff."""

    changes: int
    replaces: list[str]
    delete_before_replace: bool
    changed_keys: list[str]
    #: Set by the engine's own diff on DIFF_UNKNOWN (``diffResource``): its detailed-diff paths.
    detailed_paths: list[list[str | int]] = field(default_factory=list)


@dataclass(frozen=True)
class ReadAnswer:
    """The read ID ("" when the resource is gone), outputs and, when the provider sent them,
    inputs; secret-ness restored from the state that was sent."""

    id: str
    outputs: PropertyMap
    inputs: PropertyMap | None


DIFF_UNKNOWN = provider_pb2.DiffResponse.DIFF_UNKNOWN
DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


class ProviderClient:
    """Starts the provider on first use, configures it once, and makes the calls of one run."""

    def __init__(
        self,
        factory: Callable[[], ProviderServer],
        config: Mapping[str, str],
        secret_keys: frozenset[str],
        *,
        call_timeout: float = 120.0,
    ) -> None:
        self._factory = factory
        self._config = dict(config)
        self._secret_keys = secret_keys
        self._timeout = call_timeout
        self._lock = threading.Lock()
        self._calls_lock = threading.Lock()
        self._server: ProviderServer | None = None
        self._start_error: str | None = None
        #: ``(method, urn)`` of every call, in order (Configure: urn "").
        self.calls: list[tuple[str, str]] = []

    def _stub(self) -> Any:
        with self._lock:
            if self._start_error is not None:
                raise ProviderError(self._start_error)
            if self._server is None:
                try:
                    server = self._factory().start()
                except Exception as exc:
                    self._start_error = f"could not start the dynamic provider: {exc}"
                    raise ProviderError(self._start_error) from None
                self._server = server
                args = {
                    key: make_secret(value) if key in self._secret_keys else value
                    for key, value in self._config.items()
                }
                request = provider_pb2.ConfigureRequest(
                    args=to_struct(args), acceptSecrets=True, acceptResources=True
                )
                self._invoke("Configure", "", server.stub.Configure, request)
            return self._server.stub

    def _invoke(self, method: str, urn: str, fn: Callable[..., Any], request: Any) -> Any:
        with self._calls_lock:
            self.calls.append((method, urn))
        try:
            return fn(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            details = exc.details() or str(exc.code())
            raise ProviderError(details.rstrip("\n")) from None

    def _call(self, method: str, urn: str, request: Any) -> Any:
        stub = self._stub()
        return self._invoke(method, urn, getattr(stub, method), request)

    def close(self) -> None:
        """Kill the provider server, if one was started."""
        with self._lock:
            if self._server is not None:
                self._server.close()

    def output(self) -> str:
        """What the provider process printed (stdout and stderr)."""
        return "" if self._server is None else self._server.output()

    # -- the calls ------------------------------------------------------------------------------

    def check(self, urn: str, olds: PropertyMap, news: PropertyMap, seed: bytes) -> CheckAnswer:
        """Check: ``olds`` are old inputs (empty for a create or a re-check); ``seed`` is the
        random seed (the update plan's, or a fresh one)."""
        name, type_ = _name_type(urn)
        answer = self._call(
            "Check",
            urn,
            provider_pb2.CheckRequest(
                urn=urn,
                name=name,
                type=type_,
                olds=to_struct(strip_secrets(olds)),
                news=to_struct(strip_secrets(news)),
                randomSeed=seed,
            ),
        )
        inputs = annotate_secrets(from_struct(answer.inputs), news)
        return CheckAnswer(inputs, [(f.property, f.reason) for f in answer.failures])

    def diff(self, old: ResourceState, news: PropertyMap, ignore_changes: list[str]) -> DiffAnswer:
        """Diff: olds = old outputs, news = checked inputs, old_inputs = old inputs."""
        answer = self._call(
            "Diff", old.urn, provider_pb2.DiffRequest(**_against(old, news, ignore_changes))
        )
        return DiffAnswer(
            changes=answer.changes,
            replaces=list(answer.replaces),
            delete_before_replace=answer.deleteBeforeReplace,
            changed_keys=list(answer.diffs),
        )

    def create(self, urn: str, inputs: PropertyMap) -> tuple[str, PropertyMap]:
        """Create: the new ID and the outputs (secret where the input of that name was)."""
        name, type_ = _name_type(urn)
        answer = self._call(
            "Create",
            urn,
            provider_pb2.CreateRequest(
                urn=urn, name=name, type=type_, properties=to_struct(strip_secrets(inputs))
            ),
        )
        return answer.id, annotate_secrets(from_struct(answer.properties), inputs)

    def update(
        self, old: ResourceState, news: PropertyMap, ignore_changes: list[str]
    ) -> PropertyMap:
        """Update: the same fields as Diff; returns the new outputs."""
        answer = self._call(
            "Update", old.urn, provider_pb2.UpdateRequest(**_against(old, news, ignore_changes))
        )
        return annotate_secrets(from_struct(answer.properties), news)

    def delete(self, res: ResourceState) -> None:
        """Delete: properties = old outputs, old_inputs = old inputs."""
        name, type_ = _name_type(res.urn)
        self._call(
            "Delete",
            res.urn,
            provider_pb2.DeleteRequest(
                id=res.id,
                urn=res.urn,
                name=name,
                type=type_,
                properties=to_struct(strip_secrets(res.outputs)),
                old_inputs=to_struct(strip_secrets(res.inputs)),
            ),
        )

    def read(
        self, urn: str, id_: str, inputs: PropertyMap | None, state: PropertyMap | None
    ) -> ReadAnswer:
        """Read: a refresh sends old inputs and old outputs; an import sends neither."""
        name, type_ = _name_type(urn)
        fields: dict[str, Any] = {
            "id": id_,
            "urn": urn,
            "name": name,
            "type": type_,
            "properties": to_struct(strip_secrets(state or {})),
        }
        if inputs is not None:
            fields["inputs"] = to_struct(strip_secrets(inputs))
        answer = self._call("Read", urn, provider_pb2.ReadRequest(**fields))
        outputs = annotate_secrets(from_struct(answer.properties), state or {})
        new_inputs = None
        if answer.HasField("inputs"):
            new_inputs = annotate_secrets(from_struct(answer.inputs), inputs or {})
        return ReadAnswer(answer.id, outputs, new_inputs)


def _name_type(urn: str) -> tuple[str, str]:
    return urn_name(urn), urn_type(urn)


def _against(old: ResourceState, news: PropertyMap, ignore_changes: list[str]) -> dict[str, Any]:
    """Diff and Update send the same fields: old outputs as olds, secrets stripped."""
    name, type_ = _name_type(old.urn)
    return {
        "id": old.id,
        "urn": old.urn,
        "name": name,
        "type": type_,
        "olds": to_struct(strip_secrets(old.outputs)),
        "news": to_struct(strip_secrets(news)),
        "old_inputs": to_struct(strip_secrets(old.inputs)),
        "ignoreChanges": list(ignore_changes),
    }
