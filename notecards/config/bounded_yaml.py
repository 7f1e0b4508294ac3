"""The one YAML reader for what a person writes (notecards.yaml, a note's frontmatter), bounded.

PyYAML reuses an anchor's node for each of its aliases, so ten lines can stand for a billion
values (a "billion laughs"): they parse at once, and then whatever walks the result hangs. Its
composer also recurses once per level of nesting, so a few thousand `[` end in RecursionError.
This reader measures a document before anything is built from it: its size, its aliases, how
deep it nests and how large it is with every alias expanded (each node counted once, memoised,
so the count itself is quick), and it refuses a key written twice, which PyYAML would let the
second one silently win. The limits are far above what a settings file or a note needs.
PyYAML itself is imported only when a text is read (yaml_loader.py): a command whose vault
has no notecards.yaml and parses no frontmatter never imports it.
"""

from __future__ import annotations

from notecards.config.yaml_document import MAX_CHARS, YamlDocument, YamlProblem

__all__ = ["YamlDocument", "YamlProblem", "load_yaml"]


def load_yaml(text: str, first_line: int = 1) -> YamlDocument:
    """Parse one YAML document within the limits above; raises YamlProblem. Every line said
    is the file's: `first_line` is the one the text starts at (frontmatter starts at 2)."""
    if len(text) > MAX_CHARS:
        message = f"larger than the limit of {MAX_CHARS:,} characters (1 MiB)"
        raise YamlProblem(first_line, message)
    from notecards.config.yaml_loader import load_bounded  # PyYAML, only when YAML is read

    return load_bounded(text, first_line)
