"""What the local classifieds sandbox accepts: not secrets, they protect nothing but a local test double."""

CLASSIFIEDS_API_KEY = "cl_sandbox_key"
CLASSIFIEDS_WEBHOOK_SECRET = "whsec_classifieds_sandbox"  # noqa: S105
