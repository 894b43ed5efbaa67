"""The real demo server (granian + task worker) on a throwaway database, for e2e and bench.

Both harnesses drive the same processes `make run` starts, so what they measure
and click is what a visitor gets, not Django's test client.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GRANIAN = str(Path(PYTHON).with_name("granian"))
# Variables that would point the server at another database than its own var dir.
_FOREIGN_ENV = ("DATABASE_URL", "YIWANG_SQLITE_PATH", "YIWANG_DEBUG", "DJANGO_SETTINGS_MODULE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} missing)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class DemoServer:
    """A var dir with its own SQLite database, the granian web server and the task worker."""

    def __init__(self, *, workers: int = 1, prefix: str = "yiwang-e2e-") -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.server_log = self.var_dir / "server.log"
        self.worker_log = self.var_dir / "worker.log"
        self._procs: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        self.env.update(
            YIWANG_VAR_DIR=str(self.var_dir),
            YIWANG_DEMO="1",
            DJANGO_SETTINGS_MODULE="yiwang.settings",
            PYTHONUNBUFFERED="1",
            YIWANG_LOG_LEVEL="INFO",
        )

    def manage(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        """Run a management command against this server's database; return its output."""
        result = subprocess.run(  # noqa: S603 (fixed argv, our own manage.py)
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout + result.stderr

    def prepare(self) -> None:
        """Migrate, load the demo city and collect static files, as `make run` does."""
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo")
        self.manage("collectstatic", "--noinput", "-v0")

    def start(self, *, worker: bool = True, timeout: float = 60) -> None:
        if worker:
            self._spawn([PYTHON, "manage.py", "worker"], self.worker_log)
        self._spawn(
            [
                GRANIAN,
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
                "yiwang.wsgi:application",
            ],
            self.server_log,
        )
        self._wait_healthy(timeout)

    def _spawn(self, argv: list[str], log: Path) -> None:
        with log.open("ab") as out:
            proc = subprocess.Popen(  # noqa: S603 (fixed argv)
                argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self._procs.append(proc)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{proc.args[0]} exited with {proc.returncode}:\n"
                        f"server log:\n{tail(self.server_log)}\n"
                        f"worker log:\n{tail(self.worker_log)}"
                    )
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {timeout}s:\n{tail(self.server_log)}")

    def sms_code(self, phone: str, *, after_id: int = 0, timeout: float = 15) -> str:
        """The newest one-time code texted to `phone`, from the outbox (the worker also logs it).

        The database keeps only the code's hash, so the outbox payload (and the console SMS
        sender's log line) is where a test finds it, just as a demo visitor would.
        """
        script = (
            "import json; from yiwang.notify.models import OutboxMessage as M\n"
            f"for m in M.objects.filter(id__gt={int(after_id)}).order_by('-id')[:50]:\n"
            "    p = json.loads(m.payload)\n"
            f"    if p.get('to') == {phone!r}: print('CODE:' + p.get('text', '')); break\n"
        )
        deadline = time.monotonic() + timeout
        while True:
            text = self.manage("shell", "-c", script)
            found = re.search(r"CODE:.*?(?<!\d)(\d{6})(?!\d)", text)
            if found:
                return found.group(1)
            logged = re.findall(
                rf"SMS to {re.escape(phone)}: .*?(?<!\d)(\d{{6}})(?!\d)",
                self.worker_log.read_text(errors="replace") if self.worker_log.exists() else "",
            )
            if logged:
                return logged[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS code for {phone} in the outbox or worker log")
            time.sleep(0.5)

    def outbox_max_id(self) -> int:
        out = self.manage(
            "shell",
            "-c",
            "from django.db.models import Max; from yiwang.notify.models import OutboxMessage as M;"
            "print('MAX:', M.objects.aggregate(m=Max('id'))['m'] or 0)",
        )
        return int(re.search(r"MAX: (\d+)", out).group(1))

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()

    def save_logs(self, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        for log in (self.server_log, self.worker_log):
            if log.exists():
                shutil.copy(log, dest / log.name)

    def remove(self) -> None:
        shutil.rmtree(self.var_dir, ignore_errors=True)
