"""Records in the database which marketplace accounts keep failing (for the account alert), from the
transport's request listener (connectors/observers.py).

Writes happen on state changes only, plus a refresh at most every few seconds while failing and every minute
while healthy (so a success on this worker clears a failure another worker recorded): an order push costs no
database write. Writes go to one background thread, never blocking the event loop the call ran in.
"""

from __future__ import annotations

import concurrent.futures
import time

import sqlalchemy as sa
from sqlmodel import Session

from activities.ops.tables import AccountHealth
from connectors.observers import set_request_listener
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps

log = get_logger(__name__)

FAILING_REFRESH = 10.0  # seconds between writes while an account keeps failing
HEALTHY_REFRESH = 60.0


class AccountHealthRecorder:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}
        self._writer = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="account-health"
        )

    def __call__(self, marketplace: str, account: str, ok: bool, error: str | None) -> None:
        key = (marketplace, account)
        now = time.monotonic()
        known = self._known.get(key)
        refresh = HEALTHY_REFRESH if ok else FAILING_REFRESH
        if known is not None and known[0] == ok and now - known[1] < refresh:
            return
        self._known[key] = (ok, now)
        self._writer.submit(self.write, marketplace, account, ok, error)

    def write(self, marketplace: str, account: str, ok: bool, error: str | None) -> None:
        try:
            for _ in range(2):  # two workers may insert the first row at once: the loser updates
                try:
                    with session_scope(self.engine) as s:
                        self._apply(s, marketplace, account, ok, error)
                    return
                except sa.exc.IntegrityError:
                    continue
        except Exception as exc:  # health is advisory: never let it break anything
            log.warning(
                "account health not recorded", marketplace=marketplace, account=account, error=str(exc)
            )

    @staticmethod
    def _apply(s: Session, marketplace: str, account: str, ok: bool, error: str | None) -> None:
        now = utcnow()
        row = s.get(AccountHealth, (marketplace, account)) or AccountHealth(
            marketplace=marketplace, account=account
        )
        if ok:
            row.failing_since, row.failures, row.last_success_at = None, 0, now
        else:
            row.failing_since = row.failing_since or now
            row.failures += 1
            row.last_failure_at, row.last_error = now, (error or "")[:1000]
        row.updated_at = now
        s.add(row)

    def flush(self) -> None:
        """Tests: wait for the queued writes."""
        self._writer.submit(lambda: None).result()


def wire_account_health(deps: Deps) -> None:
    """Composition root hook (workers/build.py)."""
    recorder = AccountHealthRecorder(deps.engine)
    deps.services["account_health"] = recorder
    set_request_listener(recorder)
