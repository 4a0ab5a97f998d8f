"""`berdaya up`'s development JWT secret: random, at least 32 bytes, in a file only its owner reads, the same on
the next run."""

import stat

from berdaya.cli.devsecret import development_jwt_secret


def test_the_development_secret_is_written_once_for_its_owner_only(tmp_path):
    path = tmp_path / ".run" / "jwt-secret"
    secret = development_jwt_secret(path)
    assert len(secret.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert development_jwt_secret(path) == secret  # reused: tokens survive a restart
    assert development_jwt_secret(tmp_path / "other") != secret


def test_a_short_or_widely_readable_secret_file_is_not_kept_so(tmp_path):
    path = tmp_path / "jwt-secret"
    path.write_text("short\n")
    path.chmod(0o644)
    secret = development_jwt_secret(path)
    assert secret != "short" and len(secret.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
