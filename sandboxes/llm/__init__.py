"""Fake OpenAI and Anthropic servers speaking the real wire formats (Chat Completions with image inputs and
JSON-schema structured output; Messages with image blocks and tool use; their error bodies, 429 / 529),
with knobs for latency, errors and malformed output, and a log of every request. Tests and benchmarks
point the real SDKs at them."""
