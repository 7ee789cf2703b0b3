"""A distributed Airflow on loopback, started and stopped by the distributed test.

A throwaway PostgreSQL (metadata DB and Celery results) and Redis (Celery broker), the Hub emulator and
moto's S3 as separate servers, two api-servers behind a TCP load balancer (``lb.py``, the ingress), a
scheduler, a dag-processor, two triggerers and two Celery workers. Everything binds 127.0.0.1. Every process
runs in its own process group; :meth:`Cluster.stop` ends each group and every descendant (SIGTERM, then
SIGKILL after a grace period), and is registered with ``atexit`` too.

Each Airflow component gets its own hostname (``[core] hostname_callable`` reads ``DIST_HOSTNAME``), so the
``job`` and ``task_instance`` tables say which triggerer holds a trigger and which worker runs a task.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
TEST_DAGS = Path(__file__).resolve().parent / "dags"
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")
#: SIGTERM, then this many seconds, then SIGKILL.
GRACE = 8.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except AssertionError:  # a condition's own verdict: no use waiting
            raise
        except Exception as exc:  # a server still starting
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})")


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (those still alive)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    user: str | None = None
    popen: subprocess.Popen | None = None
    #: Every pid this component ever had (it may be killed and restarted).
    pids: list[int] = field(default_factory=list)
    starts: int = 0

    def start(self) -> Proc:
        self.starts += 1
        handle = self.log.open("ab")
        handle.write(f"\n===== start #{self.starts} of {self.name} at {time.time():.3f}\n".encode())
        handle.flush()
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=self.user,
        )
        handle.close()
        self.pids.append(self.popen.pid)
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_tree(self, sig: int) -> None:
        if self.popen is None:
            return
        procs = tree(self.popen.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)

    def kill9(self) -> float:
        """``kill -9`` of the component and everything it started, as a lost machine; returns when."""
        assert self.popen is not None
        procs = tree(self.popen.pid)
        when = time.time()
        self.signal_tree(signal.SIGKILL)
        self.popen.wait(timeout=10)
        psutil.wait_procs(procs, timeout=10)
        return when

    def stop(self) -> None:
        if self.popen is None:
            return
        procs = tree(self.popen.pid)
        if self.popen.poll() is None or procs:
            self.signal_tree(signal.SIGTERM)
            _, alive = psutil.wait_procs(procs, timeout=GRACE)
            for proc in alive:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=GRACE)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def postgres_bindir() -> Path:
    """The machine's PostgreSQL server binaries (``scripts/distributed_deps.sh`` installs Debian's)."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2])):
        if Path(bindir, "postgres").exists() and Path(bindir, "initdb").exists():
            return Path(bindir)
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).parent
    raise RuntimeError(
        "no PostgreSQL server binaries: run scripts/distributed_deps.sh (make test-distributed)"
    )


class Cluster:
    def __init__(self, out: Path, secrets: dict[str, str]) -> None:
        self.out = out
        self.logs = out / "components"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.home = out / "airflow"
        (self.home / "pylib").mkdir(parents=True, exist_ok=True)
        self.secrets = secrets
        self.procs: dict[str, Proc] = {}
        self.figures: dict[str, Any] = {}
        self.ports = {
            name: free_port()
            for name in (
                "postgres",
                "redis",
                "hub",
                "s3",
                "lb",
                "api-1",
                "api-2",
                "log-worker",
                "log-trigger",
            )
        }
        self.pg_root: Path | None = None
        self._db_engine: Any = None
        atexit.register(self.stop)

    # -- URLs -------------------------------------------------------------------------------------------
    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['hub']}"

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['lb']}"

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.ports['postgres']}/airflow"

    def add(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, user: str | None = None
    ) -> Proc:
        proc = Proc(name, argv, env or self.base_env(), self.logs / f"{name}.log", user=user)
        self.procs[name] = proc
        return proc.start()

    def base_env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "UV_CACHE_DIR")
        return {k: v for k, v in os.environ.items() if k in keep}

    # -- services -----------------------------------------------------------------------------------
    def start_postgres(self) -> None:
        bindir = postgres_bindir()
        user = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            user = "postgres" if _user_exists("postgres") else "nobody"
        self.pg_root = Path(tempfile.mkdtemp(prefix="hub-dist-pg-"))
        data = self.pg_root / "data"
        if user:
            entry = pwd.getpwnam(user)
            os.chmod(self.pg_root, 0o755)
            os.chown(self.pg_root, entry.pw_uid, entry.pw_gid)
        initdb = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "airflow",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            user=user,
            env={**self.base_env(), "LC_ALL": "C"},
            cwd=self.pg_root,
            timeout=120,
        )
        assert initdb.returncode == 0, f"initdb failed: {initdb.stdout}\n{initdb.stderr}"
        args = [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(self.ports["postgres"]),
            "-k",
            str(self.pg_root),
        ]
        settings = {
            "listen_addresses": "127.0.0.1",
            "max_connections": "400",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
        }
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        proc = Proc(
            "postgres", args, {**self.base_env(), "LC_ALL": "C"}, self.logs / "postgres.log", user=user
        )
        self.procs["postgres"] = proc.start()
        import psycopg2

        def create_db() -> bool:
            connection = psycopg2.connect(
                host="127.0.0.1", port=self.ports["postgres"], user="airflow", dbname="postgres"
            )
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("CREATE DATABASE airflow")
            connection.close()
            return True

        wait_until(create_db, 60, "PostgreSQL")

    def start_redis(self) -> None:
        redis = shutil.which("redis-server") or "/usr/bin/redis-server"
        assert Path(redis).exists(), (
            "no redis-server: run scripts/distributed_deps.sh (make test-distributed)"
        )
        args = [
            redis,
            "--port",
            str(self.ports["redis"]),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.add("redis", [*args, "--dir", str(self.logs)])
        wait_until(lambda: port_open(self.ports["redis"]), 30, "Redis")

    def start_hub(self) -> None:
        env = {
            **self.base_env(),
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(self.out / "hub_home"),
        }
        argv = [sys.executable, "-m", "airflow_provider_hub.testing", "--port", str(self.ports["hub"])]
        self.add("hub-emulator", [*argv, "--jobs-mode", "subprocess"], env)
        wait_until(lambda: httpx.get(f"{self.hub_url}/api/whoami-v2").status_code, 60, "the Hub emulator")

    def hub(self, method: str, **kwargs: Any) -> Any:
        """Call the emulator's control API (``POST /_emulator/<method>``)."""
        response = httpx.post(f"{self.hub_url}/_emulator/{method}", json=kwargs, timeout=30)
        response.raise_for_status()
        return response.json()["result"]

    def start_s3(self) -> None:
        self.add("moto-s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.ports["s3"])])
        wait_until(lambda: port_open(self.ports["s3"]), 60, "moto's S3")

    def start_lb(self) -> None:
        upstreams = [f"--upstream=127.0.0.1:{self.ports[name]}" for name in ("api-1", "api-2")]
        lb = str(Path(__file__).with_name("lb.py"))
        self.add("lb", [sys.executable, lb, "--port", str(self.ports["lb"]), *upstreams])
        wait_until(lambda: port_open(self.ports["lb"]), 30, "the load balancer")

    # -- Airflow ------------------------------------------------------------------------------------
    def airflow_env(self, hostname: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        from airflow_provider_hub.testing._client import client_environment

        (self.home / "pylib" / "dist_hostname.py").write_text(
            "import os\n\n\ndef hostname():\n    return os.environ['DIST_HOSTNAME']\n"
        )
        bundles = [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path), "refresh_interval": 5},
            }
            for name, path in (("examples", EXAMPLE_DAGS), ("distributed", TEST_DAGS))
        ]
        pg = f"127.0.0.1:{self.ports['postgres']}/airflow"
        env = {
            **self.base_env(),
            **client_environment(self.hub_url, str(self.out / "hf_home")),
            "PYTHONPATH": str(self.home / "pylib"),
            "DIST_HOSTNAME": hostname,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "dist_hostname.hostname",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__PARALLELISM": "32",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "32",
            "AIRFLOW__CORE__FERNET_KEY": self.secrets["fernet"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.lb_url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow@{pg}",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "10",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://airflow@{pg}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__API__BASE_URL": self.lb_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.secrets["jwt"],
            "AIRFLOW__API_AUTH__JWT_ISSUER": "hub-distributed-test",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.ports["log-worker"]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.ports["log-trigger"]),
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            # A triggerer builds its in-process Execution API (Cadwyn's versioned routes) at its first
            # request, which takes 30-50 s on a busy 2-core machine and stalls the runner's messages: past
            # the default 30 s the watchdog stops the heartbeat and the triggers move for no fault of theirs.
            "AIRFLOW__TRIGGERER__RUNNER_HEALTH_CHECK_THRESHOLD": "120",
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
            "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": json.dumps(
                {
                    "conn_type": "huggingface_hub",
                    "host": self.hub_url,
                    "password": self.secrets["token"],
                    "extra": {
                        "namespace": "alice",
                        "inference_endpoints_url": f"{self.hub_url}/v2",
                        "router_url": self.hub_url,
                        "retry_backoff": 0.2,
                    },
                }
            ),
            "AIRFLOW_CONN_HF_WEBHOOK_SECRET": json.dumps(
                {"conn_type": "generic", "password": self.secrets["webhook"]}
            ),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": "distributed-test",
                    "password": self.secrets["aws"],
                    "extra": {
                        "region_name": "us-east-1",
                        "endpoint_url": f"http://127.0.0.1:{self.ports['s3']}",
                    },
                }
            ),
            "AIRFLOW__HUGGINGFACE_HUB__WEBHOOK_RECEIVER_URL": f"{self.lb_url}/hf-webhooks",
            # example_dataset_refresh_webhook's configuration (a Variable read at parse time).
            "AIRFLOW_VAR_HF_DATASET_REFRESH": json.dumps(
                {
                    "dataset": "acme/refresh-reviews",
                    "trigger": "webhook",
                    "airflow_url": self.lb_url,
                    "summary_root": (self.out / "refresh_summaries").as_uri(),
                }
            ),
            "DIST_WEBHOOK_REPO": "alice/dist-pushed",
            "NO_COLOR": "1",
        }
        return {**env, **(extra or {})}

    def airflow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [AIRFLOW, *args], env=self.airflow_env("cli"), capture_output=True, text=True, timeout=timeout
        )
        with (self.logs / "cli.log").open("a") as log:
            log.write(f"\n$ airflow {' '.join(args)}\n{result.stdout}\n{result.stderr}\n")
        assert result.returncode == 0, (
            f"airflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
        )
        return result

    def start_airflow(self) -> None:
        started = time.monotonic()
        self.airflow("db", "migrate", timeout=300)
        self.figures["db_migrate_s"] = round(time.monotonic() - started, 1)
        components = {
            "api-1": ["api-server", "--port", str(self.ports["api-1"]), "--host", "127.0.0.1"],
            "api-2": ["api-server", "--port", str(self.ports["api-2"]), "--host", "127.0.0.1"],
            "dag-processor": ["dag-processor"],
            "scheduler": ["scheduler"],
            "triggerer-1": ["triggerer", "--skip-serve-logs"],
            "triggerer-2": ["triggerer", "--skip-serve-logs"],
            "worker-1": ["celery", "worker", "--skip-serve-logs", "--celery-hostname", "worker-1@localhost"],
            "worker-2": ["celery", "worker", "--skip-serve-logs", "--celery-hostname", "worker-2@localhost"],
        }
        # asyncio's debug mode names the task of every callback that holds a triggerer's loop > 0.1 s, so
        # that the test can tell a trigger's own code from the runner's (Airflow's "async thread was
        # blocked" warning names neither).
        debug = {"PYTHONASYNCIODEBUG": "1"}
        for name, args in components.items():
            self.add(
                name,
                [AIRFLOW, *args],
                self.airflow_env(name, debug if name.startswith("triggerer-") else None),
            )
        self.wait_ready(300)
        self.figures["airflow_up_s"] = round(time.monotonic() - started, 1)

    def wait_ready(self, timeout: float, names: tuple[str, ...] | None = None) -> None:
        names = names or tuple(self.procs)
        waiting: list[str] = []

        def ready() -> bool:
            dead = [n for n, p in self.procs.items() if not p.alive]
            assert not dead, f"components exited: {dead}\n" + "\n".join(
                f"--- {n}:\n{self.procs[n].output()[-3000:]}" for n in dead
            )
            waiting[:] = [name for name in names if not self.component_ready(name)]
            return not waiting

        try:
            wait_until(ready, timeout, "the components", interval=1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; not ready: {waiting}") from None

    def component_ready(self, name: str) -> bool:
        try:
            if name.startswith("api-"):
                # The first /execution request builds the versioned routes (tens of seconds): done here.
                base = f"http://127.0.0.1:{self.ports[name]}"
                return all(
                    httpx.get(base + path, timeout=120).status_code == 200
                    for path in ("/api/v2/monitor/health", "/execution/health")
                )
            if name.startswith(("triggerer-", "scheduler")):
                return self.alive_job(name, within=20) is not None
            if name.startswith("worker-"):
                return f"{name}@localhost ready" in self.procs[name].output().split("===== start #")[-1]
        except (httpx.HTTPError, OSError):
            return False
        return True

    def alive_job(self, hostname: str, within: float = 5) -> int | None:
        """The id of the running job (scheduler, triggerer) of that component, heartbeating in the last seconds."""
        rows = self.sql(
            "SELECT id FROM job WHERE hostname = :h AND state = 'running' AND end_date IS NULL"
            " AND latest_heartbeat > now() - make_interval(secs => :s) ORDER BY id DESC",
            h=hostname,
            s=within,
        )
        return rows[0][0] if rows else None

    # -- the metadata database and the REST API -----------------------------------------------------
    def sql(self, query: str, **params: Any) -> list[tuple]:
        from sqlalchemy import create_engine, text

        if self._db_engine is None:
            self._db_engine = create_engine(self.db_url, pool_size=2)
        with self._db_engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), params)]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call Airflow's REST API through the load balancer (retried when the connection failed)."""
        for attempt in range(5):
            try:
                response = httpx.request(method, f"{self.lb_url}/api/v2{path}", timeout=60, **kwargs)
            except httpx.ConnectError:  # only what surely did not reach an api-server is retried
                if attempt == 4:
                    raise
                time.sleep(1)
                continue
            assert response.status_code < 300, (
                f"{method} {path}: {response.status_code} {response.text[:2000]}"
            )
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    def trigger(
        self,
        dag_id: str,
        logical_date: str | None = None,
        conf: dict | None = None,
        run_id: str | None = None,
    ) -> str:
        body: dict[str, Any] = {"logical_date": logical_date, "conf": conf or {}}
        if run_id:
            body["dag_run_id"] = run_id
        return self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
        """A task instance's state, try, worker and (when deferred) trigger and the triggerer holding it."""
        rows = self.sql(
            "SELECT ti.state, ti.try_number, ti.hostname, ti.trigger_id, t.triggerer_id, j.hostname,"
            " ti.start_date, ti.end_date FROM task_instance ti LEFT JOIN trigger t ON t.id = ti.trigger_id"
            " LEFT JOIN job j ON j.id = t.triggerer_id"
            " WHERE ti.dag_id = :d AND ti.run_id = :r AND ti.task_id = :t",
            d=dag_id,
            r=run_id,
            t=task_id,
        )
        if not rows:
            return None
        keys = ("state", "try_number", "hostname", "trigger_id", "triggerer_id", "triggerer", "start", "end")
        return dict(zip(keys, rows[0], strict=True))

    def restart(self, name: str) -> Proc:
        """Start a component again (as its supervisor would after it died)."""
        proc = self.procs[name]
        assert not proc.alive, f"{name} is still running"
        return proc.start()

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.sql("SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r", d=dag_id, r=run_id)
        return rows[0][0] if rows else None

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        rows = self.sql(
            "SELECT task_id, state FROM task_instance WHERE dag_id = :d AND run_id = :r", d=dag_id, r=run_id
        )
        return dict(rows)

    def wait_runs(self, runs: list[tuple[str, str]], timeout: float) -> dict[tuple[str, str], str]:
        """Wait until every ``(dag_id, run_id)`` finished; their final states."""
        states: dict[tuple[str, str], str] = {}

        def done() -> bool:
            for dag_id, run_id in runs:
                states[dag_id, run_id] = self.run_state(dag_id, run_id) or "missing"
            return all(s in ("success", "failed") for s in states.values())

        with contextlib.suppress(AssertionError):
            wait_until(done, timeout, "the DAG runs", interval=1)
        return states

    # -- stopping -----------------------------------------------------------------------------------
    def stop(self) -> None:
        """End every process this cluster started, Airflow first, the databases last."""
        order = [n for n in self.procs if n not in ("postgres", "redis")] + ["redis", "postgres"]
        airflow = [self.procs[n] for n in order if n in self.procs and n not in ("postgres", "redis")]
        for proc in airflow:
            if proc.popen is not None and proc.popen.poll() is None:
                proc.signal_tree(signal.SIGTERM)
        for proc in airflow:
            proc.stop()
        if self._db_engine is not None:
            self._db_engine.dispose()
            self._db_engine = None
        for name in ("redis", "postgres"):
            if name in self.procs:
                self.procs[name].stop()
        if self.pg_root is not None:
            shutil.rmtree(self.pg_root, ignore_errors=True)
            self.pg_root = None

    def leftover_pids(self) -> list[int]:
        """Processes of this cluster still alive (there must be none after :meth:`stop`)."""
        return [
            p for proc in self.procs.values() for p in proc.pids if psutil.pid_exists(p) and _not_zombie(p)
        ]

    def listening_addresses(self) -> dict[str, set[str]]:
        """``{component: {"ip:port", ...}}``: every TCP socket listening in each component's process tree."""
        found: dict[str, set[str]] = {}
        for name, proc in self.procs.items():
            if not proc.alive:
                continue
            for member in tree(proc.popen.pid):  # type: ignore[union-attr]
                with contextlib.suppress(psutil.Error):
                    for conn in member.net_connections(kind="inet"):
                        if conn.status == psutil.CONN_LISTEN:
                            found.setdefault(name, set()).add(f"{conn.laddr.ip}:{conn.laddr.port}")
        return found

    def all_logs(self) -> Iterator[Path]:
        yield from sorted(self.logs.glob("*.log"))


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
