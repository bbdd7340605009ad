"""Notices for people, whatever process sends them (decisions waiting, an account whose credentials were refused):
an outbox row first, then delivery by SMTP and / or a Slack-compatible incoming webhook. Offline (neither
configured) the notice is logged and marked `logged`.

Delivery remembers which channels already succeeded, so a retry after a partial failure (mail sent, webhook
down) does not mail twice.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from merchflow.db.engine import session_scope
from merchflow.db.models import NotificationOutbox
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.settings import NotificationSettings, Settings

log = get_logger(__name__)


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    decision_id: str | None,
    event: str,
    audience: str,
    subject: str,
    body: str,
    link: str | None,
) -> tuple[int, bool]:
    """Queues a notice once per dedupe key; returns (outbox id, created)."""
    existing = session.exec(
        select(NotificationOutbox).where(NotificationOutbox.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return existing.id or 0, False
    row = NotificationOutbox(
        dedupe_key=dedupe_key,
        decision_id=decision_id,
        event=event,
        audience=audience,
        subject=subject,
        body=body,
        link=link,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError:  # a concurrent retry queued it first
        again = session.exec(
            select(NotificationOutbox).where(NotificationOutbox.dedupe_key == dedupe_key)
        ).one()
        return again.id or 0, False
    return row.id or 0, True


def recipients(cfg: NotificationSettings, audience: str) -> list[str]:
    return cfg.recipients_by_group.get(audience) or cfg.smtp_to


def send_mail(cfg: NotificationSettings, *, to: list[str], subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg.smtp_from, ", ".join(to), subject
    msg.set_content(body)
    host, port, timeout = cfg.smtp_host or "localhost", cfg.smtp_port, cfg.timeout_seconds
    smtp: smtplib.SMTP
    if cfg.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if cfg.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if cfg.smtp_user and cfg.smtp_password:
            smtp.login(cfg.smtp_user, cfg.smtp_password.get_secret_value())
        smtp.send_message(msg)


def post_webhook(
    cfg: NotificationSettings, *, subject: str, body: str, link: str | None, link_label: str = "Open"
) -> None:
    """Slack's incoming-webhook shape ({"text": ...}, mrkdwn links), also accepted by Mattermost/Rocket.Chat."""
    assert cfg.webhook_url is not None
    text = f"*{subject}*\n{body}"
    if link:
        text += f"\n<{link}|{link_label}>"
    response = httpx.post(
        cfg.webhook_url.get_secret_value(), json={"text": text}, timeout=cfg.timeout_seconds
    )
    response.raise_for_status()


def deliver(session: Session, settings: Settings, outbox_id: int) -> NotificationOutbox:
    """Delivers one queued notice on every configured channel not yet done. A channel failure leaves the
    row `pending` with `last_error`; the caller commits the progress and then raises, so the activity retries."""
    row = session.get(NotificationOutbox, outbox_id)
    if row is None:
        raise LookupError(f"notification {outbox_id} not found")
    if row.status in ("sent", "logged"):
        return row
    cfg = settings.notifications
    channels: list[str] = []
    if cfg.smtp_host and recipients(cfg, row.audience):
        channels.append("smtp")
    if cfg.webhook_url is not None:
        channels.append("webhook")
    row.attempts += 1
    done = list(row.delivered)
    error: Exception | None = None
    for channel in channels:
        if channel in done:
            continue
        try:
            if channel == "smtp":
                send_mail(cfg, to=recipients(cfg, row.audience), subject=row.subject, body=row.body)
            else:
                label = "Open the decision" if row.decision_id else "Open"
                post_webhook(cfg, subject=row.subject, body=row.body, link=row.link, link_label=label)
            done.append(channel)
        except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
            error = exc
            log.warning("notification channel failed", channel=channel, outbox_id=outbox_id, error=str(exc))
    row.delivered = done
    if error is not None:
        row.status, row.last_error = "pending", str(error)[:2000]
    else:
        row.status = "sent" if channels else "logged"
        row.sent_at, row.last_error = utcnow(), None
        # offline default: the log is the delivery
        log.info(
            "notification",
            outbox_id=outbox_id,
            subject=row.subject,
            link=row.link,
            status=row.status,
        )
    session.add(row)
    return row


def mark_failed(session: Session, outbox_id: int, error: str) -> None:
    row = session.get(NotificationOutbox, outbox_id)
    if row is not None and row.status == "pending":
        row.status, row.last_error = "failed", error[:2000]
        session.add(row)


def notify_operator(
    engine: sa.Engine,
    settings: Settings,
    *,
    dedupe_key: str,
    event: str,
    subject: str,
    body: str,
    link: str | None = None,
    audience: str = "operator",
) -> NotificationOutbox:
    """Queue a notice once per `dedupe_key` and try to deliver it now. A channel that fails leaves the notice
    `pending` with its error (the outbox keeps it for a re-send); it never raises on a delivery problem."""
    with session_scope(engine) as session:
        outbox_id, _ = enqueue(
            session,
            dedupe_key=dedupe_key,
            decision_id=None,
            event=event,
            audience=audience,
            subject=subject[:300],
            body=body,
            link=link,
        )
    with session_scope(engine) as session:
        return deliver(session, settings, outbox_id)
