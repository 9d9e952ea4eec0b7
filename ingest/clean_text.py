"""Characters that change how a passage is tokenised, matched or quoted without changing what it
says: non-breaking and zero-width spaces, soft hyphens, typographic ligatures and curly quotes.

Every loader's text passes through ``normalise`` before chunking, so a quotation typed with
straight quotes, or a word split by a soft hyphen in Word, finds the passage it came from."""

from __future__ import annotations

_SAME = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u202f": " ",  # narrow no-break space
        "\u200b": None,  # zero-width space
        "\u2060": None,  # word joiner
        "\ufeff": None,  # zero-width no-break space (a stray byte-order mark)
        "\u00ad": None,  # soft hyphen
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
    }
)


def normalise(text: str) -> str:
    return text.translate(_SAME)
