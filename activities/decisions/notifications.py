"""Notices that a decision needs a human: what they say. Queuing and delivery (outbox row, SMTP and / or a
Slack-compatible incoming webhook) are the platform's (merchflow.notify), shared with other processes' notices;
re-exported here under their old names.
"""

from __future__ import annotations

from domain.decisions.rules import Proposal
from merchflow.notify import deliver as deliver
from merchflow.notify import enqueue as enqueue
from merchflow.notify import mark_failed as mark_failed
from merchflow.notify import post_webhook as post_webhook
from merchflow.notify import recipients as recipients
from merchflow.notify import send_mail as send_mail

_TITLES = {
    "needs_approval": "Decision needs approval",
    "escalated": "Escalated: decision still waiting",
    "premise_changed": "Facts changed: decision needs a new look",
    "batch_pending": "Decisions need approval",
}


def compose(
    *,
    event: str,
    decision_id: str,
    version: int,
    proposal: Proposal,
    link: str | None,
    audience: str,
    deadline: str | None,
) -> tuple[str, str]:
    """Subject and plain-text body. Plain text reads well in mail clients and chat alike."""
    what = f"{proposal.decision_type.replace('_', ' ')} for {proposal.subject}"
    subject = f"[merchflow] {_TITLES.get(event, event)}: {what}"
    lines = [
        f"{_TITLES.get(event, event)} ({audience}).",
        f"Decision {decision_id} (version {version}): {what}"
        + (f" on {proposal.marketplace}" if proposal.marketplace else ""),
        f"Current:  {proposal.current}",
        f"Proposed: {proposal.proposed}",
        f"Confidence: {proposal.confidence:.2f}",
    ]
    if proposal.reasoning:
        lines.append(f"Reasoning: {proposal.reasoning}")
    if deadline:
        lines.append(f"Decide before: {deadline}")
    if link:
        lines.append(f"Open: {link}")
    return subject[:300], "\n".join(lines)
