"""``watch`` / ``up --watch``: ``develop.watch`` rules applied to file changes.

    rules      the stack's watch items as Rules; which changed file each one takes (pure)
    changes    a batch of changed files → Tasks per service: Sync, Exec, Restart, Rebuild (pure)
    loop       inotify (watchfiles) → batches → Tasks applied through ProjectClient

Imported only by the ``watch`` verb (watchfiles loads with the loop).
"""
