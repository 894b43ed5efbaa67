import json
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from yiwang import settings as project_settings


def test_local_secrets_are_generated_once_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path)
    first = project_settings._local_secrets()
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert project_settings._local_secrets() == first == json.loads(path.read_text())
    assert {"SECRET_KEY", "YIWANG_FIELD_KEYS", "YIWANG_BLIND_INDEX_KEY"} <= first.keys()


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.setattr(project_settings, "PRODUCTION", True)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured):
        project_settings._secret("SECRET_KEY")


def test_production_reads_secrets_from_the_environment(monkeypatch):
    monkeypatch.setattr(project_settings, "PRODUCTION", True)
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert project_settings._secret("SECRET_KEY") == "from-env"
