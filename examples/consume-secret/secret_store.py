"""A local secret-store file fed by a rotated password: the consumer side of the example."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from pulumi_metal_reset import PasswordResetToken


class LocalSecretFileProvider(pulumi.dynamic.ResourceProvider):
    """Writes `content` to `path` with mode 0600, atomically, and removes it on delete."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        _write(Path(props["path"]), props["content"])
        return pulumi.dynamic.CreateResult(props["path"], {"path": props["path"]})

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        # Outputs hold only the path: compare content against the file itself.
        changed = olds.get("path") != news["path"] or _read(Path(news["path"])) != news["content"]
        return pulumi.dynamic.DiffResult(
            changes=changed, replaces=["path"] if olds.get("path") != news["path"] else []
        )

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        _write(Path(news["path"]), news["content"])
        return pulumi.dynamic.UpdateResult({"path": news["path"]})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        Path(props["path"]).unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
    os.replace(temporary, path)


class LocalSecretFile(pulumi.dynamic.Resource, module="local", name="SecretFile"):
    path: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        path: pulumi.Input[str],
        content: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"path": path, "content": pulumi.Output.secret(content)}
        super().__init__(LocalSecretFileProvider(), name, props, opts)


class MetalCredentialFile(pulumi.ComponentResource):
    """A rotated Metal password, kept in a 0600 env file that other tools read."""

    def __init__(
        self,
        name: str,
        email: str,
        path: str,
        ticket: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("examples:metal:CredentialFile", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.token = PasswordResetToken(
            f"{name}-token",
            email=email,
            rotate_on_create=True,
            rotation_triggers={"ticket": ticket},
            opts=child,
        )
        content = self.token.new_password.apply(lambda password: f"METAL_PASSWORD={password}\n")
        self.file = LocalSecretFile(f"{name}-file", path=path, content=content, opts=child)
        self.path = self.file.path
        self.rotation_count = self.token.rotation_count
        self.register_outputs({"path": self.path, "rotationCount": self.rotation_count})
