"""DESIGN.md: kill the process between any two parts of a step; nothing may disagree after.

Each case runs the real step in a child process on a file database and makes the
child die (`os._exit`, no clean-up, no rollback by Python) at one point; a second
process then checks the case against its engine state.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
CRASH_POINTS = [
    "_close",
    "_apply_engine_outcome",
    "_save_engine",
    "_materialize",
    "_event",
    "_notify",
    "record",
    "_start_clock",
]

SETUP = """
from yiwang.cases.tests import factories as f
case = f.submitted()
case = f.step(case, "precheck", "pass", "intake")
clerk = f.staff(case, "intake")
print(case.pk, clerk.pk)
"""

CRASH = """
import os, sys
from yiwang.cases import services
from yiwang.cases.models import Task
from yiwang.identity.models import User
point = os.environ["CRASH_AT"]
original = getattr(services, point)
def crash(*args, **kwargs):
    if point == "record" or point == "_event":
        os._exit(3)
    original(*args, **kwargs)
    os._exit(3)
setattr(services, point, crash)
case_id, clerk_id = map(int, sys.argv[1:3])
task = Task.objects.get(case_id=case_id, completed_at__isnull=True)
services.act(User.objects.get(pk=clerk_id), task, "accept")
"""

CHECK = """
import sys
from yiwang.cases import services
from yiwang.cases.models import Case
case = Case.objects.get(pk=int(sys.argv[1]))
print(case.status, case.tasks.filter(completed_at__isnull=True).count())
problems = services.consistency_problems(case)
print("\\n".join(problems) or "OK")
"""


def _run(env, code, *args):
    script = "import django; django.setup()\n" + textwrap.dedent(code)
    return subprocess.run(  # noqa: S603 - our own script and interpreter
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yiwang.settings",
        "DATABASE_URL": f"sqlite:///{base / 'template.sqlite3'}",
        "PYTHONPATH": str(ROOT / "src"),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return base


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_killed_step_leaves_the_case_as_it_was(migrated, tmp_path, point):
    db = tmp_path / "db.sqlite3"
    shutil.copy(migrated / "template.sqlite3", db)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yiwang.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "PYTHONPATH": str(ROOT / "src"),
        "CRASH_AT": point,
        "YIWANG_CALENDAR_FILE": str(Path(__file__).parent / "future-calendar.yaml"),
    }
    made = _run(env, SETUP)
    assert made.returncode == 0, made.stderr
    case_id, clerk_id = made.stdout.split()[-2:]
    crashed = _run(env, CRASH, case_id, clerk_id)
    assert crashed.returncode == 3, crashed.stderr
    checked = _run(env, CHECK, case_id)
    assert checked.returncode == 0, checked.stderr
    lines = checked.stdout.strip().splitlines()
    status, open_steps = lines[0].split()
    assert (status, open_steps) == ("submitted", "1")  # the accept step never happened
    assert lines[-1] == "OK"
    # And the step can still be done after the crash.
    redo = _run(
        {**env, "CRASH_AT": ""},
        CRASH.replace('os.environ["CRASH_AT"]', '"_close"').replace(
            "setattr(services, point, crash)", ""
        ),
        case_id,
        clerk_id,
    )
    assert redo.returncode == 0, redo.stderr
