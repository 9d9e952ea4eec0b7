from ingest.tree import Node, Para, chunk_tree


def _words(n: int, word: str = "word") -> str:
    return " ".join([word] * n)


def test_subtree_that_fits_stays_one_chunk_with_paragraph_spans() -> None:
    root = Node("45 CFR 1.1", "§ 1.1 Test", [Para("Intro text of the section here.")])
    std = Node("45 CFR 1.1(a)", "1.1(a)", [Para("(a) Standard: alpha. " + _words(20))])
    std.children.append(
        Node("45 CFR 1.1(a)(1)", "1.1(a)(1)", [Para("(1) Spec one. " + _words(10))])
    )
    root.children.append(std)
    chunks = chunk_tree("d", [root], max_words=200, min_words=5)
    assert len(chunks) == 1
    c = chunks[0]
    assert c.locator == "45 CFR 1.1"
    at = c.text.index("(1) Spec one")
    assert c.locator_at(at) == "45 CFR 1.1(a)(1)"
    assert c.locator_at(c.text.index("(a) Standard")) == "45 CFR 1.1(a)"
    assert c.locator_at(0) == "45 CFR 1.1"


def test_large_subtree_splits_at_children_and_short_lead_in_becomes_context() -> None:
    root = Node("45 CFR 2.1", "§ 2.1 Big", [Para("Lead in:")])
    for i in range(1, 4):
        root.children.append(Node(f"45 CFR 2.1({i})", f"2.1({i})", [Para(f"({i}) " + _words(90))]))
    chunks = chunk_tree("d", [root], max_words=120, min_words=10)
    assert [c.locator for c in chunks] == ["45 CFR 2.1(1)", "45 CFR 2.1(2)", "45 CFR 2.1(3)"]
    assert all("Lead in:" in " ".join(c.heading_path) for c in chunks)
    assert all(len(c.text.split()) <= 120 for c in chunks)


def test_long_paragraph_is_split_at_sentences_with_stable_distinct_ids() -> None:
    text = " ".join(f"Sentence number {i} has some words in it." for i in range(80))
    root = Node("X §1", "§1 Long", [Para(text, page=3)])
    chunks = chunk_tree("d", [root], max_words=100, min_words=10)
    assert len(chunks) > 3
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert all(c.page == 3 and c.locator == "X §1" for c in chunks)
    again = chunk_tree("d", [root], max_words=100, min_words=10)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]
