"""The UI's parts that need no browser: what an answer renders to, the server's working folder,
and the conversation store (user text kept redacted; feedback exported)."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from chainlit.element import Image, Text
from chainlit.types import Feedback, Pagination, ThreadFilter
from chainlit.user import User

from assistant.answering.types import Answer, Citation, Passage
from assistant.cli import main
from assistant.commands.feedback import FIELDS
from assistant.ui import app_root, render, stream
from assistant.ui.data_layer import ChatDataLayer
from core.documents import SourceDocument
from tests.conftest import make_settings


def _answer(doc_id: str = "BAA-X", page: int | None = 3) -> Answer:
    passage = Passage(
        n=1,
        chunk_id="c1",
        doc_id=doc_id,
        locator="Acme Scribe BAA §4.3",
        title="Business Associate Agreement - Acme",
        doc_type="baa",
        version="2.1",
        page=page,
        text="Heading. The vendor shall report a breach within 5 business days [a] *now*.",
        heading_path=("4. Breach",),
        score=0.031,
        dense=0.61,
        lexical=7.5,
    )
    cite = Citation(
        n=1,
        chunk_id="c1",
        locator="Acme Scribe BAA §4.3",
        title=passage.title,
        doc_type="baa",
        page=page,
        quote="The vendor shall report a breach within 5 business days [a] *now*.",
        doc_id=doc_id,
        version="2.1",
    )
    return Answer(
        question="How fast?",
        text='"The vendor shall report ..." [1]',
        citations=[cite],
        passages=[passage],
        mode="extractive",
        abstained=False,
        timings={"retrieve_ms": 41.0, "total_ms": 55.2},
        standalone_question="How fast must Acme report?",
    )


def test_a_citation_opens_its_passage_with_locator_title_version_and_page(tmp_path: Path) -> None:
    pdf = tmp_path / "baa.pdf"
    pdf.write_bytes(b"%PDF-1.4 fake")
    doc = SourceDocument(
        doc_id="BAA-X",
        doc_type="baa",
        title="Business Associate Agreement - Acme",
        path=str(pdf),
        sha256=hashlib.sha256(pdf.read_bytes()).hexdigest(),
    )
    answer = _answer()
    parts = render.citation_elements(answer, {"BAA-X": doc})
    side, pdf_part = parts
    assert isinstance(side, render.SideText) and side.name == "[1]"
    for expected in (
        "Acme Scribe BAA §4.3",
        "Business Associate Agreement - Acme",
        "2.1",
        "page 3",
    ):
        assert expected in side.content
    # passage text is shown literally, not as Markdown links or emphasis
    assert "\\[a\\] \\*now\\*" in side.content
    # what a privacy officer checks, not the index's internal passage id
    assert "c1" not in side.content and "chunk" not in side.content
    assert isinstance(pdf_part, render.SidePdf)
    assert (pdf_part.name, pdf_part.page) == ("[1] PDF page 3", 3)

    body = render.answer_markdown(answer, "I removed a name.", parts)
    assert body.startswith("> I removed a name.")
    # asked "How fast?", searched as the follow-up it completes: said in the message itself
    assert "*Searched for: How fast must Acme report?*" in body
    same = replace(answer, standalone_question=answer.question)
    assert "Searched for" not in render.answer_markdown(same, "", parts)
    assert "- [1] Acme Scribe BAA §4.3" in body and "[1] PDF page 3" in body
    assert "Extractive mode" in body
    step = render.retrieval_markdown(answer)
    assert "How fast must Acme report?" in step and "| 1 | Acme Scribe BAA §4.3 (baa)" in step
    assert "retrieve 41 ms" in step

    pdf.write_bytes(b"%PDF-1.4 changed since it was indexed")
    assert [type(p) for p in render.citation_elements(answer, {"BAA-X": doc})] == [render.SideText]


def test_a_citation_quoted_twice_opens_with_both_quotes() -> None:
    answer = _answer()
    first = answer.citations[0].quote
    second = "Heading."
    cite = replace(answer.citations[0], quotes=(first, second))
    (side,) = render.citation_elements(replace(answer, citations=[cite]), {})
    assert isinstance(side, render.SideText)
    quoted = side.content.split("**Quoted:**", 1)[1]
    assert render._escape(first) in quoted and "> Heading." in quoted


def test_the_llm_mode_is_named() -> None:
    assert "openai/gpt-4o-mini" in render.mode_label("llm:openai/gpt-4o-mini")


def test_the_server_folder_gets_chainlit_config_and_the_welcome_page(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    root = app_root.prepare(settings, "extractive")
    config = (root / ".chainlit" / "config.toml").read_text()
    assert "[features.spontaneous_file_upload]\n    enabled = false" in config
    assert 'custom_js = "/public/chat.js"' in config
    assert (root / "public" / "chat.js").is_file() and (
        root / "public" / "logo_light.svg"
    ).is_file()
    welcome = (root / "chainlit.md").read_text()
    assert "not legal advice" in welcome.lower()
    assert (root / "chainlit.md").read_text() == (root / "chainlit_en-US.md").read_text()


def test_the_interface_says_username_and_names_the_answering_mode(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    root = app_root.prepare(settings, "llm:ollama/llama3.1")
    text = json.loads((root / ".chainlit" / "translations" / "en-US.json").read_text())
    assert text["auth"]["login"]["form"]["email"]["label"] == "Username"
    assert text["auth"]["login"]["form"]["password"]["label"] == "Password"  # Chainlit's, kept
    footer = text["chat"]["watermark"]
    assert "ollama/llama3.1" in footer and "Not legal advice" in footer
    assert "LLMs can make mistakes" not in json.dumps(text)
    assert "no language model" in app_root.footer("extractive")
    (root / ".chainlit" / "translations" / "de-DE.json").write_text("{}")
    app_root.english_only(root)
    assert [p.name for p in (root / ".chainlit" / "translations").iterdir()] == ["en-US.json"]


def _redact(text: str) -> str:
    return text.replace("Jane Roe", "[NAME]").replace("448812", "[MRN]")


def test_user_text_is_stored_redacted_and_feedback_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "data" / "ui.sqlite"
    layer = ChatDataLayer(db, _redact)

    async def conversation() -> None:
        user = await layer.create_user(User(identifier="sam", metadata={"groups": ["staff"]}))
        assert user is not None
        await layer.update_thread("t1", name="Jane Roe MRN 448812 notes?", user_id=user.id)
        await layer.create_step(
            {
                "id": "s1",
                "threadId": "t1",
                "type": "user_message",
                "name": "sam",
                "output": "Can I send Jane Roe's notes, MRN 448812, to the scribe?",
                "createdAt": "2026-11-28T10:00:00.000Z",
            }
        )
        # as Chainlit sends them: the message, the 'run' step of on_message, the answer in it
        await layer.create_step(
            {
                "id": "r1",
                "threadId": "t1",
                "parentId": "s1",
                "type": "run",
                "name": "on_message",
                "input": "Can I send Jane Roe's notes, MRN 448812, to the scribe?",
                "createdAt": "2026-11-28T10:00:00.100Z",
            }
        )
        await layer.create_step(
            {
                "id": "s2",
                "threadId": "t1",
                "parentId": "r1",
                "type": "assistant_message",
                "name": "HIPAA Assistant",
                "output": "",
                "createdAt": "2026-11-28T10:00:01.000Z",
            }
        )
        await layer.update_step(
            {
                "id": "s2",
                "threadId": "t1",
                "parentId": "r1",
                "type": "assistant_message",
                "name": "HIPAA Assistant",
                "output": "Only under a BAA [1].",
                "createdAt": "2026-11-28T10:00:01.000Z",
            }
        )
        await layer.upsert_feedback(
            Feedback(forId="r1", value=0, threadId="t1", comment="Jane Roe needed more")
        )
        passage = "### AI-301 §5.1\n\n**Quoted:** No. A discharge summary is PHI \u2014 \u00a7 ok"
        await layer.create_element(
            Text(name="[1]", content=passage, display="side", for_id="s2", thread_id="t1")
        )
        png = tmp_path / "page.png"
        png.write_bytes(b"\x89PNG\r\n\x1a\n a rendered page")
        await layer.create_element(
            Image(name="[1] PDF page 3", path=str(png), display="side", for_id="s2", thread_id="t1")
        )
        assert await layer.get_thread_author("t1") == "sam"
        thread = await layer.get_thread("t1")
        assert thread is not None
        assert next(s["output"] for s in thread["steps"]) == (
            "Can I send [NAME]'s notes, MRN [MRN], to the scribe?"
        )
        assert thread["steps"][1]["feedback"]["value"] == 0
        assert thread["steps"][1]["input"] == "Can I send [NAME]'s notes, MRN [MRN], to the scribe?"
        # reopened, the side panel fetches the passage from the element's url
        text_element, page_element = sorted(thread["elements"], key=lambda e: e["type"] != "text")
        url = text_element["url"] or ""
        assert url.startswith("data:text/plain;charset=utf-8;base64,")
        assert base64.b64decode(url.split(",", 1)[1]).decode() == passage
        url = page_element["url"] or ""
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1]) == png.read_bytes()
        listed = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=user.id))
        assert [t["name"] for t in listed.data] == ["[NAME] MRN [MRN] notes?"]

    asyncio.run(conversation())
    raw = b"".join(p.read_bytes() for p in db.parent.glob("ui.sqlite*"))
    assert b"Jane Roe" not in raw and b"448812" not in raw

    assert (
        main(["--data-dir", str(tmp_path / "data"), "feedback", "export", "--format", "jsonl"]) == 0
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert (row["user"], row["rating"], row["comment"]) == ("sam", "down", "[NAME] needed more")
    assert (
        row["question"].startswith("Can I send [NAME]") and row["answer"] == "Only under a BAA [1]."
    )

    out = tmp_path / "feedback.csv"
    assert (
        main(["--data-dir", str(tmp_path / "data"), "feedback", "export", "--out", str(out)]) == 0
    )
    assert next(iter(csv.DictReader(io.StringIO(out.read_text()))))["rating"] == "down"
    assert (
        main(["--data-dir", str(tmp_path / "data"), "feedback", "export", "--since", "2999-01-01"])
        == 0
    )
    assert capsys.readouterr().out.strip().splitlines() == [",".join(FIELDS)]  # header only
    assert (
        main(["--data-dir", str(tmp_path / "data"), "feedback", "export", "--since", "soon"]) == 2
    )
    # before the chat was ever used: an empty export, not an error
    assert main(["--data-dir", str(tmp_path / "empty"), "feedback", "export"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines() == [",".join(FIELDS)]
    assert "no feedback yet" in captured.err


def test_a_conversation_opened_by_a_command_is_named_by_its_first_question(
    tmp_path: Path,
) -> None:
    """ "Add a document" (a command: Chainlit names the conversation by its empty text), then a
    question: the history lists the conversation under the question, redacted; a conversation
    already named keeps its name (found in a browser trial: it was missing from the history)."""
    layer = ChatDataLayer(tmp_path / "ui.sqlite", _redact)

    async def conversation() -> list[str]:
        user = await layer.create_user(User(identifier="pat", metadata={"groups": ["staff"]}))
        assert user is not None
        await layer.update_thread("t1", name="", user_id=user.id)
        await layer.update_thread("t2", name="Can Jane Roe see her chart?", user_id=user.id)
        for n, (thread, text) in enumerate(
            [("t1", ""), ("t1", "Does the new policy cover Jane Roe?"), ("t2", "And her MRN?")]
        ):
            await layer.create_step(
                {
                    "id": f"s{n}",
                    "threadId": thread,
                    "type": "user_message",
                    "name": "pat",
                    "output": text,
                    "createdAt": f"2026-12-07T10:00:0{n}.000Z",
                }
            )
        listed = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=user.id))
        await layer.close()
        return sorted(str(t["name"]) for t in listed.data)

    assert asyncio.run(conversation()) == [
        "Can [NAME] see her chart?",
        "Does the new policy cover [NAME]?",
    ]


def test_a_privacy_officer_can_confirm_each_cited_policy_or_baa_passage() -> None:
    answer = _answer()
    (action,) = render.confirm_actions(answer, may_confirm=True)
    assert action.locator == "Acme Scribe BAA §4.3" and action.question == "How fast?"
    assert action.label.startswith("[1] Acme Scribe BAA §4.3")
    assert render.confirm_actions(answer, may_confirm=False) == []
    answer.abstained = True
    assert render.confirm_actions(answer, may_confirm=True) == []


def test_a_burst_of_tokens_is_sent_as_one_piece_and_slow_ones_as_they_come() -> None:
    async def received(feed: list[list[str]]) -> list[str]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def producer() -> None:
            for burst in feed:
                for token in burst:
                    queue.put_nowait(token)
                await asyncio.sleep(0.01)
            queue.put_nowait(None)

        task = asyncio.ensure_future(producer())
        out = [piece async for piece in stream.pieces(queue)]
        await task
        return out

    words = ["No.", " ", "A", " ", "discharge", " ", "summary"]
    assert asyncio.run(received([words])) == ["No. A discharge summary"]
    assert asyncio.run(received([["No."], [" A"], [" discharge"]])) == ["No.", " A", " discharge"]
    assert asyncio.run(received([[]])) == []


def test_a_cited_pdf_page_is_rendered_with_the_quote_marked(tmp_path: Path) -> None:
    from PIL import Image

    from assistant.ui import pdf_page
    from tests.conftest import ROOT

    pdf = ROOT / "corpus" / "baas" / "BAA-ACME-SCRIBE.pdf"
    quote = (
        "Acme Scribe shall notify Lakemont of any Breach of Unsecured PHI without unreasonable "
        "delay and in no case later than 5 business days after discovery."
    )
    shown = pdf_page.render_page(pdf, 3, quote, tmp_path, "sha-x")
    assert shown is not None and shown.marked
    image = Image.open(shown.path).convert("RGB")
    assert 900 <= image.width <= 1100  # the panel's width, not the page's print size
    marked = sum(1 for r, g, b in image.getdata() if r > 240 and g > 220 and b < 200)
    assert marked > 5_000  # the two lines of the clause, tinted
    assert pdf_page.render_page(pdf, 3, quote, tmp_path, "sha-x") == shown  # cached

    # two sentences quoted from the page: both marked
    other = "Acme Scribe shall reimburse reasonable notification costs for Breaches caused by it"
    both = pdf_page.render_page(pdf, 3, (quote, other), tmp_path, "sha-x")
    assert both is not None and both.marked and both.path != shown.path
    image = Image.open(both.path).convert("RGB")
    assert sum(1 for r, g, b in image.getdata() if r > 240 and g > 220 and b < 200) > marked

    elsewhere = pdf_page.render_page(pdf, 1, quote, tmp_path, "sha-x")
    assert elsewhere is not None and not elsewhere.marked  # the page, unmarked
    assert pdf_page.render_page(pdf, 99, quote, tmp_path, "sha-x") is None


def test_a_quote_is_found_across_line_breaks_and_spacing() -> None:
    from assistant.ui.pdf_page import _find

    chars = list("4.3 Breach\r\nAcme Scribe shall  notify Lake-\r\nmont of any Breach")
    first, last = _find(chars, "Acme Scribe shall notify Lakemont of any Breach") or (0, 0)
    assert "".join(chars[first : last + 1]).startswith("Acme") and chars[last] == "h"
    assert _find(chars, "nothing like it is on this page at all") is None
