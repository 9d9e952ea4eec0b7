"""The ``onnx`` embedder: the same sentence-transformers model, run by ONNX Runtime on the CPU.

On first use the local weights (by default the bundled all-MiniLM-L6-v2) are exported to ONNX with
``torch.onnx.export``, their operators fused by ONNX Runtime's transformer optimiser and, for
``int8``, the weights quantised dynamically. The result is cached in ``embedding.export_dir``
(``<data>/models``) under a name holding a hash of the source weights and of this recipe, so a
changed model or recipe is exported afresh and the cache is reused otherwise. Nothing is downloaded.

Inference mirrors the sentence-transformers pipeline of the model folder (``modules.json``): the
model's own fast tokenizer truncating at ``max_seq_length``, the transformer, mean pooling over the
attention mask, L2 normalisation. Each passage runs alone (no padding, and a vector that does
not depend on its batch), on one worker thread per CPU core.

The model id stored with the index gets a suffix (``#onnx-int8`` / ``#onnx-fp32``): an index built
with one variant is never queried with another.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.model_files import resolve_model_path
from core.settings import EmbeddingSettings

log = logging.getLogger(__name__)

ONNX_PROVIDER = "onnx"
# Bump when the export below changes in a way that changes the exported file.
RECIPE = "torchscript-opset17-eager+ort-bert-fusion+dynamic-qint8-per-channel/v1"
DEFAULT_EXPORT_DIR = Path("data") / "models"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class ModelLayout:
    """What the sentence-transformers folder says about how to embed with the model."""

    transformer_dir: Path
    max_seq_length: int
    do_lower_case: bool
    dimension: int
    weights: Path
    model_type: str
    num_heads: int
    hidden_size: int


def read_layout(model_dir: Path) -> ModelLayout:
    """Read ``modules.json`` and the module configs; refuse anything this embedder would not
    reproduce exactly (only Transformer -> mean Pooling -> [Normalize] is supported)."""
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        raise ConfigError(
            f"provider 'onnx' needs a sentence-transformers model folder (no modules.json in "
            f"'{model_dir.name}')"
        )
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
        raise ConfigError(
            f"provider 'onnx' supports Transformer -> Pooling -> Normalize models, not {kinds}"
        )
    transformer_dir = model_dir / modules[0].get("path", "")
    pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text("utf-8"))
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if pooling.get("pooling_mode") == "mean":  # as sentence-transformers 5 saves it
        modes = [*modes, "pooling_mode_mean_tokens"]
    if modes != ["pooling_mode_mean_tokens"]:
        raise ConfigError("provider 'onnx' supports mean pooling only")
    config = json.loads((transformer_dir / "config.json").read_text("utf-8"))
    st_config_file = transformer_dir / "sentence_bert_config.json"
    st_config = json.loads(st_config_file.read_text("utf-8")) if st_config_file.is_file() else {}
    max_len = int(st_config.get("max_seq_length") or config.get("max_position_embeddings", 512))
    if not (transformer_dir / "tokenizer.json").is_file():
        raise ConfigError("provider 'onnx' needs the model's fast tokenizer (tokenizer.json)")
    weights = next(
        (transformer_dir / n for n in _WEIGHT_FILES if (transformer_dir / n).exists()), None
    )
    if weights is None:
        raise ConfigError("provider 'onnx' found no weights (model.safetensors) in the folder")
    return ModelLayout(
        transformer_dir=transformer_dir,
        max_seq_length=max_len,
        do_lower_case=bool(st_config.get("do_lower_case")),
        dimension=int(pooling.get("word_embedding_dimension") or pooling["embedding_dimension"]),
        weights=weights,
        model_type=str(config.get("model_type", "")),
        num_heads=int(config.get("num_attention_heads", 0)),
        hidden_size=int(config.get("hidden_size", 0)),
    )


def source_digest(layout: ModelLayout, precision: str) -> str:
    """Hash of everything the exported file depends on: weights, model config, recipe. Worked
    out once per process for files that did not change (the weights are tens of MB)."""
    config = layout.transformer_dir / "config.json"
    stamps = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in (layout.weights, config))
    return _digest(layout.weights, config, stamps, precision)


@functools.lru_cache(maxsize=8)
def _digest(
    weights: Path, config: Path, stamps: tuple[tuple[int, int], ...], precision: str
) -> str:
    h = hashlib.sha256()
    with weights.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(config.read_bytes())
    h.update(f"|{RECIPE}|{precision}".encode())
    return h.hexdigest()


def export_path(export_dir: Path, model_id: str, digest: str, precision: str) -> Path:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id.rsplit("/", 1)[-1].split(":")[-1])
    return export_dir / f"{stem}-{precision}-{digest[:16]}.onnx"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's tracer warnings and the quantiser's root-logger advice."""

    def drop(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(drop)


def _export_fp32(layout: ModelLayout, dest: Path, optimise: bool) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # Eager attention traces to the plain MatMul/Softmax pattern that ONNX Runtime fuses.
    model = AutoModel.from_pretrained(str(layout.transformer_dir), attn_implementation="eager")
    model.eval()

    class _LastHidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 16), dtype=torch.long)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "last_hidden_state")}
    raw = dest.with_name(dest.name + ".raw")
    try:
        with torch.no_grad():
            torch.onnx.export(
                _LastHidden(model),
                (sample, sample, torch.zeros_like(sample)),
                str(raw),
                dynamo=False,
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                do_constant_folding=True,
            )
        if not optimise:
            raw.replace(dest)
            return
        from onnxruntime.transformers.optimizer import optimize_model

        optimised = optimize_model(
            str(raw), model_type="bert", num_heads=layout.num_heads, hidden_size=layout.hidden_size
        )
        optimised.save_model_to_file(str(dest))
    finally:
        raw.unlink(missing_ok=True)


def export_model(layout: ModelLayout, dest: Path, precision: str, digest: str) -> None:
    """Write the ONNX model to ``dest`` atomically (a temporary file in the same folder, then a
    rename), with a ``.json`` record of where it came from beside it."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        with _quiet():
            _export_fp32(layout, fp32, optimise=layout.model_type == "bert")
            if precision == "int8":
                final = Path(tmp) / "model.int8.onnx"
                # Weights int8 per output channel (per-tensor loses ~0.05 of cosine here),
                # activations quantised at run time, per run (one passage, see embed()). The
                # fused Attention's QKV projection is quantised too: a quarter of the model's
                # multiply-adds.
                quantize_dynamic(
                    str(fp32),
                    str(final),
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    op_types_to_quantize=["MatMul", "Attention"],
                    # the fused operators (com.microsoft domain) carry no inferred types
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )
            else:
                final = fp32
        meta = {
            "source_weights": layout.weights.name,
            "source_digest": digest,  # sha256 of weights + config.json + recipe + precision
            "precision": precision,
            "recipe": RECIPE,
            "max_seq_length": layout.max_seq_length,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        side = Path(tmp) / "meta.json"
        side.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        side.replace(dest.with_suffix(".json"))
        final.replace(dest)


class OnnxEmbedder:
    """Embedder on ONNX Runtime (CPU), from a local sentence-transformers model folder."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        load_from, base_id = resolve_model_path(settings.model)
        self._model_dir = Path(load_from)
        self._precision = settings.onnx_precision
        self._model_id = f"{base_id}#onnx-{self._precision}"
        self._export_dir = settings.export_dir or DEFAULT_EXPORT_DIR
        self._workers = _cores()
        self._pool: ThreadPoolExecutor | None = None
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: list[str] = []
        self._layout: ModelLayout | None = None
        self._opening = threading.Lock()  # one session per embedder, however many first callers
        self.model_path: Path | None = None
        self.exported = False  # whether this instance had to export (not reuse) the model

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._ensure().dimension

    def export_file(self) -> Path:
        """Where the export of these weights, in this precision, is (or will be) cached."""
        return self._export_file(self._read_layout())[1]

    def _read_layout(self) -> ModelLayout:
        if not self._model_dir.is_dir():
            raise ConfigError(
                "provider 'onnx' needs a local model folder: the bundled model or a path"
            )
        return read_layout(self._model_dir)

    def _export_file(self, layout: ModelLayout) -> tuple[str, Path]:
        digest = source_digest(layout, self._precision)
        base_id = self._model_id.split("#")[0]
        return digest, export_path(self._export_dir, base_id, digest, self._precision)

    def _ensure(self) -> ModelLayout:
        if self._layout is not None:
            return self._layout
        # a server's first burst of questions arrives at once: without the lock each of them
        # opened its own session (50 questions: 1.4 GB more, freed too late to matter)
        with self._opening:
            if self._layout is not None:
                return self._layout
            return self._load()

    def _load(self) -> ModelLayout:
        layout = self._read_layout()
        digest, path = self._export_file(layout)
        if not path.is_file():
            log.warning(
                "exporting embedding model %s to ONNX (%s), once; cached at %s",
                self._model_id.split("#")[0],
                self._precision,
                path,
            )
            t0 = time.perf_counter()
            try:
                export_model(layout, path, self._precision, digest)
            except ConfigError:
                raise
            except Exception as exc:
                log.exception("ONNX export failed")
                raise ConfigError(
                    f"could not export the embedding model to ONNX ({type(exc).__name__})"
                ) from exc
            self.exported = True
            log.warning("ONNX export done in %.1f s", time.perf_counter() - t0)
        self._open(layout, path)
        self.model_path = path
        self._layout = layout
        return layout

    def _open(self, layout: ModelLayout, path: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
        tokenizer.no_padding()  # padding per sorted batch, below
        tokenizer.enable_truncation(max_length=layout.max_seq_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel over passages instead, see embed()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            log.exception("ONNX model failed to load")
            raise ConfigError(
                f"could not load the ONNX embedding model {path.name} ({type(exc).__name__}); "
                "delete it to export it again"
            ) from exc
        self._inputs = [i.name for i in session.get_inputs()]
        self._tokenizer, self._session = tokenizer, session

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        layout = self._ensure()
        out = np.zeros((len(texts), layout.dimension), dtype=np.float32)
        if not texts:
            return out
        batch = [t.lower() for t in texts] if layout.do_lower_case else list(texts)
        encodings = self._tokenizer.encode_batch(batch)
        # One passage per run: no padding at all, and a passage's vector never depends on the
        # passages beside it (int8 activations are scaled per run). Runs go to one worker per
        # core, longest first; ONNX Runtime releases the GIL while it computes.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        if len(order) == 1 or self._workers == 1:
            vectors = [self._run([encodings[i]]) for i in order]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="onnx-embed")
            vectors = list(self._pool.map(lambda i: self._run([encodings[i]]), order))
        for i, vec in zip(order, vectors, strict=True):
            out[i] = vec[0]
        return out

    def _run(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
            types[row, :n] = enc.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
        # sentence-transformers Pooling (mean over real tokens), then Normalize (L2, eps 1e-12)
        weights = mask[..., None].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
