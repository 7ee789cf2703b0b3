"""How long a trigger blocks its event loop when a triggerer starts it cold.

:func:`measure_trigger_starts` runs ``python -m tests.loop_block`` with a list of cases on stdin. That process
imports what Airflow's trigger runner has imported before it loads any trigger
(``airflow.jobs.triggerer_job_runner``: Airflow, httpx, ...), then forks one child per case, so every case
starts with our hooks and ``huggingface_hub`` not imported yet. Each child does what ``create_triggers`` does,
on a running event loop: ``import_string`` of the class path, construction, then ``run()`` until its first
event. A probe task on the same loop, started before the import, sleeps 10 ms at a time and records every gap;
the longest gap minus 10 ms is the longest the loop was blocked. A thread samples every thread's stack while
the probe is late (``blocked_in``: where the loop and the other threads were). Children ask for a higher
scheduling priority where allowed, so that a busy machine stalls them less. With ``"debug": true`` a case runs
in asyncio's debug mode, which reports each callback that ran longer than 20 ms (``slow_callbacks``), at a
cost of its own.

Run it by hand against any Hub (the emulator, say) with the connection in ``AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT``::

    echo '[{"classpath": "airflow_provider_hub.triggers.jobs.HfJobTrigger",
            "kwargs": {"job_id": "...", "namespace": "alice", "poll_interval": 0.05}}]' \\
        | python -m tests.loop_block
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: What a trigger runner process has imported before it loads its first trigger.
BASELINE_MODULES = ("airflow.jobs.triggerer_job_runner",)
#: Modules whose import state is reported just before the trigger class is imported (all must be cold).
WATCHED_MODULES = ("huggingface_hub", "airflow_provider_hub.hooks.hub", "airflow_provider_hub.triggers")
PROBE_INTERVAL = 0.01
SLOW_CALLBACK = 0.02
ROOT = Path(__file__).resolve().parent.parent


def measure_trigger_starts(
    cases: list[dict[str, Any]],
    *,
    env: dict[str, str] | None = None,
    bytecode_cache: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
) -> list[dict[str, Any]]:
    """One report per case (see :func:`_measure`), each from a cold start.

    A case is ``{"classpath", "kwargs", "watermarks" (optional: an in-memory ``asset_state_store``'s
    initial values), "timeout" (optional: seconds to wait for the first event)}``.

    :param bytecode_cache: a directory for compiled modules (``PYTHONPYCACHEPREFIX``), as an installed
        package has them: an unmeasured child per case runs first to fill it. Without it, modules are
        compiled from source when ``PYTHONDONTWRITEBYTECODE`` is set, which holds the GIL, so a module imported
        on a worker thread still stalls the loop for the time its compilation takes.
    """
    child_env = {**os.environ, **(env or {})}
    if bytecode_cache is not None:
        child_env.pop("PYTHONDONTWRITEBYTECODE", None)
        child_env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    result = subprocess.run(
        [sys.executable, "-m", "tests.loop_block"],
        input=json.dumps({"cases": cases, "warm_up": bytecode_cache is not None}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"loop probe failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class _MemoryStateStore:
    """An ``asset_state_store`` stand-in: async like the triggerer's, in memory."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = dict(values)

    async def aget(self, key: str) -> Any:
        return self.values.get(key)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value


class _Sampler:
    """A thread that samples every thread's stack (every 2 ms) whenever the probe is late by more than 5 ms."""

    def __init__(self, last_tick: Any) -> None:
        import threading

        self._last_tick = last_tick
        self._thread_id = threading.get_ident()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loop-block-sampler", daemon=True)
        self.samples: dict[str, int] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        import threading

        me = threading.get_ident()
        while not self._done.wait(0.002):
            if time.perf_counter() - self._last_tick() < PROBE_INTERVAL + 0.005:
                continue
            for thread_id, frame in sys._current_frames().items():
                if thread_id == me:
                    continue
                where: list[str] = []
                inner: Any = frame
                while (
                    inner is not None and len(where) < 4
                ):  # no source lines read: cheap while the GIL is held
                    where.append(
                        f"{Path(inner.f_code.co_filename).name}:{inner.f_lineno} {inner.f_code.co_name}"
                    )
                    inner = inner.f_back
                key = ("loop: " if thread_id == self._thread_id else "other thread: ") + " <- ".join(where)
                self.samples[key] = self.samples.get(key, 0) + 1

    def top(self, n: int = 8) -> list[tuple[str, int]]:
        """The most frequent stacks (innermost first) of the loop and other threads while the loop was late."""
        return sorted(self.samples.items(), key=lambda item: -item[1])[:n]


class _SlowCallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing"):
            self.records.append(message[:400])


async def _measure(case: dict[str, Any]) -> dict[str, Any]:
    """``{"max_block", "blocks" (per phase: import, construct, run), "cold", "event", "slow_callbacks"}``."""
    from airflow._shared.module_loading import import_string

    loop = asyncio.get_running_loop()
    loop.slow_callback_duration = SLOW_CALLBACK
    gaps: list[tuple[float, float]] = []
    marks: list[tuple[str, float]] = []
    stop = asyncio.Event()

    async def probe() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(PROBE_INTERVAL)
            now = time.perf_counter()
            gaps.append((last, now))
            last = now

    probe_task = asyncio.create_task(probe())
    sampler = _Sampler(lambda: gaps[-1][1] if gaps else time.perf_counter())
    sampler.start()
    await asyncio.sleep(0.1)
    cold = {name: name not in sys.modules for name in WATCHED_MODULES}
    event: Any = None
    error: str | None = None
    try:
        # What create_triggers does: import on the loop, yield, construct, then run() as a task.
        marks.append(("import", time.perf_counter()))
        trigger_class = import_string(case["classpath"])
        await asyncio.sleep(0)
        marks.append(("construct", time.perf_counter()))
        trigger = trigger_class(**case.get("kwargs", {}))
        if "watermarks" in case:
            kept = {f"{trigger.watermark_key}::{field}": v for field, v in case["watermarks"].items()}
            trigger.asset_state_store = _MemoryStateStore(kept)
        await asyncio.sleep(0)
        marks.append(("run", time.perf_counter()))
        events = trigger.run()
        try:
            first = await asyncio.wait_for(events.__anext__(), case.get("timeout", 60))
            event = first.payload
        finally:
            await events.aclose()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    marks.append(("end", time.perf_counter()))
    await asyncio.sleep(case.get("linger", 0.05))
    stop.set()
    await probe_task
    sampler.stop()

    blocks = {name: 0.0 for name, _ in marks[:-1]}
    spans = [(name, start, marks[i + 1][1]) for i, (name, start) in enumerate(marks[:-1])]
    max_block = 0.0
    for start, end in gaps:
        block = max(0.0, end - start - PROBE_INTERVAL)
        max_block = max(max_block, block)
        overlaps = {name: min(end, b) - max(start, a) for name, a, b in spans}
        if overlaps:
            phase = max(overlaps, key=lambda name: overlaps[name])
            if overlaps[phase] > 0:
                blocks[phase] = max(blocks[phase], block)
    return {
        "classpath": case["classpath"],
        "max_block": round(max_block, 4),
        "blocks": {name: round(value, 4) for name, value in blocks.items()},
        "cold": cold,
        "event": event,
        "error": error,
        "seconds": round(marks[-1][1] - marks[0][1], 3),
        "blocked_in": sampler.top(),
    }


def _run_child(case: dict[str, Any], out: int) -> None:
    # Ahead of the machine's other processes where allowed (threads started from now on inherit it), so that
    # what is measured is this process's own stalls, not the scheduler's.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    slow = _SlowCallbacks()
    logging.getLogger("asyncio").addHandler(slow)
    logging.getLogger("asyncio").setLevel(logging.WARNING)
    try:
        # Debug mode costs time of its own (it records where every callback was created): only on request.
        report = asyncio.run(_measure(case), debug=bool(case.get("debug")))
        report["slow_callbacks"] = slow.records
    except BaseException as exc:
        report = {"classpath": case.get("classpath"), "error": f"{type(exc).__name__}: {exc}"}
    os.write(out, json.dumps(report, default=str).encode())


def _fork_case(case: dict[str, Any], deadline: float) -> dict[str, Any]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without running the parent's exit handlers
        os.close(read)
        code = 0
        try:
            _run_child(case, write)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                return {"classpath": case.get("classpath"), "error": "timed out"}
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    if not chunks:
        return {"classpath": case.get("classpath"), "error": "the child reported nothing"}
    return json.loads(b"".join(chunks))


def main() -> None:
    import importlib

    spec = json.load(sys.stdin)
    cases = spec["cases"] if isinstance(spec, dict) else spec
    for name in BASELINE_MODULES:
        importlib.import_module(name)
    if isinstance(spec, dict) and spec.get("warm_up"):
        for case in cases:  # unmeasured: each child writes the compiled modules it imported to the cache
            _fork_case(case, time.monotonic() + case.get("timeout", 60) + 60)
    reports = [_fork_case(case, time.monotonic() + case.get("timeout", 60) + 60) for case in cases]
    sys.stdout.write(json.dumps(reports) + "\n")


if __name__ == "__main__":
    main()
