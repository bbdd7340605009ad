"""Banner lines of `merchflow up` for the operators' tooling: metrics, and how the Temporal UI reads
encrypted payloads through the codec server."""

from __future__ import annotations

from merchflow.settings import Settings


def codec_endpoint(settings: Settings) -> str | None:
    """The codec server's URL when payloads are encrypted (the dev server's --ui-codec-endpoint)."""
    return f"{settings.base_url}/codec" if settings.codec.keys else None


def links(settings: Settings) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if settings.metrics.enabled:
        worker = settings.metrics.worker_port
        rows.append(
            ("Metrics", f"{settings.base_url}/metrics" + (f"  (workers: :{worker} and up)" if worker else ""))
        )
    endpoint = codec_endpoint(settings)
    if endpoint is None:
        rows.append(("Payloads", "in clear in Temporal (set MERCHFLOW_CODEC__KEYS__<id> to encrypt them)"))
    elif settings.embedded_temporal:
        rows.append(
            (
                "Codec server",
                f"{endpoint}  (the UI above already uses it: in its Codec Server settings tick "
                f"'Include cross-origin credentials' and log in at {settings.base_url}/login as an operator)",
            )
        )
    else:
        rows.append(
            (
                "Codec server",
                f"{endpoint}  (point your Temporal UI at it: TEMPORAL_CODEC_ENDPOINT={endpoint}, or its Codec "
                "Server settings; callers need an operator token or web login)",
            )
        )
    return rows
