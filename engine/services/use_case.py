"""`@use_case`: a service function that owns its transaction.

A route, console view or CLI command hands the use case an unentered `runtime.unit_of_work()`;
the use case enters it, does its work, commits and leaves (leaving closes the session: whatever
was not committed — an exception's half-done work — is rolled back, and the exception
propagates). Rows come back detached but readable (the sessions do not expire on commit).

Called by another use case, or by the worker inside its own `with uow:`, it joins that
transaction: the unit of work is re-entrant and only its outermost level commits
(`engine.adapters.uow.UnitOfWork`), so a use case never commits half of its caller's work.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def use_case(fn: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """`with uow: result = fn(uow, ...); uow.commit()` around `fn`, whose first argument is the uow."""

    @functools.wraps(fn)
    def run(uow: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with uow:
            result = fn(uow, *args, **kwargs)
            uow.commit()
        return result

    return run
