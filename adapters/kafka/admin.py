"""Topic creation: explicit and idempotent (the embedded broker does not auto-create topics)."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from events import topics

_TOPIC_ALREADY_EXISTS = 36


class TopicCreationError(RuntimeError):
    pass


def public_topic_names(prefix: str = "") -> list[str]:
    return [f"{prefix}{name}" for name in topics.PUBLIC_TOPICS]


async def ensure_topics(
    bootstrap: str, names: Iterable[str], partitions: int = 8, replication_factor: int = 1
) -> list[str]:
    """Create each missing topic; return the ones created. Existing topics are left as they are."""
    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="oms-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor) for name in missing]
        )
    finally:
        await admin.close()
    failures = [
        f"{name}: {message or code}"
        for name, code, message in _topic_errors(response)
        if code not in (0, _TOPIC_ALREADY_EXISTS)
    ]
    if failures:
        raise TopicCreationError("could not create topics: " + "; ".join(failures))
    return missing


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    rows = getattr(response, "topic_errors", [])
    return [(row[0], row[1], row[2] if len(row) > 2 else None) for row in rows]
