"""The webhook inbox: Hub deliveries recorded in Airflow's metadata database, read back by the triggers.

The api-server's receiver (:mod:`airflow_provider_hub.plugins.webhook_receiver`) records each accepted
delivery as one row of ``hf_webhook_delivery`` before it answers 200, so a delivery survives whatever
happens to the api-server or triggerer afterwards. Rows are ordered by ``id``: a trigger keeps the last id it
has handled as its cursor and asks for what came after. A redelivery (the same body to the same path,
as the Hub sends when it did not see our answer) is recorded once.

Which secrets a path accepts comes from the triggers that read it: the asset watchers'
``HfWebhookTrigger`` rows in Airflow's ``trigger`` table name the path and the connection holding the
secret, so nothing else needs configuring. This module runs in the api-server only (Airflow forbids
database access from triggers); it is synchronous, called from the receiver's worker threads.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

TRIGGER_CLASSPATH = "airflow_provider_hub.triggers.webhooks.HfWebhookTrigger"
#: Rows older than this are deleted (the Hub's own redelivery window is minutes; a trigger down for longer
#: catches up through reconciliation with the Hub).
RETENTION_SECONDS = 7 * 24 * 3600
#: How long the path -> secret connections map and the connections' secrets are reused.
LOOKUP_TTL_SECONDS = 5.0
#: Most rows one read returns.
READ_LIMIT = 500
#: How far the triggerer's clock may be ahead of the database's when it asks what was stored.
CLOCK_SKEW_SECONDS = 60.0

_metadata = sa.MetaData()
deliveries = sa.Table(
    "hf_webhook_delivery",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.String(100), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("secret_conn_ids", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.UniqueConstraint("path", "digest", name="hf_webhook_delivery_path_digest_uq"),
    sa.Index("hf_webhook_delivery_path_id_idx", "path", "id"),
)


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to record: its path, raw body (a redelivery has the same), parsed event, and the secret
    connections whose secret it carried."""

    path: str
    body: bytes
    event: dict[str, Any]
    secret_conn_ids: list[str]


@dataclass(frozen=True)
class Delivery:
    """One recorded delivery: its position in the inbox and the trigger's event payload."""

    id: int
    event: dict[str, Any]


class WebhookInbox:
    """The deliveries table on one database engine (the api-server's ``airflow.settings.engine``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready = False
        self._lock = threading.Lock()
        self._pruned_at = 0.0
        self._secret_conn_ids: tuple[float, dict[str, frozenset[str]]] = (0.0, {})
        self._secrets: dict[str, tuple[float, str | None]] = {}

    def _ensure_table(self) -> None:
        # A provider's table outside Airflow's migrations: created on first use, in any api-server replica.
        if not self._ready:
            with self._lock:
                if not self._ready:
                    try:
                        deliveries.create(self.engine, checkfirst=True)
                    except sa.exc.DatabaseError:
                        # Another api-server replica created it between the check and the create.
                        if not sa.inspect(self.engine).has_table(deliveries.name):
                            raise
                    self._ready = True

    def record(self, deliveries_: list[NewDelivery]) -> list[int]:
        """Record deliveries durably, in one transaction, and return their ids (the first one's, for a
        redelivery of the same body to the same path)."""
        self._ensure_table()
        now = time.time()
        rows = [
            {
                "path": d.path,
                "digest": hashlib.sha256(d.body).hexdigest(),
                "received_at": now,
                "secret_conn_ids": json.dumps(sorted(d.secret_conn_ids)),
                "event": json.dumps({**d.event, "received_at": now}),
            }
            for d in deliveries_
        ]
        try:
            ids = self._insert_new(rows)
        except sa.exc.IntegrityError:
            # Another replica recorded one of them between our lookup and our insert: one at a time.
            ids = [self._insert_new([row])[0] for row in rows]
        if now - self._pruned_at > 3600:
            self._pruned_at = now
            with self.engine.begin() as conn:
                conn.execute(deliveries.delete().where(deliveries.c.received_at < now - RETENTION_SECONDS))
        return ids

    def _insert_new(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert the rows not recorded yet, in one transaction; every row's id, in order."""
        ids: dict[tuple[str, str], int] = {}
        with self.engine.begin() as conn:
            for path in {row["path"] for row in rows}:
                digests = {row["digest"] for row in rows if row["path"] == path}
                for found_id, digest in conn.execute(
                    sa.select(deliveries.c.id, deliveries.c.digest).where(
                        deliveries.c.path == path, deliveries.c.digest.in_(digests)
                    )
                ):
                    ids[(path, digest)] = found_id
            for row in rows:
                key = (row["path"], row["digest"])
                if key not in ids:
                    result = conn.execute(deliveries.insert().values(**row))
                    ids[key] = int(result.inserted_primary_key[0])  # type: ignore[index]
        return [ids[(row["path"], row["digest"])] for row in rows]

    def read(self, path: str, secret_conn_id: str, after: int) -> tuple[list[Delivery], int]:
        """The deliveries after ``after`` accepted with ``secret_conn_id``'s secret, and the new cursor."""
        self._ensure_table()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries.c.id, deliveries.c.secret_conn_ids, deliveries.c.event)
                .where(deliveries.c.path == path, deliveries.c.id > after)
                .order_by(deliveries.c.id)
                .limit(READ_LIMIT)
            ).all()
        found = [
            Delivery(row.id, json.loads(row.event))
            for row in rows
            if secret_conn_id in json.loads(row.secret_conn_ids)
        ]
        return found, (rows[-1].id if rows else after)

    def last_id(self, path: str) -> int:
        """The id of the newest delivery recorded for ``path`` (0 when none): where a new reader starts."""
        self._ensure_table()
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.max(deliveries.c.id)).where(deliveries.c.path == path)
            ).scalar()
        return int(value or 0)

    def stored(self, trigger_id: int, heads: list[dict[str, Any]]) -> list[bool]:
        """For each fired head (``{"repo_type", "repo_id", "head_sha", "since"}``), whether the triggerer
        stored the event: an asset event of an asset ``trigger_id`` watches, created from a trigger payload for that head, no earlier than ``since`` (epoch seconds).

        A trigger cannot read the database itself; this is how it learns which of its events reached it.
        """
        if not heads:
            return []
        from airflow.models.asset import AssetEvent, AssetWatcherModel
        from airflow.utils.session import create_session

        # Clocks of the triggerer and of the database differ a little.
        earliest = datetime.datetime.fromtimestamp(
            min(float(h["since"]) for h in heads) - CLOCK_SKEW_SECONDS, tz=datetime.timezone.utc
        )
        watched = sa.select(AssetWatcherModel.asset_id).where(AssetWatcherModel.trigger_id == trigger_id)
        query = sa.select(AssetEvent.extra).where(
            AssetEvent.timestamp >= earliest, AssetEvent.asset_id.in_(watched)
        )
        found: set[tuple[Any, Any, Any]] = set()
        with create_session() as session:
            for extra in session.scalars(query):
                payload = (
                    extra.get("payload") if isinstance(extra, dict) and extra.get("from_trigger") else None
                )
                if isinstance(payload, dict):
                    found.add((payload.get("repo_type"), payload.get("repo_id"), payload.get("head_sha")))
        return [(h["repo_type"], h["repo_id"], h["head_sha"]) in found for h in heads]

    def accepting(self, path: str, given: str) -> tuple[frozenset[str], list[str]]:
        """The secret connections of ``path``, and those whose password is ``given`` (none when empty).

        Every candidate is compared in constant time, so timing does not tell which (if any) matched.
        """
        conn_ids = self.secret_conn_ids(path)
        given_bytes = given.encode("utf-8", "surrogateescape")
        matched = []
        for conn_id in sorted(conn_ids):
            secret = self.secret(conn_id)
            if secret is not None and hmac.compare_digest(
                given_bytes, secret.encode("utf-8", "surrogateescape")
            ):
                matched.append(conn_id)
        return conn_ids, matched if given else []

    def secret_conn_ids(self, path: str) -> frozenset[str]:
        """The connections whose password is a secret ``path`` accepts: those its watchers name."""
        fetched_at, by_path = self._secret_conn_ids
        if time.monotonic() - fetched_at > LOOKUP_TTL_SECONDS:
            by_path = _watched_paths()
            self._secret_conn_ids = (time.monotonic(), by_path)
        return by_path.get(path, frozenset())

    def secret(self, conn_id: str) -> str | None:
        """The password of ``conn_id`` (``None`` when the connection is missing or has none)."""
        fetched_at, value = self._secrets.get(conn_id, (0.0, None))
        if time.monotonic() - fetched_at > LOOKUP_TTL_SECONDS:
            value = _connection_password(conn_id)
            self._secrets[conn_id] = (time.monotonic(), value)
        return value


def _watched_paths() -> dict[str, frozenset[str]]:
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    from airflow_provider_hub.utils.webhook_payloads import check_path

    by_path: dict[str, set[str]] = {}
    with create_session() as session:
        for trigger in session.scalars(sa.select(Trigger).where(Trigger.classpath == TRIGGER_CLASSPATH)):
            try:
                kwargs = trigger.kwargs
            except Exception as exc:  # one unreadable row (a rotated Fernet key) must not close every path
                log.warning("Skipping trigger %s, whose arguments cannot be read: %s", trigger.id, exc)
                continue
            if kwargs.get("port") is None and kwargs.get("secret_conn_id"):
                by_path.setdefault(check_path(kwargs.get("path", "hf-webhook")), set()).add(
                    kwargs["secret_conn_id"]
                )
    return {path: frozenset(conn_ids) for path, conn_ids in by_path.items()}


def _connection_password(conn_id: str) -> str | None:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        return Connection.get_connection_from_secrets(conn_id).password or None
    except AirflowNotFoundException:
        return None
