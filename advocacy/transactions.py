"""Work queued once per transaction, after it commits.

Hot paths record many changes of one organization in one transaction (a publishing batch
posts several deliveries, a review decides several): what each change asks for after the
commit (link the audit chain, move the report version, queue a statistics refresh) must
happen once for the transaction, not once per change.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.db import transaction


def on_commit_once(key: Hashable, callback: Callable[[], None], *, robust: bool = False) -> None:
    """`transaction.on_commit(callback)`, unless a callback queued under the same `key`
    waits already for the current transaction's commit (Django drops those of a savepoint
    rolled back, so a key is queued again after one). Outside a transaction it runs now."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(queued, "commit_once_key", None) == key for _, queued, _ in connection.run_on_commit
    ):
        return

    def run() -> None:
        callback()

    run.commit_once_key = key
    transaction.on_commit(run, robust=robust)
