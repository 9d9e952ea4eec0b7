"""A backup of what cannot be rebuilt: the audit trail, the users, the chat's conversations and
feedback, and the organisation's documents (with the ones the privacy office added from the chat
and its confirmed questions); and of the index, so a restored server answers at once instead of
after a re-ingest that embeds every passage again. Safe while the server runs: the SQLite files
are copied through SQLite's online backup API (a consistent snapshot), the audit copy is
verified, and the index is copied under the ingest lock (no ingest writes it meanwhile).

The index held is the live generation (its pointer, chunk texts and documents), the embedded
Chroma store, the fitted query adapters and the embedding cache. With Chroma in server mode the
vectors are in the Chroma server, which its own backups cover. The fetched official sources and
the embedder's checked ONNX copy are not copied: `fetch` and `ingest` make them again.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.audit import AuditTrail
from assistant.audit.trail import VerifyResult
from core.digests import sha256_file
from core.errors import ConfigError, IndexBusyError
from core.index.state import CURRENT, IndexState
from core.settings import Settings

MANIFEST = "manifest.json"
ASIDE = ".before-restore"  # in a corpus or data folder: where files a restore replaced are kept
NOT_COPIED = (
    "the fetched sources and the embedder's ONNX copy: `hipaa-assistant fetch` and "
    "`hipaa-assistant ingest` make them again"
)
NOT_COPIED_TUNED = (
    "the trained question encoder (retrieval.query_tuning): `hipaa-assistant train` trains the "
    "same one again"
)
NOT_COPIED_CHROMA_SERVER = (
    "the index's vectors, in the Chroma server (chroma.mode http): back it up with its own tools; "
    "`hipaa-assistant ingest` also rebuilds them from the documents"
)
INDEX = "index"  # in a backup: the data folder's index, query adapters and embedding cache
_INDEX_EXTRAS = ("adapters", "embedding-cache.sqlite")  # beside the index in the data folder
NOT_COPIED_DATABASE = (
    "the audit trail, the conversations and the users in PostgreSQL (database.url): back the "
    "database up with its own tools (pg_dump, or the server's base backups)"
)


@dataclass
class Backup:
    folder: Path
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    absent: list[str] = field(default_factory=list)  # what there was nothing of yet
    audit: VerifyResult | None = None


def _copy_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a database other processes may be writing (WAL included)."""
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src,
        closing(sqlite3.connect(dest)) as out,
    ):
        src.backup(out)
    os.chmod(dest, 0o600)


def _data_files(settings: Settings) -> dict[str, Path]:
    """The data folder's files a backup holds, by their name in the backup."""
    data = settings.paths.data_dir
    files = {
        "audit.sqlite": settings.audit.resolve_path(data),
        "ui.sqlite": settings.server.resolve_ui_database(data),
        "users.json": settings.server.resolve_users_file(data),
    }
    if settings.database.url is not None:  # these are in PostgreSQL: its own backups
        del files["audit.sqlite"], files["ui.sqlite"], files["users.json"]
    return files


def _private_tree(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(Path(root) / d, 0o700)
        for f in files:
            os.chmod(Path(root) / f, 0o600)


def back_up(
    settings: Settings, dest: Path, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Backup:
    """Writes ``dest/hipaa-assistant-<UTC time>/`` (owner-only) with a manifest of every file
    and its sha256; returns what it holds."""
    data = settings.paths.data_dir
    moment = now()
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    folder = dest / f"hipaa-assistant-{stamp}"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)
    except FileExistsError:
        raise ConfigError(f"{folder} already exists") from None
    except OSError as exc:
        raise ConfigError(f"cannot write the backup to {dest}: {exc.strerror}") from exc
    done = Backup(folder)
    for name, path in _data_files(settings).items():
        if not path.is_file():
            done.absent.append(name)
        elif name.endswith(".sqlite"):
            _copy_sqlite(path, folder / name)
        else:
            shutil.copyfile(path, folder / name)
    for n, corpus in enumerate(settings.paths.corpus_dirs, start=1):
        if corpus.is_dir():
            shutil.copytree(corpus, folder / "corpus" / f"{n}-{corpus.name}", symlinks=True)
        else:
            done.absent.append(f"corpus folder {corpus}")
    if not _copy_index(settings, folder / INDEX):
        done.absent.append("index (no `hipaa-assistant ingest` has run yet)")
    _private_tree(folder)
    if (folder / "audit.sqlite").is_file():
        done.audit = AuditTrail.from_settings(settings, folder / "audit.sqlite").verify()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        done.files[path.relative_to(folder).as_posix()] = sha256_file(path)
    manifest = {
        "made": moment.isoformat(timespec="seconds"),
        "data_dir": str(data.resolve()),
        "corpus_dirs": [str(c.resolve()) for c in settings.paths.corpus_dirs],
        "audit": {"ok": done.audit.ok, "head": done.audit.anchor} if done.audit else None,
        "absent": done.absent,
        "not_copied": "; ".join(not_copied(settings)),
        "files": done.files,
    }
    out = folder / MANIFEST
    out.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.chmod(out, 0o600)
    return done


def not_copied(settings: Settings) -> list[str]:
    """What a backup made with ``settings`` leaves out, and how it comes back."""
    out = [NOT_COPIED]
    if settings.retrieval.query_tuning:
        out.append(NOT_COPIED_TUNED)
    if settings.chroma.mode == "http":
        out.append(NOT_COPIED_CHROMA_SERVER)
    return out


def _copy_tree(source: Path, dest: Path) -> None:
    """A folder copied file by file, its SQLite databases through the online backup."""
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        if path.name.endswith(("-wal", "-shm", "-journal")) or path.name == ".lock":
            continue  # a database's own files: its online backup holds their rows
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".sqlite", ".sqlite3"):
            _copy_sqlite(path, target)
        else:
            shutil.copyfile(path, target)


def _copy_index(settings: Settings, dest: Path) -> bool:
    """The live index generation (and, with the embedded Chroma, its vectors), the query
    adapters and the embedding cache, copied to ``dest`` under the ingest lock; False when there
    is no index yet."""
    data = settings.paths.data_dir
    state = IndexState(settings.paths.index_dir)
    if state.current_pointer() is None:
        return False
    try:
        with state.lock():
            pointer = state.current_pointer()
            if pointer is None:  # an ingest that failed its first run cleared it meanwhile
                return False
            live = str(pointer["generation"])
            shutil.copyfile(state.dir / CURRENT, _made(dest / "index" / CURRENT))
            _copy_tree(state.gens / live, dest / "index" / "generations" / live)
            if settings.chroma.mode == "persistent" and (state.dir / "chroma").is_dir():
                _copy_tree(state.dir / "chroma", dest / "index" / "chroma")
            for extra in _INDEX_EXTRAS:
                if (data / extra).is_dir():
                    _copy_tree(data / extra, dest / extra)
                elif (data / extra).is_file():
                    _copy_sqlite(data / extra, _made(dest / extra))
    except IndexBusyError:
        raise ConfigError("an ingest is writing the index: back up when it has finished") from None
    return True


def _made(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Restored:
    files: list[Path] = field(default_factory=list)  # written
    set_aside: list[Path] = field(default_factory=list)  # what was there, moved aside
    audit_head: str = ""
    left_out: list[str] = field(default_factory=list)  # the backup's local stores not restored
    index: bool = False  # the backup held the index (the server answers without an ingest)


def _listed_files(folder: Path) -> dict[str, str]:
    """The backup's manifest: each file's path in the backup and its sha256."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{folder} is not a backup (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {folder / MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ConfigError(f"{folder / MANIFEST} is not a backup manifest")
    return {str(k): str(v) for k, v in manifest["files"].items()}


def _targets(settings: Settings, names: list[str]) -> dict[str, tuple[Path, Path]]:
    """Where each file of the backup goes back to under the current settings, and the folder
    a file already there is set aside in: beside it in the data folder, and in a hidden folder
    of a corpus folder (``ingest`` skips hidden folders)."""
    fixed = _data_files(settings)
    out: dict[str, tuple[Path, Path]] = {}
    for name in names:
        if name in fixed:
            out[name] = (fixed[name], fixed[name].parent)
        elif name.startswith(f"{INDEX}/"):
            # the index, adapters and embedding cache go back where the settings keep them; what
            # was there is set aside in the data folder's hidden .before-restore/
            rest = name.split("/", 1)[1]
            data = settings.paths.data_dir
            target = data / rest
            if rest.startswith("index/"):
                target = settings.paths.index_dir / rest.split("/", 1)[1]
            out[name] = (target, (data / ASIDE / rest).parent)
        elif name.startswith("corpus/"):
            _, folder, rest = name.split("/", 2)
            n = int(folder.split("-", 1)[0])
            if not 1 <= n <= len(settings.paths.corpus_dirs):
                raise ConfigError(
                    f"the backup holds corpus folder {folder}, but only "
                    f"{len(settings.paths.corpus_dirs)} corpus folder(s) are configured"
                )
            root = settings.paths.corpus_dirs[n - 1]
            out[name] = (root / rest, (root / ASIDE / rest).parent)
    return out


LOCAL_STORES = ("audit.sqlite", "ui.sqlite", "users.json")


def restore(
    settings: Settings,
    folder: Path,
    *,
    force: bool = False,
    without_local_stores: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Restored:
    """Puts a backup's files back (the server stopped). Every file is checked against the
    manifest and the audit copy verified first; nothing is written if one fails. Files already
    in place are refused, or with ``force`` kept as ``<name>.before-restore-<time>`` (in a
    corpus folder, under its hidden ``.before-restore/``).

    A backup made without ``database.url`` holds the audit trail, the conversations and the
    users as files; restored where ``database.url`` is set, they would have nowhere to go (they
    live in PostgreSQL there), so the restore is refused unless ``without_local_stores`` says to
    leave them out and restore the documents alone."""
    listed = _listed_files(folder)
    stores = [name for name in LOCAL_STORES if name in listed]
    if stores and settings.database.url is not None:
        if not without_local_stores:
            raise ConfigError(
                f"the backup holds {', '.join(stores)}, but here the audit trail, the "
                "conversations and the users are in PostgreSQL (database.url): restore them "
                "with database.url unset, or pass --without-local-stores to restore the "
                "documents alone"
            )
        listed = {k: v for k, v in listed.items() if k not in stores}
    left_out = stores if settings.database.url is not None else []
    for name, digest in listed.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != digest:
            raise ConfigError(f"the backup is damaged: {name} is missing or changed")
    done = Restored(left_out=left_out, index=any(n.startswith(f"{INDEX}/") for n in listed))
    if "audit.sqlite" in listed:
        result = AuditTrail.from_settings(settings, folder / "audit.sqlite").verify()
        if not result.ok:
            raise ConfigError(f"the backup's audit trail does not verify: {result.reason}")
        done.audit_head = result.anchor
    targets = _targets(settings, sorted(listed))
    present = [target for target, _ in targets.values() if target.exists()]
    if present and not force:
        raise ConfigError(
            f"{present[0]} already exists (and {len(present) - 1} more): stop the server and "
            "move them away, or pass --force to have them set aside"
        )
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    for name, (target, aside_in) in targets.items():
        if target.exists():
            aside_in.mkdir(parents=True, exist_ok=True)
            aside = aside_in / f"{target.name}.before-restore-{stamp}"
            target.replace(aside)
            done.set_aside.append(aside)
        for suffix in ("-wal", "-shm"):  # a stopped database's leftovers belong to the old file
            stale = target.with_name(target.name + suffix)
            if target.suffix in (".sqlite", ".sqlite3") and stale.exists():
                stale.replace(stale.with_name(f"{stale.name}.before-restore-{stamp}"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, target)
        if not name.startswith("corpus/"):
            os.chmod(target, 0o600)
        done.files.append(target)
    return done
