"""Errors of the decision service. Messages are written for the person who clicked, shown as they are."""

from __future__ import annotations


class DecisionError(Exception):
    code: str = "decision_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DecisionNotFound(DecisionError):  # -> 404
    code = "not_found"


class DecisionConflict(DecisionError):  # already decided / version changed -> 409
    code = "conflict"


class DecisionForbidden(DecisionError):  # role may not decide -> 403
    code = "forbidden"


class DecisionInvalid(DecisionError):  # malformed request (unknown action, bad edited value) -> 422
    code = "invalid"
