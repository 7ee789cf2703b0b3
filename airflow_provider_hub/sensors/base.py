"""The base of this provider's sensors: the Hub connection, its hook, ``deferrable``, the provider's look.

The sensor counterpart of :class:`~airflow_provider_hub.operators.base.HfHubBaseOperator` (as Airflow's
``AwsBaseSensor`` is of ``AwsBaseOperator``)::

    class HfJobSensor(HfHubBaseSensor):
        template_fields = hub_template_fields("job_id", "target_stages", "namespace")

        def poke(self, context):
            return JobState.from_summary(self.hook.job_summary(self.hook.get_job(self.job_id))).succeeded
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, conf

from airflow_provider_hub.operators.base import HUB_TEMPLATE_FIELDS, UI_COLOR, HfHubHookMixin
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink


class HfHubBaseSensor(HfHubHookMixin, BaseSensorOperator):
    """A sensor of this provider: ``hf_conn_id``, the cached :attr:`hook`, ``deferrable``, the UI colour.

    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = HUB_TEMPLATE_FIELDS
    operator_extra_links: Collection[BaseOperatorLink] = ()
    ui_color = UI_COLOR

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        hf_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.hf_conn_id = hf_conn_id
