"""Text the page shows that it did not write: made to show literally, and numbers in messages.

Messages end up on pages that render Markdown (``st.warning``, ``st.markdown``), and some quote what a URL
or an uploaded file brought. Markdown punctuation is escaped, and GitHub-flavoured autolinks, which form
from plain text and survive that escaping (https://..., www...., someone@host), are broken.
"""

from __future__ import annotations

MARKDOWN_PUNCTUATION = frozenset("\\`*_{}[]()#+-.!|<>~$:&=\"'")
AUTOLINK_SEQUENCES = (("://", ":\\x2f\\x2f"), ("www.", "www\\x2e"), ("@", "\\x40"))


def printable_ascii(text: object) -> str:
    """``text`` as printable ASCII: every other character written as its Python escape."""
    text = str(text).encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)


def literal(text: object) -> str:
    """``text`` shown literally in Markdown (its punctuation escaped), Unicode kept (× and ± in sentences)."""
    return "".join("\\" + char if char in MARKDOWN_PUNCTUATION else char for char in str(text))


def plain_text(text: object, limit: int = 300) -> str:
    """``text`` (which may quote a URL) made to show literally in Markdown: printable ASCII, length
    capped at ``limit`` characters, autolink sequences broken and Markdown punctuation escaped."""
    text = printable_ascii(text)
    for sequence, escaped in AUTOLINK_SEQUENCES:
        text = text.replace(sequence, escaped)
    return literal(text if len(text) <= limit else text[:limit] + "...")


def quoted(text: object, limit: int = 40) -> str:
    """What was received, as printable ASCII, at most ``limit`` characters, quoted (for a problem message)."""
    text = printable_ascii(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def number(value: float) -> str:
    """A number for a message or a widget: integers in full, others in short form (``1e-04``, ``0.05``)."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"
