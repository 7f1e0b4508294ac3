"""Task lists (`- [ ] to do`, `- [x] done`): mdit-py-plugins', its pass skipped for a field
without a box.

The plugin's pass looks at every token of every field, and most fields hold no task (it was
2% of a field's render). A task item's text starts with `[ ]`, `[x]` or `[X]`, and that text
is the field's own: a field none of them is in has no task, and the pass is skipped.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.tasklists import tasklists_plugin

_RULE = "github-tasklists"  # the plugin's core rule
_BOX = re.compile(r"\[[ xX]\]")


def tasklist_plugin(md: MarkdownIt) -> None:
    """mdit-py-plugins' task lists, as it writes them, for the fields that have a box."""
    md.use(tasklists_plugin)
    mark_tasks = next(rule.fn for rule in md.core.ruler.__rules__ if rule.name == _RULE)

    def mark_tasks_if_boxed(state: StateCore) -> None:
        if _BOX.search(state.src):
            mark_tasks(state)

    md.core.ruler.at(_RULE, mark_tasks_if_boxed)
