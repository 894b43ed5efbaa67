import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from yiwang.common.schedule import JOBS

log = logging.getLogger("yiwang.worker")


def _run_scheduler(stop: threading.Event) -> None:
    next_run = {name: 0.0 for name in JOBS}
    while not stop.is_set():
        now = time.monotonic()
        for name, job in JOBS.items():
            if now >= next_run[name]:
                next_run[name] = now + job.seconds
                close_old_connections()
                try:
                    job.func()
                except Exception:
                    log.exception("periodic job %s failed", name)
        stop.wait(0.2)


class Command(BaseCommand):
    help = "Run the task worker (django-tasks-db) and the periodic jobs (audit sealer, ...)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="run queued tasks and jobs once")

    def handle(self, *args, batch: bool = False, **options):
        if batch:
            for job in JOBS.values():
                job.func()
            call_command("db_worker", batch=True, verbosity=0)
            return
        stop = threading.Event()
        thread = threading.Thread(target=_run_scheduler, args=(stop,), daemon=True)
        thread.start()
        try:
            call_command("db_worker", interval=0.5)
        finally:
            stop.set()
