"""Multi-turn conversations (``evals/conversations/questions.yaml``, written from the documents
without running the assistant): is each turn taken as a follow-up or as a new question as its
writer meant, and is it answered from the right passage in its context?

Each conversation is asked turn by turn with the earlier turns as history (as the chat keeps
them: a follow-up as it was searched). A turn counts as treated as a follow-up when the question
searched differs from the one typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answering.chain import AnswerChain
from assistant.evaluation.dataset import load_entries
from assistant.evaluation.matching import matched_gold
from core.index.reader import Scope
from core.settings import PROJECT_ROOT

CONVERSATIONS_FILE = PROJECT_ROOT / "evals" / "conversations" / "questions.yaml"


@dataclass
class ConversationScore:
    organisation: str
    conversations: int = 0
    later_turns: int = 0  # turns after the first, where follow-up or new is decided
    told_apart: int = 0  # of those, taken as their writer meant
    follow_ups: int = 0
    follow_ups_found: int = 0  # follow-up turns with a gold passage in the top 5
    new_turns: int = 0
    new_found: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.told_apart / self.later_turns if self.later_turns else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "later_turns": self.later_turns,
            "follow_up_accuracy": round(self.accuracy, 4),
            "follow_up_recall@5": f"{self.follow_ups_found}/{self.follow_ups}",
            "new_question_recall@5": f"{self.new_found}/{self.new_turns}",
            "errors": self.errors,
        }


def load_conversations(path: Path = CONVERSATIONS_FILE) -> list[dict[str, Any]]:
    return load_entries(path, "turns")


def score_conversations(
    chain: AnswerChain, organisation: str, conversations: list[dict[str, Any]], k: int = 5
) -> ConversationScore:
    score = ConversationScore(organisation)
    for conv in (c for c in conversations if c.get("org") == organisation):
        score.conversations += 1
        scope = Scope.for_groups({*conv.get("groups", ["staff"]), "staff"})
        history: list[str] = []
        for n, turn in enumerate(conv["turns"]):
            asked = str(turn["ask"])
            answer = chain.ask(asked, scope, history=history, k=k)
            searched = answer.standalone_question or asked
            taken_as_follow_up = searched.strip() != asked.strip()
            meant = bool(turn.get("follow_up"))
            found = any(
                matched_gold([p.locator], [str(g) for g in turn.get("gold") or []])
                for p in answer.passages[:k]
            )
            if n > 0:
                score.later_turns += 1
                score.told_apart += taken_as_follow_up == meant
                if meant:
                    score.follow_ups += 1
                    score.follow_ups_found += found
                else:
                    score.new_turns += 1
                    score.new_found += found
                if taken_as_follow_up != meant or not found:
                    score.errors.append(
                        {
                            "id": f"{conv.get('id', '')} turn {n + 1}",
                            "meant": "follow-up" if meant else "new",
                            "taken": "follow-up" if taken_as_follow_up else "new",
                            "found": "yes" if found else "no",
                        }
                    )
            history.append(searched)
    return score
