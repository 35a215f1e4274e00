"""The rules of external tasks (Camunda 7's external task pattern), without a database.

A worker asks for work by topic (`fetch and lock`): it gets tasks nobody holds, each locked for
it alone for `lock_duration` milliseconds. Only the holder may complete the task, report a
failure, a BPMN error, extend the lock or give it back (unlock). A lock that expired without
another worker fetching the task still lets its holder finish (as in Camunda); once another
worker fetched it, the first one is refused. A failure with retries left makes the task
fetchable again after `retry_timeout`; with none left it is an incident for an operator.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.errors import Conflict, Invalid

MAX_TASKS = 100  # per fetch
MAX_TOPICS = 50  # per fetch
MAX_LOCK_MS = 7 * 24 * 3600 * 1000  # a week; a worker holding a task longer should extend
MAX_RETRY_TIMEOUT_MS = 30 * 24 * 3600 * 1000
MAX_WORKER_ID = 255
MAX_TOPIC = 255
MAX_RETRIES = 1000
MAX_ERROR_MESSAGE = 2000
MAX_ERROR_DETAILS = 100_000  # a stack trace


class LockedRow(Protocol):
    id: str
    worker: str | None
    lock_expires_at: datetime | None
    retries: int | None


@dataclass(frozen=True)
class TopicRequest:
    """One topic of a fetch: its name, how long to lock, which variables to return (None: all)."""

    name: str
    lock_ms: int
    variables: tuple[str, ...] | None = None


def _whole(value: Any, field: str, low: int, high: int, errors: dict[str, list[str]]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(field, []).append(f"must be a whole number from {low} to {high}")
        return None
    return value


def worker_id(value: Any, field: str = "workerId") -> str:
    """A worker id as Camunda takes it: any non-empty string (the worker's own name for itself)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_WORKER_ID:
        raise Invalid(f"{field} is required: a name of 1 to {MAX_WORKER_ID} characters",
                      errors={field: [f"a name of 1 to {MAX_WORKER_ID} characters"]})
    return value


def topic_requests(raw: Any) -> list[TopicRequest]:
    """The `topics` of a fetch: [{topicName, lockDuration, variables}], each problem named by
    its place (`topics.0.lockDuration`)."""
    if not isinstance(raw, list) or not raw:
        raise Invalid("topics must name at least one topic", errors={"topics": ["at least one topic"]})
    if len(raw) > MAX_TOPICS:
        raise Invalid(f"at most {MAX_TOPICS} topics per fetch", errors={"topics": [f"more than {MAX_TOPICS}"]})
    errors: dict[str, list[str]] = {}
    found: list[TopicRequest] = []
    for index, topic in enumerate(raw):
        where = f"topics.{index}"
        if not isinstance(topic, dict):
            errors[where] = ["must be an object with topicName and lockDuration"]
            continue
        name = topic.get("topicName")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TOPIC:
            errors[f"{where}.topicName"] = [f"a topic name of 1 to {MAX_TOPIC} characters"]
        lock = _whole(topic.get("lockDuration"), f"{where}.lockDuration", 1, MAX_LOCK_MS, errors)
        names = topic.get("variables")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            errors[f"{where}.variables"] = ["a list of variable names, or null for all"]
            names = None
        if f"{where}.topicName" not in errors and lock is not None:
            found.append(TopicRequest(name, lock, tuple(names) if names is not None else None))
    if errors:
        raise Invalid("the fetch has invalid topics", errors=errors)
    return found


def max_tasks(value: Any) -> int:
    errors: dict[str, list[str]] = {}
    count = _whole(value, "maxTasks", 0, MAX_TASKS, errors)
    if errors:
        raise Invalid(f"maxTasks must be a whole number from 0 to {MAX_TASKS}", errors=errors)
    return count  # type: ignore[return-value]


def lock_duration(value: Any, field: str = "newDuration") -> timedelta:
    errors: dict[str, list[str]] = {}
    ms = _whole(value, field, 1, MAX_LOCK_MS, errors)
    if errors:
        raise Invalid(f"{field} must be milliseconds from 1 to {MAX_LOCK_MS}", errors=errors)
    return timedelta(milliseconds=ms)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Failure:
    """What a worker reports when it could not do the task."""

    message: str
    details: str | None
    retries: int
    retry_timeout: timedelta


def failure(message: Any, details: Any, retries: Any, retry_timeout: Any) -> Failure:
    errors: dict[str, list[str]] = {}
    if message is not None and not isinstance(message, str):
        errors["errorMessage"] = ["must be a string"]
    if details is not None and not isinstance(details, str):
        errors["errorDetails"] = ["must be a string"]
    count = _whole(retries, "retries", 0, MAX_RETRIES, errors)
    wait = 0 if retry_timeout is None else _whole(retry_timeout, "retryTimeout", 0, MAX_RETRY_TIMEOUT_MS, errors)
    if errors:
        raise Invalid("the failure has invalid fields", errors=errors)
    return Failure(((message or "").strip() or "the worker reported a failure")[:MAX_ERROR_MESSAGE],
                   details[:MAX_ERROR_DETAILS] if details else None, count,  # type: ignore[arg-type]
                   timedelta(milliseconds=wait))  # type: ignore[arg-type]


def is_fetchable(row: LockedRow, now: datetime) -> bool:
    """Nobody holds it (never locked, unlocked, or the lock expired) and it has retries left."""
    return (row.lock_expires_at is None or row.lock_expires_at <= now) and row.retries != 0


def require_holder(row: LockedRow, worker: str) -> None:
    """Only the worker that fetched the task may finish it (also after its lock expired, as long
    as no other worker fetched it since); a 409 that names the holder otherwise."""
    if row.worker is None:
        raise Conflict(f"external task {row.id} is not locked by worker '{worker}': it is not locked by "
                       f"any worker; fetch and lock it first")
    if row.worker != worker:
        raise Conflict(f"external task {row.id} cannot be finished by worker '{worker}': it is locked by "
                       f"worker '{row.worker}'")


def require_live_lock(row: LockedRow, worker: str, now: datetime) -> None:
    """Extending a lock needs one that has not expired (Camunda's rule)."""
    require_holder(row, worker)
    if row.lock_expires_at is None or row.lock_expires_at <= now:
        raise Conflict(f"the lock of external task {row.id} expired; fetch and lock it again")


def pick_variables(snapshot: dict[str, Any], names: tuple[str, ...] | None) -> dict[str, Any]:
    """The variables a worker asked for (None: all of them); names the task lacks are left out."""
    if names is None:
        return dict(snapshot)
    return {name: snapshot[name] for name in names if name in snapshot}


def variables_object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be an object", errors={field: ["must be an object"]})
    bad = [key for key in value if not isinstance(key, str) or not key or len(key) > 255]
    if bad:
        raise Invalid(f"{field}: a variable name has 1 to 255 characters", errors={field: ["bad variable name"]})
    return value


def error_code(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise Invalid("errorCode is required: the code an error boundary event catches",
                      errors={"errorCode": ["a code of 1 to 255 characters"]})
    return value.strip()
