"""The approver pages: the queue, a decision's page, signed links from notices, and the policy admin."""

from fastapi import APIRouter

from api.decisions import bulk, links, pages, policies

router = APIRouter(include_in_schema=False)
# links and bulk results before the pages: /approvals/link/{token} must not be read as a decision id
for _sub in (links.router, bulk.router, policies.router, pages.router):
    router.include_router(_sub)
