"""Stored uploads that no row names any more."""

import datetime as dt
from collections.abc import Collection

from django.core.files.storage import default_storage
from django.utils import timezone


def remove_orphans(folder: str, known: Collection[str], older_than: dt.timedelta) -> int:
    """Delete files under `folder` that are not in `known` and older than `older_than`.

    A step that stored a file and then rolled back (a later check failed, the process
    crashed) leaves its bytes behind; the age keeps a transaction still in flight safe.
    """
    cutoff = timezone.now() - older_than
    removed = 0
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            folders, files = default_storage.listdir(current)
        except FileNotFoundError:
            continue
        pending.extend(f"{current}/{name}" for name in folders)
        for name in files:
            path = f"{current}/{name}"
            if path not in known and default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                removed += 1
    return removed
