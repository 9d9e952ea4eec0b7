"""The manifest of official public sources, and `fetch` (download, or copy from a mirror)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.digests import sha256_file
from core.errors import ConfigError
from core.settings import Settings

log = logging.getLogger(__name__)
FETCHED_FILE = "fetched.json"


@dataclass(frozen=True)
class OfficialSource:
    id: str
    title: str
    doc_type: str
    format: str
    url: str
    filename: str
    as_of: str = ""
    sha256: str = ""
    short: str = ""
    optional: bool = False
    enabled: bool = True
    why: str = ""
    include_parts: tuple[str, ...] = ()
    supersedes_priority: int = 0
    publisher: str = "U.S. Department of Health and Human Services"


_FORMATS = {"ecfr-xml", "regulation-pdf", "guidance-pdf"}


def load_manifest(path: Path) -> list[OfficialSource]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the sources manifest {path.name}: {exc}") from exc
    out = []
    seen: set[str] = set()
    for entry in raw.get("source", []):
        entry = dict(entry)
        entry["include_parts"] = tuple(entry.get("include_parts", ()))
        try:
            src = OfficialSource(**entry)
        except TypeError as exc:
            raise ConfigError(f"bad entry in {path.name}: {exc}") from exc
        if src.format not in _FORMATS:
            raise ConfigError(f"{src.id}: unknown format '{src.format}'")
        if src.id in seen:
            raise ConfigError(f"{src.id}: listed twice in {path.name}")
        seen.add(src.id)
        out.append(src)
    return out


@dataclass
class FetchOutcome:
    source: OfficialSource
    status: str  # fetched | unchanged | missing | failed
    detail: str = ""


@dataclass
class FetchReport:
    outcomes: list[FetchOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(o.status == "failed" for o in self.outcomes)


def fetched_records(sources_dir: Path) -> dict[str, dict[str, str]]:
    path = sources_dir / FETCHED_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        log.warning("fetch record unreadable; treating sources as not fetched")
        return {}
    return data if isinstance(data, dict) else {}


def _find_in_mirror(mirror: Path, filename: str) -> Path | None:
    direct = mirror / filename
    if direct.is_file():
        return direct
    for candidate in sorted(mirror.rglob(filename)):
        if candidate.is_file():
            return candidate
    return None


def _download(url: str, dest: Path, settings: Settings) -> None:
    import httpx

    headers = {"User-Agent": settings.fetch.user_agent}
    with httpx.stream(
        "GET", url, headers=headers, timeout=settings.fetch.timeout_s, follow_redirects=True
    ) as resp:
        resp.raise_for_status()
        with dest.open("wb") as fh:
            for block in resp.iter_bytes():
                fh.write(block)


def fetch(
    settings: Settings, *, mirror: Path | None = None, only: set[str] | None = None
) -> FetchReport:
    """Fetch every manifest source into ``<data_dir>/sources``. A failure is reported per source
    and never stops the others; files already present with the same content are left alone."""
    sources = load_manifest(settings.paths.sources_manifest)
    dest_dir = settings.paths.sources_dir
    dest_dir.mkdir(parents=True, exist_ok=True)
    records = fetched_records(dest_dir)
    report = FetchReport()
    unreachable: set[str] = set()  # hosts that refused or timed out: not tried again this run
    for src in sources:
        if only and src.id not in only:
            continue
        host = httpx_host(src.url)
        if mirror is None and host in unreachable:
            status = "missing" if src.optional else "failed"
            report.outcomes.append(FetchOutcome(src, status, f"{host} unreachable (not retried)"))
            continue
        dest = dest_dir / src.filename
        tmp = dest.with_name(dest.name + ".part")
        try:
            if mirror is not None:
                found = _find_in_mirror(mirror, src.filename)
                if found is None:
                    status = "missing" if src.optional else "failed"
                    report.outcomes.append(
                        FetchOutcome(src, status, f"not in mirror {mirror.name}")
                    )
                    continue
                shutil.copyfile(found, tmp)
                origin = f"mirror:{src.filename}"
            else:
                _download(src.url, tmp, settings)
                origin = src.url
            digest = sha256_file(tmp)
            detail = ""
            if src.sha256 and digest != src.sha256:
                detail = "content differs from the manifest's sha256 (a newer official copy?)"
            unchanged = dest.exists() and records.get(src.id, {}).get("sha256") == digest
            os.replace(tmp, dest)
            records[src.id] = {
                "filename": src.filename,
                "sha256": digest,
                "origin": origin,
                "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "bytes": str(dest.stat().st_size),
            }
            report.outcomes.append(
                FetchOutcome(src, "unchanged" if unchanged else "fetched", detail)
            )
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            log.debug("fetch of %s failed", src.id, exc_info=True)
            status = "missing" if src.optional else "failed"
            reason = _reason(exc)
            if reason == "network unreachable":
                unreachable.add(host)
            report.outcomes.append(FetchOutcome(src, status, reason))
    tmp_rec = dest_dir / (FETCHED_FILE + ".tmp")
    tmp_rec.write_text(json.dumps(records, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp_rec, dest_dir / FETCHED_FILE)
    return report


def httpx_host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else ""
    if name in ("ConnectError", "ConnectTimeout") or "getaddrinfo" in text.lower():
        return "network unreachable"
    return f"{name}: {text}"[:160]
