"""What the local payments sandbox accepts: not secrets, they protect nothing but a local test double."""

SANDBOX_API_KEY = "sk_test_merchflow_sandbox"
SANDBOX_WEBHOOK_SECRET = "whsec_merchflow_sandbox"  # noqa: S105
