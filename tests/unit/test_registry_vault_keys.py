"""The registry's key-encryption key: read from the secret or refused (fail closed), and wrapping a household's data
key so that only that KEK, for that household, unwraps it."""

from __future__ import annotations

import base64
import uuid

import pytest

from services.registry.vault import KEK_FILE_VARIABLE, KEK_VARIABLE, KeyEncryptionKey, new_kek
from shared.ed25519 import KeyConfigError

HOUSEHOLD, OTHER = uuid.uuid4(), uuid.uuid4()


def test_without_the_secret_the_kek_is_refused_naming_the_variable():
    with pytest.raises(KeyConfigError, match=f"{KEK_VARIABLE} \\(or {KEK_FILE_VARIABLE}\\) is not set"):
        KeyEncryptionKey.from_environment({})


@pytest.mark.parametrize("text, why", [
    ("no-colon", "must be '<key id>:<base64 of 32 bytes>'"),
    ("bad id!:" + base64.b64encode(bytes(32)).decode(), "key id 'bad id!' must be 1-64"),
    ("k1:not base64!", "not base64"),
    ("k1:" + base64.b64encode(bytes(16)).decode(), r"16 bytes, the key-encryption key \(AES-256\) has 32"),
])
def test_a_malformed_kek_is_refused_without_showing_it(text, why):
    with pytest.raises(KeyConfigError, match=why) as refused:
        KeyEncryptionKey.from_environment({KEK_VARIABLE: text})
    secret = text.partition(":")[2]
    assert not secret or secret not in str(refused.value)


def test_the_kek_is_read_from_a_file_and_not_from_both(tmp_path):
    path = tmp_path / "registry-data-key"
    path.write_text(new_kek("2026-12") + "\n")
    assert KeyEncryptionKey.from_environment({KEK_FILE_VARIABLE: str(path)}).key_id == "2026-12"
    with pytest.raises(KeyConfigError, match="both"):
        KeyEncryptionKey.from_environment({KEK_FILE_VARIABLE: str(path), KEK_VARIABLE: new_kek("k2")})
    with pytest.raises(KeyConfigError, match="cannot be read"):
        KeyEncryptionKey.from_environment({KEK_FILE_VARIABLE: str(tmp_path / "absent")})


def test_a_wrapped_data_key_unwraps_with_its_kek_for_its_household_only():
    kek = KeyEncryptionKey.parse(new_kek("k1"), KEK_VARIABLE)
    data_key = bytes(range(32))
    wrapped = kek.wrap(HOUSEHOLD, data_key)
    assert data_key not in wrapped and kek.wrap(HOUSEHOLD, data_key) != wrapped  # a fresh nonce each time
    assert kek.unwrap(HOUSEHOLD, wrapped) == data_key
    with pytest.raises(KeyConfigError, match="wrong key, or a wrapped key altered or moved"):
        kek.unwrap(OTHER, wrapped)  # another household's row
    with pytest.raises(KeyConfigError, match="wrong key"):
        KeyEncryptionKey.parse(new_kek("k1"), KEK_VARIABLE).unwrap(HOUSEHOLD, wrapped)  # another KEK, same id
    with pytest.raises(KeyConfigError, match="altered"):
        kek.unwrap(HOUSEHOLD, wrapped[:-1] + bytes([wrapped[-1] ^ 1]))
