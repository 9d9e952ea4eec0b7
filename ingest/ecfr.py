"""eCFR XML (versioner API ``full`` output) -> section trees with paragraph-level locators."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import ElementTree as SafeET

from core.errors import DocumentError
from ingest.designators import Designator, DesignatorStack
from ingest.tree import Node, Para

# A leading designator: "(a)", "(1)", "(<I>1</I>)", optionally after a stray "$".
_DESIG = re.compile(
    r"^\s*\$?\((?:<(I|E)[^>]*>)?([0-9]{1,3}|[a-z]{1,5}|[A-Z]{1,2})(?:</(?:I|E)>)?\)"
)
_LEAD_HEADING = re.compile(r"^\s*<(?:I|E)[^>]*>[^<]{1,200}</(?:I|E)>")
# A definition in a definitions section: "<I>Marketing:</I>", "<I>Breach</I> means ...".
_DEFINITION = re.compile(
    r"^\s*<I>([A-Z][^<]{1,80}?)[:.]?</I>\s*(?::|means\b|has the (?:same )?meaning\b|includes\b|$)"
)
# Among definitions, any italic term that starts a paragraph starts the next one ("... are",
# "<I>Security or Security measures</I> encompass").
_NEXT_DEFINITION = re.compile(r"^\s*<I>([A-Z][^<]{1,80}?)[:.]?</I>\s*(?:[:,]|[a-z(]|$)")
_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


def _inner_xml(el: ET.Element) -> str:
    parts = [el.text or ""]
    for child in el:
        parts.append(ET.tostring(child, encoding="unicode"))
    return "".join(parts)


def _plain(markup: str) -> str:
    text = _TAG.sub("", markup)
    text = text.replace("$(", "(")
    return _WS.sub(" ", text).strip()


def leading_designators(markup: str) -> tuple[list[Designator], str, int]:
    """Designators at the start of a paragraph, including those right after italic headings.

    ``(b) <I>Flexibility of approach.</I> (1) Covered entities...`` -> [(b), (1)].
    Returns the designators, the markup after them, and which designator owns the italic heading.
    """
    found: list[Designator] = []
    rest = markup
    while True:
        m = _DESIG.match(rest)
        if not m:
            break
        found.append(Designator(m.group(2), italic=bool(m.group(1))))
        rest = rest[m.end() :]
    owner = len(found) - 1
    # "(k) <I>Standard: ...</I>—(1) <I>Military ...</I>—(i) <I>Armed Forces.</I> Text":
    # each heading may be followed by the first subparagraph's designator and its own heading.
    tail = rest
    while found:
        h = _LEAD_HEADING.match(tail)
        if not h:
            break
        after = tail[h.end() :].lstrip(" \u2014:-")
        m = _DESIG.match(after)
        if not m or m.group(2) not in ("1", "i", "A"):
            break
        found.append(Designator(m.group(2), italic=bool(m.group(1))))
        tail = after[m.end() :]
    return found, rest, owner


def _section_number(div: ET.Element, head: str) -> str:
    n = div.get("N") or ""
    if n:
        return n
    m = re.search(r"§\s*([\d.]+)", head)
    return m.group(1) if m else head


def parse_ecfr_xml(data: bytes) -> list[Node]:
    """One ``Node`` per section (``45 CFR 164.312``) with paragraph children."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises several types
        raise DocumentError(f"not well-formed eCFR XML ({type(exc).__name__})") from exc
    sections: list[Node] = []
    for div in root.iter():
        kind = (div.get("TYPE") or "").upper()
        if kind == "SECTION":
            node = _parse_section(div)
            if node is not None:
                sections.append(node)
        elif kind == "APPENDIX":
            node = _parse_appendix(div)
            if node is not None:
                sections.append(node)
    if not sections:
        raise DocumentError("no sections found in the eCFR XML")
    return sections


def _heading(div: ET.Element) -> str:
    head = div.find("HEAD")
    return _plain(_inner_xml(head)) if head is not None else ""


def _parse_appendix(div: ET.Element) -> Node | None:
    head = _heading(div)
    paras = [_plain(_inner_xml(p)) for p in div.iter("P")]
    paras = [p for p in paras if p]
    if not paras:
        return None
    locator = f"45 CFR Part 164, {head.split('—')[0].strip()}" if head else "45 CFR Part 164"
    return Node(locator=locator, label=head, paras=[Para(p) for p in paras])


def _parse_section(div: ET.Element) -> Node | None:
    head = _heading(div).rstrip(".")
    number = _section_number(div, head)
    base = f"45 CFR {number}"
    section = Node(locator=base, label=head)
    elements: list[ET.Element] = []
    for child in div:
        if child.tag in ("P", "FP"):
            elements.append(child)
        elif child.tag == "EXTRACT":
            elements.extend(child.iter("P"))
    if not elements:
        return None if "[Reserved]" in head or not head else section
    parsed = [leading_designators(_inner_xml(p)) for p in elements]
    stack = DesignatorStack()
    by_citation: dict[str, Node] = {}
    current: Node = section
    scope = section  # the section, or the definition being read: paragraphs number within it
    prefix = base
    # while reading definitions: the paragraph they belong to, and the numbering outside them
    outside: tuple[Node, DesignatorStack, dict[str, Node]] | None = None
    for i, (desigs, rest, owner) in enumerate(parsed):
        text = _plain(_inner_xml(elements[i]))
        if not text:
            continue
        term = None
        if not desigs:
            term = (_DEFINITION if outside is None else _NEXT_DEFINITION).match(rest)
        if term:
            # Each definition numbers its own paragraphs: "(1)" of "Marketing" is not "(1)" of
            # "Payment", nor the section's (1). Its locator names the term:
            # 45 CFR 164.501 "Marketing" (2)(ii)(A); 45 CFR 164.504(a) "Summary health information".
            if outside is None:
                outside = (current, stack, by_citation)
            holder = outside[0]
            name = _plain(term.group(1)).rstrip(":.")
            scope = Node(locator=f'{holder.locator} "{name}"', label=name)
            holder.children.append(scope)
            prefix = f"{scope.locator} "
            stack, by_citation, current = DesignatorStack(), {}, scope
            current.paras.append(Para(text))
            continue
        if desigs and outside is not None and _leaves_definitions(desigs[0], outside[1]):
            # "(a) Definitions ... (b) ...": the next paragraph of the section
            _, stack, by_citation = outside
            outside, scope, prefix = None, section, base
        if desigs:
            lookahead = [d for later, _, _ in parsed[i + 1 : i + 40] for d in later[:1]]
            for j, d in enumerate(desigs):
                stack.push(d, lookahead if j == len(desigs) - 1 else desigs[j + 1 :] + lookahead)
                citation = stack.citation()
                if citation not in by_citation:
                    parent = _parent_for(scope, by_citation, stack)
                    label = f"{prefix}{citation}".split(" ")[-1]  # 164.312(a), or a term's (2)
                    h = _LEAD_HEADING.match(rest) if j == owner else None
                    if h:
                        label = f"{label} {_plain(h.group(0)).rstrip('.')}"
                    node = Node(locator=f"{prefix}{citation}", label=label)
                    parent.children.append(node)
                    by_citation[citation] = node
                current = by_citation[citation]
            current.paras.append(Para(text))
        else:
            current.paras.append(Para(text))
    return section


def _leaves_definitions(first: Designator, outer: DesignatorStack) -> bool:
    """Whether a paragraph designated ``first`` is the one after the paragraph whose definitions
    were being read (``(b)`` after ``(a) Definitions``), not a paragraph of a definition."""
    if not outer.levels or outer.levels[-1][0] != "lower" or first.italic:
        return False
    letter = outer.levels[-1][1]
    return len(letter) == 1 and first.value == chr(ord(letter) + 1)


def _parent_for(section: Node, by_citation: dict[str, Node], stack: DesignatorStack) -> Node:
    for depth in range(stack.depth() - 1, 0, -1):
        prefix = "".join(f"({v})" for _, v in stack.levels[:depth])
        if prefix in by_citation:
            return by_citation[prefix]
    return section
