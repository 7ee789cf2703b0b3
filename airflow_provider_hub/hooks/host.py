"""What the Hub area mixins (repo, jobs, endpoints, ...) use of the hook they are mixed into.

:class:`HubHost` declares it once; ``HfHubHook`` provides every member. The mixins derive from
:data:`HubArea`, which is the protocol for type checkers and ``object`` at run time: a protocol in the
hook's method resolution order would put its empty members ahead of ``BaseHook``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from airflow_provider_hub.hooks.settings import HubConnectionSettings

T = TypeVar("T")


class HubHost(Protocol):
    """The hook as an area mixin sees it.

    Example::

        class SpacesHookMixin(HubArea):
            def space_stage(self, repo_id: str) -> str:
                return self.call("get_space_runtime", repo_id, subject=f"space {repo_id}").stage
    """

    @property
    def settings(self) -> HubConnectionSettings:
        """The connection's validated settings."""

    @property
    def api(self) -> HfApi:
        """The connection's ``HfApi``; call it through :meth:`call`."""

    @property
    def endpoint(self) -> str:
        """The Hub endpoint, without a trailing ``/``."""

    @property
    def namespace(self) -> str | None:
        """The connection's default namespace."""

    def call(
        self, method: str, /, *args: Any, idempotent: bool = True, subject: str | None = None, **kwargs: Any
    ) -> Any:
        """``HfApi.<method>(*args, **kwargs)`` under the retry and error policy."""

    def run_retried(
        self, attempt: Callable[[], T], *, action: str, subject: str | None, repeatable: bool = True
    ) -> T:
        """``attempt()`` (a request made without ``HfApi``, or a whole that checks before it changes
        anything) under the retry and error policy; repeated only when ``repeatable``."""

    def resolve_namespace(self, namespace: str | None) -> str:
        """``namespace``, else the connection's, else the token's user."""


if TYPE_CHECKING:
    HubArea = HubHost
else:
    HubArea = object
