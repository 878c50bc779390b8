"""Atomic conditional writes in DynamoDB.

On AWS a conditional PutItem/UpdateItem/DeleteItem checks its condition and
writes as one step. moto's threaded server checks and writes without a lock,
so two rollouts racing for gantry's lock item could both "win". One lock
around moto's write methods restores AWS's guarantee; the state table's
traffic is tiny, so serialising it costs nothing measurable.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

_lock = threading.RLock()

_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def _serialised(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return fn(*args, **kwargs)

    wrapper._gantry_atomic = True  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in _METHODS:
        fn = getattr(DynamoDBBackend, name, None)
        if fn is not None and not getattr(fn, "_gantry_atomic", False):
            setattr(DynamoDBBackend, name, _serialised(fn))
