import pytest


@pytest.fixture(autouse=True)
def _fast_hashes_and_private_media(settings, tmp_path):
    """The demo has dozens of accounts (PBKDF2 costs ~0.5 s each) and writes material files."""
    settings.MEDIA_ROOT = tmp_path / "media"
