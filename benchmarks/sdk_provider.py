"""The provider a user would otherwise write: Equinix's generated SDK (equinix-metal 0.11.0).

It runs only in the SDK's own venv (`sdk_venv.py`), because the SDK pins an old urllib3. Written
as its documentation shows: the SDK imported at the top, one `ApiClient` (one urllib3 pool, shared
by the server's four worker threads) built in `configure`, and `create` calling
`PasswordResetTokensApi.create_password_reset_token`. Check passes the inputs through, like the
bare provider. Importable, so dill pickles the class by reference, as it does ours.
"""

from __future__ import annotations

import uuid
from typing import Any

import equinix_metal  # type: ignore[import-not-found, unused-ignore]
from pulumi.dynamic import CheckResult, ConfigureRequest, CreateResult, ResourceProvider

__all__ = ["SdkProvider"]


class SdkProvider(ResourceProvider):
    """Create = `PasswordResetTokensApi(client).create_password_reset_token(email)`."""

    _api: Any = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as a bare reference: the client and the token are built in `configure`."""
        return {}

    def configure(self, req: ConfigureRequest) -> None:
        """The same stack config keys as ours, so every variant gets the same Configure request."""
        configuration = equinix_metal.Configuration(
            host=str(req.config.get("equinix:endpoint")),
            api_key={"x_auth_token": str(req.config.get("equinix:authToken"))},
        )
        self._api = equinix_metal.PasswordResetTokensApi(equinix_metal.ApiClient(configuration))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._api.create_password_reset_token(email=str(props["email"]))
        return CreateResult(uuid.uuid4().hex, {"email": props["email"]})
