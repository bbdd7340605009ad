"""`python -m sandboxes.llm --openai-port 8711 --anthropic-port 8712`: both fakes, for benchmarks and manual runs."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from sandboxes.llm.anthropic_app import create_app as create_anthropic
from sandboxes.llm.openai_app import create_app as create_openai
from sandboxes.llm.state import FakeKnobs, FakeState


async def _serve(openai_port: int, anthropic_port: int, knobs: FakeKnobs) -> None:
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                create_openai(FakeState("openai", knobs.model_copy())),
                host="127.0.0.1",
                port=openai_port,
                log_level="warning",
            )
        ),
        uvicorn.Server(
            uvicorn.Config(
                create_anthropic(FakeState("anthropic", knobs.model_copy())),
                host="127.0.0.1",
                port=anthropic_port,
                log_level="warning",
            )
        ),
    ]
    await asyncio.gather(*(s.serve() for s in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--openai-port", type=int, default=8711)
    parser.add_argument("--anthropic-port", type=int, default=8712)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--api-key", default="test-key")
    args = parser.parse_args()
    asyncio.run(
        _serve(
            args.openai_port, args.anthropic_port, FakeKnobs(latency_ms=args.latency_ms, api_key=args.api_key)
        )
    )


if __name__ == "__main__":
    main()
