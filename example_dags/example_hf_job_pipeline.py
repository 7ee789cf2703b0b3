"""A TaskFlow pipeline with one step on Hugging Face Jobs: fit a line on remote compute, check it locally.

``plan`` picks the experiment's settings on the Airflow worker, ``fit_line`` runs as a Hub Job (its body is
shipped as a uv script; its return value comes back as XCom), and ``check_fit`` decides locally whether the
fit is good enough. Set the ``flavor`` param to run the Job on other hardware.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task


# [START howto_hf_job]
@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "samples": Param(5000, type="integer", minimum=10, description="Points to fit"),
        "flavor": Param("cpu-basic", type="string", description="Hub Jobs hardware flavor"),
    },
    tags=["huggingface", "example"],
)
def example_hf_job_pipeline():
    @task
    def plan(params: dict) -> dict:
        """The experiment: a noisy line whose slope and intercept the Job has to recover."""
        return {"samples": params["samples"], "slope": 2.5, "intercept": -1.0, "noise": 0.1, "seed": 7}

    @task.hf_job(flavor="{{ params.flavor }}", timeout="10m")
    def fit_line(experiment: dict) -> dict:
        # Runs in the Job: only the standard library and what ``dependencies`` installs are available.
        import random

        rng = random.Random(experiment["seed"])
        xs = [rng.uniform(-1, 1) for _ in range(experiment["samples"])]
        ys = [
            experiment["slope"] * x + experiment["intercept"] + rng.gauss(0, experiment["noise"]) for x in xs
        ]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
        slope = covariance / sum((x - mean_x) ** 2 for x in xs)
        return {"slope": slope, "intercept": mean_y - slope * mean_x, "samples": len(xs)}

    @task
    def check_fit(experiment: dict, fit: dict) -> dict:
        errors = {name: abs(fit[name] - experiment[name]) for name in ("slope", "intercept")}
        if max(errors.values()) > 0.05:
            raise ValueError(f"The fit is off by {errors}: {fit}")
        print(
            f"Recovered slope {fit['slope']:.3f} and intercept {fit['intercept']:.3f} from {fit['samples']} points"
        )
        return errors

    experiment = plan()
    check_fit(experiment, fit_line(experiment))


# [END howto_hf_job]

example_hf_job_pipeline()
