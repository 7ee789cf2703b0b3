"""``HfChooseInferenceProviderOperator``: pick the Inference Provider to call for a model, by price or speed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.hooks.states import LIVE_PROVIDER_STATUS
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields
from airflow_provider_hub.utils.checks import check_bool, check_whole_number

if TYPE_CHECKING:
    from airflow.sdk import Context


#: strategy -> (the figure it ranks by, whether higher is better)
STRATEGIES: dict[str, tuple[str, bool]] = {
    "cheapest": ("price", False),
    "fastest": ("throughput", True),
    "lowest_latency": ("first_token_latency_ms", False),
}
_COLUMNS = (
    "provider",
    "status",
    "price",
    "input_price",
    "output_price",
    "throughput",
    "first_token_latency_ms",
    "context_length",
    "supports_tools",
    "supports_structured_output",
    "is_model_author",
)


def candidate_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One router provider entry as a flat row; missing figures are ``None``.

    ``price`` is input + output USD per million tokens, ``None`` unless both are known.
    """
    pricing = entry.get("pricing") or {}
    input_price, output_price = pricing.get("input"), pricing.get("output")
    return {
        "provider": entry["provider"],
        "status": entry.get("status"),
        "price": input_price + output_price if input_price is not None and output_price is not None else None,
        "input_price": input_price,
        "output_price": output_price,
        "throughput": entry.get("throughput"),
        "first_token_latency_ms": entry.get("first_token_latency_ms"),
        "context_length": entry.get("context_length"),
        "supports_tools": entry.get("supports_tools"),
        "supports_structured_output": entry.get("supports_structured_output"),
        "is_model_author": entry.get("is_model_author"),
    }


def rank_providers(
    entries: Sequence[Mapping[str, Any]],
    *,
    strategy: str,
    require_tools: bool = False,
    require_structured_output: bool = False,
    min_context_length: int | None = None,
    live_only: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Filter and order router provider entries; returns ``(ranked candidates, excluded)``.

    Filters: ``live_only`` keeps ``status == "live"``; ``require_tools`` / ``require_structured_output`` keep
    providers that report ``true`` (a missing flag counts as unsupported); ``min_context_length`` keeps
    providers that report at least that length (a missing length is excluded). Ranking: by the strategy's
    figure; providers without it stay candidates but rank after every provider that has it; ties (and
    providers without the figure) are ordered by provider id, so the choice is deterministic.
    Each excluded entry is ``{"provider", "reason"}`` naming the filter that removed it.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    figure, higher_is_better = STRATEGIES[strategy]
    kept: list[dict[str, Any]] = []
    excluded: list[dict[str, str]] = []
    for entry in entries:
        row = candidate_row(entry)
        if live_only and row["status"] != LIVE_PROVIDER_STATUS:
            reason = f"live_only: status is {row['status']!r}"
        elif require_tools and row["supports_tools"] is not True:
            reason = f"require_tools: supports_tools is {row['supports_tools']!r}"
        elif require_structured_output and row["supports_structured_output"] is not True:
            reason = f"require_structured_output: supports_structured_output is {row['supports_structured_output']!r}"
        elif min_context_length is not None and (
            row["context_length"] is None or row["context_length"] < min_context_length
        ):
            reason = f"min_context_length={min_context_length}: context_length is {row['context_length']!r}"
        else:
            kept.append(row)
            continue
        excluded.append({"provider": row["provider"], "reason": reason})

    def key(row: dict[str, Any]) -> tuple[int, float, str]:
        value = row[figure]
        if value is None:
            return (1, 0.0, row["provider"])
        return (0, -value if higher_is_better else value, row["provider"])

    ranked = sorted(kept, key=key)
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return ranked, sorted(excluded, key=lambda item: item["provider"])


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = ("rank", *_COLUMNS)
    cells = [[("-" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


class HfChooseInferenceProviderOperator(HfHubBaseOperator):
    """Choose the Inference Provider to use for ``model_id`` from the router's provider metadata.

    Reads ``GET {router_url}/v1/models/{model_id}``, drops providers that fail a filter, ranks the rest by
    ``strategy`` (see :func:`rank_providers`): ``cheapest`` by input + output price per million tokens,
    ``fastest`` by highest throughput, ``lowest_latency`` by lowest time to first token. A provider without the
    strategy's figure (no pricing, no probe) ranks after all providers that have it; ties go to the provider id
    that sorts first. The candidates table is written to the task log.

    Returns ``{"model_id", "strategy", "provider", "chosen", "candidates", "excluded"}``: ``provider`` is the
    chosen provider id, ``chosen`` its row, ``candidates`` every qualifying row in rank order, ``excluded``
    ``[{"provider", "reason"}]``. Raises :class:`~airflow_provider_hub.exceptions.HfHubError` naming each
    provider and the filter that removed it when none qualifies.

    Example::

        choose = HfChooseInferenceProviderOperator(
            task_id="choose_provider", model_id="acme/support-llm", strategy="cheapest",
            require_tools=True, min_context_length=32000,
        )
        # downstream: "{{ ti.xcom_pull('choose_provider')['provider'] }}"

    :param model_id: the model repo id. (templated)
    :param strategy: ``"cheapest"``, ``"fastest"`` or ``"lowest_latency"``. (templated)
    :param require_tools: keep only providers reporting tool-calling support. (templated)
    :param require_structured_output: keep only providers reporting structured-output support. (templated)
    :param min_context_length: keep only providers reporting at least this context length. (templated)
    :param live_only: keep only providers whose status is ``live``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection (its ``router_url``). (templated)
    """

    template_fields: Sequence[str] = hub_template_fields(
        "model_id",
        "strategy",
        "require_tools",
        "require_structured_output",
        "min_context_length",
        "live_only",
    )

    def __init__(
        self,
        *,
        model_id: str,
        strategy: str = "cheapest",
        require_tools: bool = False,
        require_structured_output: bool = False,
        min_context_length: int | None = None,
        live_only: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if strategy not in STRATEGIES and "{{" not in str(strategy):
            raise ValueError(
                f"{self.task_id}: strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}"
            )
        self.model_id = model_id
        self.strategy = strategy
        self.require_tools = require_tools
        self.require_structured_output = require_structured_output
        self.min_context_length = min_context_length
        self.live_only = live_only

    def execute(self, context: Context) -> dict[str, Any]:
        if not isinstance(self.model_id, str) or self.model_id.count("/") != 1:
            raise ValueError(f"model_id must look like 'owner/name'; got {self.model_id!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}; got {self.strategy!r}")
        min_context_length = check_whole_number(
            None if self.min_context_length == "" else self.min_context_length,
            "min_context_length",
            optional=True,
        )
        require_tools = check_bool(self.require_tools, "require_tools")
        require_structured_output = check_bool(self.require_structured_output, "require_structured_output")
        live_only = check_bool(self.live_only, "live_only")
        model = self.hook.get_router_model(self.model_id)
        candidates, excluded = rank_providers(
            model.get("providers") or [],
            strategy=self.strategy,
            require_tools=require_tools,
            require_structured_output=require_structured_output,
            min_context_length=min_context_length,
            live_only=live_only,
        )
        for item in excluded:
            self.log.info("Excluded %s (%s)", item["provider"], item["reason"])
        if not candidates:
            detail = (
                "; ".join(f"{item['provider']}: {item['reason']}" for item in excluded)
                or "the router lists none"
            )
            raise HfHubError(f"No Inference Provider of {self.model_id} qualifies ({detail})")
        self.log.info("Candidates for %s by %s:\n%s", self.model_id, self.strategy, _table(candidates))
        chosen = candidates[0]
        self.log.info("Chose %s for %s", chosen["provider"], self.model_id)
        return {
            "model_id": self.model_id,
            "strategy": self.strategy,
            "provider": chosen["provider"],
            "chosen": chosen,
            "candidates": candidates,
            "excluded": excluded,
        }
