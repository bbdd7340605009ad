# The merchflow image: one image, several roles (`merchflow worker`, `merchflow api`, `merchflow migrate`).
# Used by temporal-dev.yml; settings come from MERCHFLOW_* environment variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MERCHFLOW_DATA_DIR=/data \
    MERCHFLOW_LOG_JSON=true

RUN useradd --create-home --uid 10001 merchflow \
    && mkdir -p /data && chown merchflow:merchflow /data

WORKDIR /app
# Dependencies first so code edits do not reinstall them: a stub package resolves and caches them.
COPY pyproject.toml README.md ./
RUN mkdir merchflow && touch merchflow/__init__.py \
    && pip install . \
    && pip uninstall -y merchflow && rm -rf merchflow build
COPY . .
RUN pip install --no-deps . && rm -rf build

USER merchflow
VOLUME ["/data"]
EXPOSE 8000
CMD ["merchflow", "--help"]
