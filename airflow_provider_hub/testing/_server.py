"""``HubEmulator``: the embedded Hub, served by uvicorn on a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import uvicorn

from airflow_provider_hub.testing._app import build_state, create_app
from airflow_provider_hub.testing._core import DEFAULT_ORG, DEFAULT_USER, HubState
from airflow_provider_hub.testing._faults import FaultInjector
from airflow_provider_hub.testing.backends.repos import (
    MAX_LFS_FILES_PER_COMMIT,
    MAX_REGULAR_PAYLOAD_PER_COMMIT,
)

DEFAULT_TOKEN = "hf_emulator_alice_write_token"


class HubEmulator:
    """An offline Hugging Face Hub that the unmodified ``huggingface_hub`` client talks to over HTTP.

    It serves the Hub API at :attr:`url`, the Inference Endpoints API at ``{url}/v2`` and the
    Inference Providers router at ``{url}/v1``.

    Example::

        from airflow_provider_hub.testing import HubEmulator

        with HubEmulator() as hub:
            os.environ["HF_ENDPOINT"] = hub.url
            HfApi(endpoint=hub.url, token=hub.token).create_repo("alice/demo")

    :param host: interface to listen on.
    :param port: TCP port; ``0`` picks a free one.
    :param jobs_mode: ``"simulate"`` runs Jobs from the plan set with :meth:`set_job_plan`;
        ``"subprocess"`` runs each Job's command on this machine (image ignored).
    :param seed: seed for fault injection and generated ids, so runs are reproducible.
    :param data_dir: keep state there across restarts; in memory (and a temporary blob
        directory) when ``None``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        jobs_mode: str = "simulate",
        seed: int = 0,
        data_dir: str | None = None,
    ) -> None:
        if jobs_mode not in ("simulate", "subprocess"):
            raise ValueError(f"jobs_mode must be 'simulate' or 'subprocess', got {jobs_mode!r}")
        self.host = host
        self.port = port
        self.jobs_mode = jobs_mode
        self.seed = seed
        self.data_dir = data_dir
        self.user = DEFAULT_USER
        self.org = DEFAULT_ORG
        self.token = DEFAULT_TOKEN
        self.injector = FaultInjector(seed)
        self.state: HubState = self._new_state()
        self._app = create_app(self.state, self.injector, self)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("HubEmulator is not started: use `with HubEmulator() as hub:` or call start()")
        return f"http://{self.host}:{self.port}"

    def start(self) -> HubEmulator:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.state.base_url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            date_header=False,
            lifespan="off",
            timeout_keep_alive=30,
            limit_concurrency=2048,
            backlog=4096,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="hub-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"HubEmulator could not start on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
        self.state.close()
        self._server = None

    def __enter__(self) -> HubEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every repo, like, collection, Space runtime, Job, Endpoint, request and fault; keep the
        default user and token."""
        self.state.close()
        base_url = self.state.base_url
        self.state = self._new_state()
        self.state.base_url = base_url
        self._app.app.state.hub = self.state
        self.injector.clear()
        self.injector.reset_counts()

    def _new_state(self) -> HubState:
        state = build_state(seed=self.seed, data_dir=self.data_dir, jobs_mode=self.jobs_mode)
        state.add_user(self.user, fullname="Alice Emulator", email="alice@example.com", token=self.token)
        state.add_org(self.org, fullname="Acme Corp", members=(self.user,))
        return state

    def connection_uri(self, *, retry_backoff: float = 0.05) -> str:
        """The ``AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT`` value pointing Airflow at this emulator.

        :param retry_backoff: base of the hook's retry backoff; short by default so tests that
            inject faults do not wait real seconds (``Retry-After`` is still honoured).
        """
        import json

        return json.dumps(
            {
                "conn_type": "huggingface_hub",
                "host": self.url,
                "password": self.token,
                "extra": {
                    "namespace": self.user,
                    "inference_endpoints_url": f"{self.url}/v2",
                    "router_url": self.url,
                    "retry_backoff": retry_backoff,
                },
            }
        )

    # -- identity -----------------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        fullname: str | None = None,
        email: str | None = None,
        token: str | None = None,
        orgs: Iterable[str] = (),
    ) -> str:
        """Create (or update) a user; returns a write token for it."""
        return self.state.add_user(name, fullname=fullname, email=email, token=token, orgs=tuple(orgs))

    def add_org(self, name: str, *, fullname: str | None = None, members: Iterable[str] = ()) -> None:
        self.state.add_org(name, fullname=fullname, members=tuple(members))

    def add_token(self, user: str, *, role: str = "write") -> str:
        return self.state.add_token(user, role=role)

    # -- areas --------------------------------------------------------------------------------------
    def add_repo(
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        private: bool = False,
        gated: str | bool = False,
        files: Mapping[str, bytes | str] | None = None,
    ) -> None:
        """Create a repo (if missing) owned by its namespace, optionally committing ``files`` to ``main``."""
        self.state.repos.ensure(repo_type, repo_id, private=private, gated=gated)
        if files:
            contents = {
                path: data.encode() if isinstance(data, str) else data for path, data in files.items()
            }
            self.state.repos.commit_files(repo_type, repo_id, contents, message="Seed files")

    def add_like(self, user: str, repo_id: str, *, repo_type: str = "model") -> None:
        """``user`` likes the repo (the client cannot like one: it only unlikes); a missing user is created."""
        self.state.likes.add_like(user, repo_id, repo_type=repo_type)

    def add_access_requests(
        self, repo_id: str, requests: Sequence[Mapping[str, Any]], *, repo_type: str = "model"
    ) -> None:
        """Queue pending access requests (``user``, optional ``email``, ``fields``, ``timestamp``) on a gated repo."""
        self.state.access.add_requests(repo_id, list(requests), repo_type=repo_type)

    def set_job_plan(
        self,
        *,
        stages: Sequence[str] = ("SCHEDULING", "RUNNING", "COMPLETED"),
        durations: Sequence[float] = (0.5, 1.0),
        logs: Sequence[str] = (),
        message: str | None = None,
    ) -> None:
        """How the next Jobs run in ``jobs_mode="simulate"``."""
        self.state.jobs.set_plan(
            stages=tuple(stages), durations=tuple(durations), logs=tuple(logs), message=message
        )

    def set_endpoint_plan(self, name: str, transitions: Sequence[tuple[str, float | None]]) -> None:
        """The status sequence of Endpoint ``name`` from its next create/update/resume on."""
        self.state.endpoints.set_plan(name, [(status, after) for status, after in transitions])

    def set_space_plan(
        self,
        repo_id: str,
        transitions: Sequence[tuple[str, float | None]],
        *,
        error_message: str | None = None,
    ) -> None:
        """The stage sequence of Space ``repo_id`` from its next create, restart, hardware change or commit
        on ``main`` on, e.g. ``[("BUILDING", 0.5), ("RUNNING", None)]``; ``error_message`` is what its error
        stages (``BUILD_ERROR``, ``RUNTIME_ERROR``, ``CONFIG_ERROR``, ``NO_APP_FILE``) report."""
        self.state.spaces.set_plan(
            repo_id, [(stage, after) for stage, after in transitions], error_message=error_message
        )

    def set_inference_providers(self, model_id: str, providers: Mapping[str, Mapping[str, Any]]) -> None:
        """The model's provider mapping and the router's metadata, keyed by provider name."""
        self.state.providers.set_providers(model_id, {k: dict(v) for k, v in providers.items()})

    # -- faults and counters ------------------------------------------------------------------------
    def inject_fault(
        self,
        route: str,
        *,
        status: int | None = None,
        rate: float = 1.0,
        retry_after: float | None = None,
        latency: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        method: str | None = None,
        after_apply: bool = False,
    ) -> int:
        """Fail requests whose path matches the glob ``route``; returns the fault id.

        :param status: answer this status instead (with ``Retry-After: retry_after`` when given).
        :param rate: share of matching requests hit, drawn from a generator seeded with ``seed``.
        :param latency: seconds added before answering.
        :param drop: close the connection mid-body instead of answering.
        :param times: stop after hitting this many requests.
        :param method: only requests with this HTTP method.
        :param after_apply: let the route run (the change lands) and then answer ``status`` or drop:
            the lost-response case that retries must recognise.
        """
        return self.injector.inject(
            route,
            status=status,
            rate=rate,
            retry_after=retry_after,
            latency=latency,
            drop=drop,
            times=times,
            method=method,
            after_apply=after_apply,
        )

    def remove_fault(self, fault_id: int) -> None:
        self.injector.remove(fault_id)

    def clear_faults(self) -> None:
        self.injector.clear()

    def request_count(self, route: str | None = None, method: str | None = None) -> int:
        """Requests seen whose (decoded) path matches the glob ``route`` (all when ``None``)."""
        return self.injector.count(route, method)

    def reset_counts(self) -> None:
        """Forget the request counters and the byte counters."""
        self.injector.reset_counts()
        self.state.repos.received.clear()

    def bytes_received(self, kind: str | None = None) -> int:
        """Bytes clients sent since the last reset: ``"lfs"`` (LFS transfer bodies, cut-off ones included),
        ``"commit"`` (commit request bodies), or both when ``None``."""
        received = self.state.repos.received
        if kind is None:
            return sum(received.values())
        if kind not in ("lfs", "commit"):
            raise ValueError(f"kind must be 'lfs', 'commit' or None; got {kind!r}")
        return received[kind]

    def set_commit_limits(
        self,
        *,
        max_lfs_files: int = MAX_LFS_FILES_PER_COMMIT,
        max_regular_payload: int = MAX_REGULAR_PAYLOAD_PER_COMMIT,
    ) -> None:
        """The per-commit limits client commits are refused past (400): LFS files, and bytes of the base64
        content of regular files. The Hub's values by default; tests set small ones. ``reset`` restores them."""
        for name, value in (("max_lfs_files", max_lfs_files), ("max_regular_payload", max_regular_payload)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.state.repos.max_lfs_files_per_commit = max_lfs_files
        self.state.repos.max_regular_payload_per_commit = max_regular_payload

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempted so far, oldest first."""
        return self.state.webhooks.deliveries()
