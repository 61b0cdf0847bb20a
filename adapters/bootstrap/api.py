"""The HTTP API's wiring: settings in, the app with its Kafka publisher, SQL read model, exceptions desk and
monitor out."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import Engine

from adapters.bootstrap.broker import kafka_servers
from adapters.http.api import create_app
from adapters.http.api.monitor import Monitor
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.admin import ensure_topics, public_topic_names
from adapters.kafka.publisher import KafkaPublisher
from adapters.settings import Settings
from adapters.sql.desk import SqlDesk
from adapters.sql.engines import views_engine


@dataclass(frozen=True)
class ApiServer:
    """`oms api`: the app, what it publishes through and reads from, and where it listens."""

    settings: Settings
    app: FastAPI
    publisher: KafkaPublisher
    views: Engine

    @property
    def url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    async def serve(self) -> None:
        """Create the public topics when missing, then serve until stopped (uvicorn handles Ctrl-C)."""
        import uvicorn

        settings = self.settings
        names = public_topic_names(settings.topic_prefix)
        await ensure_topics(kafka_servers(settings), names, settings.partitions, settings.replication_factor)
        await self.publisher.start()
        try:
            config = uvicorn.Config(
                self.app, host=settings.api_host, port=settings.api_port, log_level=settings.log_level.lower()
            )
            await uvicorn.Server(config).serve()
        finally:
            await self.publisher.stop()
            self.views.dispose()


def build_api(settings: Settings) -> ApiServer:
    """The HTTP API from `settings` alone (`settings.kafka_bootstrap` must be set): it publishes to that Kafka
    and reads the views `oms project` writes, under the same OMS_DATABASE_URL / OMS_DATA_DIR."""
    publisher = KafkaPublisher(kafka_servers(settings), settings.topic)
    views = views_engine(settings)
    servers = kafka_servers(settings)
    monitor = Monitor(servers, settings.topic_prefix, settings.topic(settings.pipeline_app), views)
    app = create_app(settings, publisher, read_model=SqlReadModel(views), desk=SqlDesk(views), monitor=monitor)
    return ApiServer(settings, app, publisher, views)
