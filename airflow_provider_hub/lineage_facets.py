"""The provider's own OpenLineage facets (imported only by the OpenLineage provider's extraction)."""

from __future__ import annotations

from attrs import define
from openlineage.client.facet_v2 import RunFacet


@define
class HfJobRunFacet(RunFacet):
    """The Hugging Face Job a task ran (run facet ``hfJob``).

    :param jobId: the Job's id.
    :param url: the Job's page on the Hub.
    """

    jobId: str  # OpenLineage facets name their fields in camelCase
    url: str

    @staticmethod
    def _get_schema() -> str:
        return "https://github.com/airflow-provider-hub/airflow-provider-hub/tree/main/docs/lineage.md#hfjob"
