"""``@task.hf_job``: run a TaskFlow function's body as a Hugging Face Job.

The function's source (dedented, decorators stripped) and its JSON-serializable arguments travel
inside the Job's command as an inline uv script (see :class:`~airflow_provider_hub.operators.jobs.HfRunJobOperator`).
In the Job, a small wrapper calls the function and prints its JSON return value on one marked line of
the log; the task reads that line back and returns the value, which becomes the task's XCom. An
exception in the Job prints the traceback on a marked line instead, and the task fails with it.

The function must be self-contained: import what it needs inside its body, take and return
JSON-serializable values, and use no Airflow context. Its annotations may name types of the DAG file
(``-> dict[str, Any]``): the Job never evaluates them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.hooks.states import JobState
from airflow_provider_hub.operators.jobs import HfRunJobOperator

if TYPE_CHECKING:
    from airflow.sdk.bases.decorator import TaskDecorator

#: Prefix of the log line carrying the function's JSON return value.
RESULT_MARKER = "::airflow-hf-job-result::"
#: Prefix of the log line carrying the traceback (JSON string) of an exception in the function.
ERROR_MARKER = "::airflow-hf-job-error::"

_WRAPPER = """

import json as _airflow_json
import sys as _airflow_sys
import traceback as _airflow_traceback

_airflow_call = _airflow_json.loads({payload!r})
try:
    _airflow_line = _airflow_json.dumps({name}(*_airflow_call["args"], **_airflow_call["kwargs"]))
except BaseException:
    print({error_marker!r} + _airflow_json.dumps(_airflow_traceback.format_exc()), flush=True)
    _airflow_sys.exit(1)
print({result_marker!r} + _airflow_line, flush=True)
"""


def job_script(
    function_source: str, function_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> str:
    """The uv script that calls ``function_name(*args, **kwargs)`` and prints its result on a marked line."""
    arguments = {
        **{f"args[{index}]": value for index, value in enumerate(args)},
        **{f"kwargs[{name!r}]": value for name, value in kwargs.items()},
    }
    for where, value in arguments.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:  # ValueError: a circular reference
            raise TypeError(
                f"@task.hf_job {function_name}: arguments must be JSON-serializable; {where} is {value!r:.200} ({exc})"
            ) from exc
    payload = json.dumps({"args": list(args), "kwargs": dict(kwargs)})
    # Annotations name types of the DAG file that the Job does not have: keep them unevaluated.
    return (
        "from __future__ import annotations\n\n"
        + function_source
        + _WRAPPER.format(
            payload=payload, name=function_name, error_marker=ERROR_MARKER, result_marker=RESULT_MARKER
        )
    )


def _marked(lines: Sequence[str], marker: str) -> str | None:
    for line in reversed(lines):
        if line.startswith(marker):
            return line[len(marker) :]
    return None


class _HfJobDecoratedOperator(DecoratedOperator, HfRunJobOperator):
    """Runs the decorated function in a Hub Job; see :func:`hf_job_task`."""

    template_fields: Sequence[str] = (*DecoratedOperator.template_fields, *HfRunJobOperator.template_fields)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **DecoratedOperator.template_fields_renderers,
        **HfRunJobOperator.template_fields_renderers,
    }
    custom_operator_name: str = "@task.hf_job"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        for forbidden in ("command", "script", "script_args"):
            if kwargs.get(forbidden) is not None:
                raise ValueError(
                    f"@task.hf_job builds the Job's script from the function; do not pass {forbidden}"
                )
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **kwargs)

    def _builds_own_script(self) -> bool:
        return True

    def execute(self, context: Any) -> Any:
        self.script = job_script(
            self.get_python_source(), self.python_callable.__name__, list(self.op_args), dict(self.op_kwargs)
        )
        return super().execute(context)

    def _finish(self, summary: dict[str, Any], tail: list[str]) -> Any:
        if JobState.from_summary(summary).succeeded:
            result = _marked(tail, RESULT_MARKER)
            if result is None:
                raise HfHubError(
                    self._failure_message(
                        summary, tail, "completed without printing the function's result line"
                    )
                )
            return json.loads(result)
        remote_traceback = _marked(tail, ERROR_MARKER)
        if remote_traceback is not None:
            raise HfHubError(
                f"{self.python_callable.__name__} raised in Hub Job {summary['job_id']} ({summary['url']}):\n"
                f"{json.loads(remote_traceback)}"
            )
        return super()._finish(summary, tail)


def hf_job_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> TaskDecorator:
    """Run the decorated function as a Hugging Face Job; its return value becomes the task's XCom.

    Registered as ``@task.hf_job`` through the provider's ``task-decorators``. Takes the arguments of
    :class:`~airflow_provider_hub.operators.jobs.HfRunJobOperator` except ``command``/``script``/``script_args``:
    ``flavor``, ``dependencies``, ``image`` (default: the uv image), ``python``, ``env``, ``secrets``,
    ``timeout``, ``namespace``, ``labels``, ``deferrable``, ...

    Example::

        from airflow.sdk import task

        @task.hf_job(flavor="cpu-basic", dependencies=["numpy"])
        def mean(values: list[float]) -> float:
            import numpy as np

            return float(np.mean(values))

    :param python_callable: the function (when used without parentheses).
    """
    return task_decorator_factory(
        python_callable=python_callable,
        decorated_operator_class=_HfJobDecoratedOperator,
        **kwargs,
    )
