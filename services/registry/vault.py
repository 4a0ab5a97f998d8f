"""The registry's key vault: a data key per household and one per person, kept wrapped by the key-encryption key
(KEK).

Every personal field of the registry's stored events is encrypted with the data key of whom it is about
(``services/registry/sealing.py``): a household's KK and address with the household's key, a member's NIK, name and
birth date with the person's own. Destroying a key makes what it sealed unreadable for good (crypto-shredding), while
the events themselves, append-only, stay in the log. A key is known by its holder's id — a household's or a person's,
both random UUIDs the registry assigned, so never the same — in the one table ``household_keys`` (its
``household_id`` column names the holder).

- The KEK comes from a secret, never from the database: ``REGISTRY_DATA_KEY`` (``<key id>:<base64 32 bytes>``) or
  ``REGISTRY_DATA_KEY_FILE`` (a file holding that text). No default: without it the registry does not start, and
  an auditor's replay of the registry refuses (fail closed). ``berdaya keys new-data-key`` makes one.
- A data key is 32 random bytes (AES-256-GCM), stored in ``household_keys`` wrapped: AES-GCM under the KEK with
  a fresh nonce and the holder's id as associated data (a wrapped key copied to another holder's row does not
  unwrap), with the KEK's id, so that a later rotation knows which rows to re-wrap.
- ``household_keys`` is NOT append-only, unlike the event log: :meth:`Vault.destroy` overwrites the wrapped key
  with NULL and keeps the row with ``destroyed_at`` — the one UPDATE crypto-shredding needs.

Unwrapped keys are cached for ``cache_seconds``: a key destroyed by another registry process stays readable in
this one's memory until then (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import Cursor
from psycopg.rows import tuple_row

from shared.keytext import KeyConfigError, derived_key, key_bytes, valid_key_id
from shared.store import added_column

KEK_VARIABLE = "REGISTRY_DATA_KEY"
KEK_FILE_VARIABLE = "REGISTRY_DATA_KEY_FILE"
NONCE_BYTES = 12  # AES-GCM's 96-bit nonce, random for each encryption
WRAP_CONTEXT = b"berdaya:household-key:"
PERSON_INDEX_CONTEXT = b"berdaya:access-log:person"

VAULT_DDL = (
    # Not append-only on purpose: destroying a key overwrites it (wrapped_key NULL, destroyed_at set).
    """CREATE TABLE IF NOT EXISTS household_keys (
        household_id uuid PRIMARY KEY, kek_id text NOT NULL, wrapped_key bytea,
        created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz,
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL)),
        shared_with_members boolean NOT NULL DEFAULT false)""",
    # A household's key made before the per-person keys sealed its members' fields too, and still holds them in the
    # events it sealed: such a household is erased whole, never one member alone (erasure.household_key).
    added_column("household_keys", "shared_with_members", "boolean DEFAULT false",
                 "UPDATE household_keys SET shared_with_members = true"),
)

# Crypto-shredding's one UPDATE: the wrapped key overwritten, the row kept with the time.
DESTROY_KEY = ("UPDATE household_keys SET wrapped_key = NULL, destroyed_at = now() "
               "WHERE household_id = %s AND wrapped_key IS NOT NULL")

# Yields a cursor in a transaction that commits when the block ends (the service's pool, or an auditor's connection).
CursorSource = Callable[[], AbstractContextManager[Cursor]]


class KeyMissing(LookupError):
    """A sealed field names a household that has no key row at all: deleted by hand, or from another database."""


@dataclass(frozen=True)
class KeyEncryptionKey:
    key_id: str
    aead: AESGCM
    person_index: bytes  # HMAC key of the access log's person identifiers, derived from the same secret

    @classmethod
    def parse(cls, text: str, what: str) -> KeyEncryptionKey:
        key_id, _, encoded = text.strip().partition(":")
        if not encoded:
            raise KeyConfigError(f"{what} must be '<key id>:<base64 of 32 bytes>' (berdaya keys new-data-key)")
        raw = key_bytes(encoded, what, "the key-encryption key (AES-256)")
        return cls(valid_key_id(key_id, what), AESGCM(raw),
                   derived_key(raw, PERSON_INDEX_CONTEXT))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> KeyEncryptionKey:
        """The KEK from ``REGISTRY_DATA_KEY`` or the file ``REGISTRY_DATA_KEY_FILE`` names; refused without."""
        environ = os.environ if environ is None else environ
        text, path = environ.get(KEK_VARIABLE, "").strip(), environ.get(KEK_FILE_VARIABLE, "").strip()
        if text and path:
            raise KeyConfigError(f"both {KEK_VARIABLE} and {KEK_FILE_VARIABLE} are set: set one")
        if path:
            try:
                return cls.parse(Path(path).read_text(encoding="ascii"), f"{KEK_FILE_VARIABLE} ({path})")
            except (OSError, UnicodeDecodeError) as error:
                raise KeyConfigError(f"{KEK_FILE_VARIABLE} ({path}) cannot be read: {type(error).__name__}") from None
        if not text:
            raise KeyConfigError(f"{KEK_VARIABLE} (or {KEK_FILE_VARIABLE}) is not set: the registry's household "
                                 "keys are wrapped with it, and without it no personal field of the registry's "
                                 "events can be written or read (berdaya keys new-data-key makes one)")
        return cls.parse(text, KEK_VARIABLE)

    def person_hash(self, nik: str) -> str:
        """A NIK as the access log names its person: HMAC-SHA256 under a key only the registry's secret gives, so
        the log (or a dump of it) cannot be searched by guessing NIKs, which are few and structured."""
        return hmac.new(self.person_index, nik.encode("ascii"), hashlib.sha256).hexdigest()

    def wrap(self, household_id: uuid.UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, data_key, WRAP_CONTEXT + household_id.bytes)

    def unwrap(self, household_id: uuid.UUID, wrapped: bytes) -> bytes:
        """The data key; KeyConfigError when this KEK did not wrap it for this household."""
        try:
            return self.aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], WRAP_CONTEXT + household_id.bytes)
        except InvalidTag:
            raise KeyConfigError(f"{KEK_VARIABLE} (key id {self.key_id}) does not unwrap the data key of household "
                                 f"{household_id}: a wrong key, or a wrapped key altered or moved") from None


def new_kek(key_id: str) -> str:
    """A fresh ``REGISTRY_DATA_KEY`` value."""
    text = f"{key_id}:{base64.b64encode(os.urandom(32)).decode('ascii')}"
    KeyEncryptionKey.parse(text, "new key")  # the key id checked
    return text


class Vault:
    """The data keys of households and persons, by the holder's id: created on first use, unwrapped on demand
    (cached), destroyed for erasure."""

    def __init__(self, kek: KeyEncryptionKey, cursor: CursorSource, cache_seconds: float = 60.0,
                 cache_size: int = 50_000) -> None:
        self.kek = kek
        self._cursor = cursor
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        # The data keys' 32 bytes, not their AESGCM objects: each of those holds its cipher contexts in native
        # memory (~5 KB a key, measured), and a full cache of them took a registry's RSS from ~100 to ~300 MB.
        self._cache: OrderedDict[uuid.UUID, tuple[bytes | None, float]] = OrderedDict()

    def check(self) -> None:
        """Refuse (KeyConfigError) a KEK that does not unwrap the stored keys: checked on the newest key of each
        key id, so that a service given the wrong secret stops at start, not at its first read."""
        with self._cursor() as cursor:
            cursor.row_factory = tuple_row
            rows = cursor.execute(
                "SELECT DISTINCT ON (kek_id) kek_id, household_id, wrapped_key FROM household_keys "
                "WHERE wrapped_key IS NOT NULL ORDER BY kek_id, created_at DESC").fetchall()
        for kek_id, household_id, wrapped in rows:
            if kek_id != self.kek.key_id:
                raise KeyConfigError(f"household keys are wrapped with key id {kek_id}, but {KEK_VARIABLE} has key "
                                     f"id {self.kek.key_id}: give the registry the key it wrapped them with")
            self.kek.unwrap(household_id, bytes(wrapped))

    def key(self, household_id: uuid.UUID) -> AESGCM | None:
        """The household's data key, None once destroyed; KeyMissing when it never had one."""
        cached = self._fresh(household_id)
        if cached is not None:
            data_key = cached[0]
        else:
            found = self._load([household_id])
            if household_id not in found:
                raise KeyMissing(f"household {household_id} has no data key")
            data_key = found[household_id]
        return None if data_key is None else AESGCM(data_key)  # made per use: a few µs, no memory kept

    def key_creating(self, household_id: uuid.UUID) -> AESGCM | None:
        """The household's data key, made now if it has none (None once destroyed: nothing more is readable)."""
        try:
            return self.key(household_id)
        except KeyMissing:
            self.prepare([household_id])
            return self.key(household_id)

    def prepare(self, household_ids: Iterable[uuid.UUID]) -> None:
        """Make the data keys the households lack, in one statement (a batch of registrations), and cache them.

        Committed before the events that use them: a registration that then fails leaves a key that encrypts
        nothing (its household, registered again, uses it), never an event without its key."""
        wanted = list(dict.fromkeys(household_ids))
        found = self._load(wanted)
        missing = [h for h in wanted if h not in found]
        if not missing:
            return
        made = {h: AESGCM.generate_key(bit_length=256) for h in missing}
        with self._cursor() as cursor:
            cursor.row_factory = tuple_row
            inserted = {row[0] for row in cursor.execute(
                "INSERT INTO household_keys (household_id, kek_id, wrapped_key) "
                "SELECT h, %s, k FROM unnest(%s::uuid[], %s::bytea[]) AS t(h, k) "
                "ON CONFLICT (household_id) DO NOTHING RETURNING household_id",
                (self.kek.key_id, missing, [self.kek.wrap(h, key) for h, key in made.items()])).fetchall()}
        for household_id in inserted:
            self._remember(household_id, made[household_id])
        if len(inserted) < len(missing):  # another process inserted some first: its keys win
            self._load([h for h in missing if h not in inserted])

    def prefetch(self, household_ids: Iterable[uuid.UUID]) -> None:
        """Cache, in one query, the keys of these households the cache lacks (a batch of stored events about to be
        read: the relay's page, an auditor's chunk, an aggregate's history). A household without a key, or whose
        key does not unwrap, is left to :meth:`key` to refuse, for the events that need it (an auditor lists each)."""
        stale = [h for h in household_ids if self._fresh(h) is None]
        if not stale:
            return
        # The keys read before a refused one stay cached; key() reads the rest one by one, and refuses that one.
        with suppress(KeyConfigError):
            self._load(stale)

    def destroy(self, household_id: uuid.UUID) -> bool:
        """Erase the household's data key (the row stays, with destroyed_at): every personal field sealed with it
        reads as erased from now on. False if there was no key to destroy."""
        with self._cursor() as cursor:
            destroyed = cursor.execute(DESTROY_KEY, (household_id,)).rowcount
        self.forget_destroyed(household_id)
        return destroyed == 1

    def forget_destroyed(self, household_id: uuid.UUID) -> None:
        """This process's cache told that the key is gone (destroyed in a transaction of the caller's own)."""
        self._remember(household_id, None)

    def _load(self, household_ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes | None]:
        with self._cursor() as cursor:
            cursor.row_factory = tuple_row
            rows = cursor.execute("SELECT household_id, kek_id, wrapped_key FROM household_keys "
                                  "WHERE household_id = ANY(%s)", (household_ids,)).fetchall()
        found = {}
        for household_id, kek_id, wrapped in rows:
            if wrapped is not None and kek_id != self.kek.key_id:
                raise KeyConfigError(f"the data key of household {household_id} is wrapped with key id {kek_id}, "
                                     f"not {KEK_VARIABLE}'s {self.kek.key_id}")
            key = None if wrapped is None else self.kek.unwrap(household_id, bytes(wrapped))
            found[household_id] = key
            self._remember(household_id, key)
        return found

    def _fresh(self, household_id: uuid.UUID) -> tuple[bytes | None, float] | None:
        cached = self._cache.get(household_id)
        return cached if cached is not None and time.monotonic() - cached[1] < self._cache_seconds else None

    def _remember(self, household_id: uuid.UUID, key: bytes | None) -> None:
        self._cache[household_id] = (key, time.monotonic())
        self._cache.move_to_end(household_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
