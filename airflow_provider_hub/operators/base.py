"""The base of this provider's operators: the Hub connection, its hook, the provider's look.

Like Airflow's ``AwsBaseOperator``, it owns the connection argument (``hf_conn_id``, one default for all:
``huggingface_hub_default``), the hook built from it once per task (:attr:`HfHubBaseOperator.hook`), and what
every operator shares in the UI and in OpenLineage (:attr:`HfHubBaseOperator.lineage`), so that a concrete
operator declares only its own fields and its work::

    class HfGrantAccessOperator(HfHubBaseOperator):
        template_fields = hub_template_fields("repo_id", "users", "repo_type")

        def __init__(self, *, repo_id: str, users: Sequence[str], repo_type: str = "model", **kwargs):
            super().__init__(**kwargs)
            self.repo_id, self.users, self.repo_type = repo_id, users, repo_type

        def execute(self, context):
            return self.hook.grant_access(self.repo_id, self.users[0], repo_type=self.repo_type)

The hook module is imported when the hook is first used, not here: DAG files import operators, and parsing a
DAG must not import ``huggingface_hub`` (``tests/package/test_lazy_imports.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID, check_repo_id

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import BaseOperatorLink

    from airflow_provider_hub.hooks.hub import HfHubHook
    from airflow_provider_hub.lineage import Lineage

#: The Hugging Face yellow of every task of this provider in the Airflow UI.
UI_COLOR = "#FFD21E"
#: The template fields every operator and sensor of this provider has.
HUB_TEMPLATE_FIELDS: tuple[str, ...] = ("hf_conn_id",)


def hub_template_fields(*fields: str) -> tuple[str, ...]:
    """``fields`` followed by the template fields every operator and sensor of this provider has.

    Example::

        template_fields = hub_template_fields("repo_id", "revision")  # ('repo_id', 'revision', 'hf_conn_id')
    """
    return (*fields, *(field for field in HUB_TEMPLATE_FIELDS if field not in fields))


def task_instance_key(ti: Any) -> str:
    """What identifies one task instance across its tries (dag, task, run, map index), as a digest: how a
    retried task finds what its earlier try made (a Job, a pull request, a comment)."""
    map_index = getattr(ti, "map_index", -1)
    identity = "\x1f".join(
        (ti.dag_id, ti.task_id, ti.run_id, str(-1 if map_index is None else int(map_index)))
    )
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class HfHubHookMixin:
    """The :class:`~airflow_provider_hub.hooks.hub.HfHubHook` of ``hf_conn_id``, built once per task.

    Mixed into :class:`HfHubBaseOperator` and :class:`~airflow_provider_hub.sensors.base.HfHubBaseSensor`,
    which set ``hf_conn_id``.
    """

    hf_conn_id: str

    @cached_property
    def hook(self) -> HfHubHook:
        """The hook of the rendered ``hf_conn_id`` (``hf_conn_id`` is a template field: read at run time)."""
        from airflow_provider_hub.hooks.hub import HfHubHook

        return HfHubHook(hf_conn_id=self.hf_conn_id)

    def qualified_repo_id(self, repo_id: Any, field_name: str = "repo_id") -> str:
        """The rendered ``repo_id`` checked, a bare ``name`` taking the connection's namespace (no request)."""
        check_repo_id(repo_id, field_name)
        return check_repo_id(self.hook.qualify_repo_id(repo_id), field_name)


class HfHubBaseOperator(HfHubHookMixin, BaseOperator):
    """An operator of this provider: ``hf_conn_id``, the cached :attr:`hook`, the provider's UI colour.

    Subclasses declare ``template_fields`` with :func:`hub_template_fields` and their links in
    ``operator_extra_links``.

    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = HUB_TEMPLATE_FIELDS
    operator_extra_links: Collection[BaseOperatorLink] = ()
    ui_color = UI_COLOR

    def __init__(self, *, hf_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hf_conn_id = hf_conn_id

    @cached_property
    def lineage(self) -> Lineage:
        """What this task read and wrote on the Hub and S3, recorded as it runs
        (:mod:`airflow_provider_hub.lineage`)."""
        from airflow_provider_hub.lineage import Lineage

        return Lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """Called by the OpenLineage provider after the task ran (and when it failed)."""
        return self.lineage.operator_lineage()
