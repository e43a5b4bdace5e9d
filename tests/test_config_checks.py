"""Unit tests of the output-folder check every config folder passes before anything is written."""

from __future__ import annotations

import os

import pytest

from selftt import config_checks
from selftt.config_checks import check_output_folder
from selftt.errors import ConfigError


def test_existing_or_creatable_folders_pass(tmp_path):
    check_output_folder("k", tmp_path)
    check_output_folder("k", tmp_path / "new" / "deeper")
    check_output_folder("k", None)
    check_output_folder("k", "s3://bucket/logs")  # remote: not checked here
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_file_or_a_folder_under_a_file_is_refused(tmp_path):
    file = tmp_path / "f.txt"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config key 'trainer.default_root_dir': '.*f.txt' is a file, not a folder"):
        check_output_folder("trainer.default_root_dir", file)
    with pytest.raises(ConfigError, match=r"cannot be created: '.*f.txt' is a file"):
        check_output_folder("translation.cache_dir", file / "sub")


def test_a_folder_without_write_permission_is_refused(tmp_path, monkeypatch):
    """The branch a non-root user meets (root may write anywhere, so os.access is stood in for)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        config_checks.os, "access", lambda path, mode: False if str(path) == str(locked) else real_access(path, mode)
    )
    with pytest.raises(ConfigError, match=r"config key 'checkpoint.dirpath': folder '.*locked/ckpt/a' cannot be "
                       r"created: no permission to write in '.*locked'"):
        check_output_folder("checkpoint.dirpath", locked / "ckpt" / "a")
    check_output_folder("checkpoint.dirpath", tmp_path / "open")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused_for_a_normal_user(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="no permission to write in"):
        check_output_folder("k", locked / "x")
