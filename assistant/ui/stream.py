"""Tokens from the answering thread to the browser: what has arrived is sent as one piece.

The extractive answer is complete in milliseconds and arrives as a burst of words; sent one
socket message per word it took seconds to render, with the citations and the Stop button
waiting behind it. A language model's tokens, arriving one by one, still stream as they come.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


async def pieces(queue: asyncio.Queue[str | None]) -> AsyncIterator[str]:
    """Everything queued so far, joined, each time something arrives; ends at ``None``."""
    while True:
        first = await queue.get()
        if first is None:
            return
        parts = [first]
        while not queue.empty():
            nxt = queue.get_nowait()
            if nxt is None:
                yield "".join(parts)
                return
            parts.append(nxt)
        yield "".join(parts)
