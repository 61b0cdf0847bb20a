# The oms services (worker, projector, api) in one image; docker-compose.kafka.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package needs, so a change to tests or docs does not invalidate the install layer.
# constraints.txt pins every dependency to the versions CI last passed with, as `./dev` installs them.
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY events ./events
COPY pipeline ./pipeline
COPY projections ./projections
COPY adapters ./adapters
RUN pip install -c constraints.txt . \
    && useradd --create-home --uid 10001 oms \
    && mkdir -p /var/lib/oms \
    && chown oms /var/lib/oms

USER oms
WORKDIR /var/lib/oms
ENV OMS_DATA_DIR=/var/lib/oms
CMD ["oms", "--help"]
