"""The LLM answerer: any LangChain chat model chosen by settings, prompted from data, streamed."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from assistant.answering.follow_up import HeuristicCondenser
from assistant.answering.types import Passage
from assistant.prompts import Prompt, load_prompt
from core.documents import Chunk
from core.errors import AssistantError, ConfigError
from core.settings import LLMSettings

log = logging.getLogger(__name__)


class LLMError(AssistantError):
    """The configured chat model could not be reached or failed."""


def build_chat_model(settings: LLMSettings) -> Any:
    """A LangChain chat model for the configured provider (nothing is contacted here)."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if settings.provider == "ollama":
        from langchain_ollama import ChatOllama

        kwargs: dict[str, Any] = {
            "model": settings.model,
            "temperature": settings.temperature,
            "num_predict": settings.max_tokens,
        }
        if settings.base_url:
            kwargs["base_url"] = settings.base_url
        return ChatOllama(**kwargs)
    if settings.provider in ("openai", "openai-compatible"):
        from langchain_openai import ChatOpenAI

        if settings.provider == "openai-compatible" and not settings.base_url:
            raise ConfigError("llm.base_url is required for the 'openai-compatible' provider")
        openai_kwargs: dict[str, Any] = {
            "model": settings.model,
            "base_url": settings.base_url,
            "api_key": key or "not-needed",  # local OpenAI-compatible servers often need none
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
            "timeout": settings.timeout_s,
            "max_retries": 1,
        }
        return ChatOpenAI(**openai_kwargs)
    if settings.provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        if not key:
            raise ConfigError("llm.api_key is required for the 'anthropic' provider")
        anthropic_kwargs: dict[str, Any] = {
            "model": settings.model,
            "api_key": key,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
            "timeout": settings.timeout_s,
            "max_retries": 1,
        }
        return ChatAnthropic(**anthropic_kwargs)
    raise ConfigError(f"unknown llm provider '{settings.provider}'")


# The prompt fences the passages in <sources> ... </sources>; a document cannot close the fence.
_FENCE = re.compile(r"<\s*/?\s*sources\s*>", re.IGNORECASE)


def _unfenced(text: str) -> str:
    return _FENCE.sub(lambda m: m.group(0).replace("<", "\u2039").replace(">", "\u203a"), text)


def format_sources(passages: Sequence[Passage]) -> str:
    blocks = []
    for p in passages:
        version = f", v{p.version}" if p.version else ""
        page = f", p. {p.page}" if p.page else ""
        head = _unfenced(f"[{p.n}] {p.locator} ({p.doc_type}: {p.title}{version}{page})")
        blocks.append(f"{head}\n{_unfenced(p.text)}")
    return "\n\n".join(blocks)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks (Anthropic)
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


class LLMAnswerer:
    def __init__(self, model: Any, settings: LLMSettings, prompt: Prompt | None = None) -> None:
        self.model = model
        self.settings = settings
        self.prompt = prompt or load_prompt("answer")
        self.mode = f"llm:{settings.provider}/{settings.model}"

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        expansion: Sequence[str],
        chunks: dict[str, Chunk],
        on_token: Callable[[str], None] | None = None,
        asked_locators: Sequence[str] = (),
    ) -> str:
        chain = self.prompt.to_langchain() | self.model
        inputs = {"question": question, "sources": format_sources(passages)}
        parts: list[str] = []
        try:
            for chunk in chain.stream(inputs):
                piece = _text(getattr(chunk, "content", chunk))
                if piece:
                    parts.append(piece)
                    if on_token is not None:
                        on_token(piece)
        except AssistantError:
            raise
        except Exception as exc:
            log.warning("chat model call failed (%s)", type(exc).__name__)
            log.debug("chat model failure detail", exc_info=True)
            raise LLMError(
                f"the language model ({self.mode}) could not answer ({type(exc).__name__}); "
                "try again, or use extractive mode"
            ) from exc
        return "".join(parts)


class LLMCondenser:
    """Rewrites a follow-up as a standalone question with the chat model."""

    def __init__(self, model: Any, prompt: Prompt | None = None) -> None:
        self.model = model
        self.prompt = prompt or load_prompt("condense")

    def condense(self, question: str, history: Sequence[str]) -> str:
        if not history:
            return question
        chain = self.prompt.to_langchain() | self.model
        text = "\n".join(f"User: {h}" for h in history[-4:])
        try:
            out = _text(chain.invoke({"history": text, "question": question}).content).strip()
        except Exception:
            log.warning("condensing the follow-up failed; using the heuristic")
            return HeuristicCondenser().condense(question, history)
        return out or question
