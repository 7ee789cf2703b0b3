"""``python -m airflow_provider_hub.testing``: serve the Hub emulator with its demo users."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from airflow_provider_hub.testing import HubEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_hub.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--jobs-mode", choices=("simulate", "subprocess"), default="simulate")
    parser.add_argument("--data-dir", default=None, help="keep state there across restarts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with HubEmulator(
        host=args.host, port=args.port, jobs_mode=args.jobs_mode, seed=args.seed, data_dir=args.data_dir
    ) as hub:
        print(f"Hub emulator serving on {hub.url} (user {hub.user!r}, org {hub.org!r})", flush=True)
        print("Point Airflow and huggingface_hub at it with:", flush=True)
        print(f"export AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT='{hub.connection_uri()}'", flush=True)
        print(f"export HF_ENDPOINT={hub.url} HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
