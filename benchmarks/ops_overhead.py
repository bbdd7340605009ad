"""CPU cost of the operators' tooling per unit of work, measured in this process's CPU time (so a busy machine
inflates it less than the wall-clock benchmarks): the payload codec per payload, a business-metric update, and
one /metrics exposition of a worker that has seen traffic.

    .venv/bin/python benchmarks/ops_overhead.py [--payload-bytes 1500] [--n 20000]

An order-sync run moves about 30 payloads through the codec (inputs and results of the workflow and of its
activities, in the worker and the API) and updates about 10 metrics; the figures below are multiplied out to
that per-order cost and set against the order-sync p50. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.api.common.v1 import Payload

from merchflow.crypto.codec import PURPOSE, EncryptionCodec
from merchflow.crypto.keyring import keyring_from_keys, new_key_text
from merchflow.telemetry import metrics

PAYLOADS_PER_ORDER = 30
METRIC_UPDATES_PER_ORDER = 10


def cpu(fn: object, n: int) -> float:
    """CPU seconds per call."""
    start = time.process_time()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return (time.process_time() - start) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--payload-bytes", type=int, default=1500, help="a typical order-sync input / result")
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--order-p50-s", type=float, default=0.28, help="order-sync p50 to compare with")
    args = p.parse_args()
    codec = EncryptionCodec(keyring_from_keys({"k1": new_key_text()}, None, purpose=PURPOSE))
    body = json.dumps({"sku": "X" * max(0, args.payload_bytes - 20)}).encode()
    plain = Payload(metadata={"encoding": b"json/plain"}, data=body)
    enc = asyncio.run(codec.encode([plain]))[0]
    encode_s = cpu(lambda: codec.encode_one(plain), args.n)
    decode_s = cpu(lambda: codec.decode_one(enc), args.n)
    counter = metrics.STOCK_PUSHES.labels("ebay", "applied")
    hist = metrics.ORDER_SYNC_LATENCY.labels("ebay")
    inc_s = cpu(counter.inc, args.n)
    observe_s = cpu(lambda: hist.observe(0.3), args.n)
    from prometheus_client import REGISTRY, generate_latest

    expose_s = cpu(lambda: generate_latest(REGISTRY), 200)
    per_order_codec = PAYLOADS_PER_ORDER * (encode_s + decode_s)
    per_order_metrics = METRIC_UPDATES_PER_ORDER * max(inc_s, observe_s)
    out = {
        "payload_bytes": args.payload_bytes,
        "codec_encode_us": round(encode_s * 1e6, 2),
        "codec_decode_us": round(decode_s * 1e6, 2),
        "metric_inc_us": round(inc_s * 1e6, 3),
        "metric_observe_us": round(observe_s * 1e6, 3),
        "metrics_exposition_ms": round(expose_s * 1e3, 3),
        "per_order_codec_ms": round(per_order_codec * 1e3, 3),
        "per_order_metrics_ms": round(per_order_metrics * 1e3, 4),
        "codec_share_of_p50": round(per_order_codec / args.order_p50_s, 4),
        "metrics_share_of_p50": round(per_order_metrics / args.order_p50_s, 5),
    }
    print(
        f"codec {out['codec_encode_us']} us encode + {out['codec_decode_us']} us decode per {args.payload_bytes}-byte "
        f"payload -> {out['per_order_codec_ms']} ms per order ({out['codec_share_of_p50']:.2%} of a "
        f"{args.order_p50_s}s p50); metrics {out['per_order_metrics_ms']} ms per order"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
