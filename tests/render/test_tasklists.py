"""Task lists render as mdit-py-plugins writes them, its pass skipped only for fields
without a box (render/tasklists.py)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from notecards.render.tasklists import tasklist_plugin

FIELDS = [
    "- [ ] to do\n- [x] done\n- [X] done too",
    "* [X]\ttab after the box",
    "1. [x] numbered\n   - [ ] nested",
    "> - [ ] in a quote",
    "- [ ]\n- [x]\n  more",
    "- [ ]no space",
    "- \\[ ] escaped",
    "text [ ] not in a list",
    "- plain item\n- [link](x) item",
    "- [[wikilink]] item",
]


@pytest.mark.parametrize("field", FIELDS)
def test_a_field_renders_as_the_plugin_writes_it(field: str) -> None:
    plugin = MarkdownIt("commonmark").use(tasklists_plugin)
    ours = MarkdownIt("commonmark").use(tasklist_plugin)
    assert ours.render(field) == plugin.render(field)


def test_each_box_is_a_task() -> None:
    html = MarkdownIt("commonmark").use(tasklist_plugin).render("- [ ] a\n- [x] b\n- [X] c")
    assert html.count('class="task-list-item"') == 3
    assert html.count('checked="checked"') == 2
