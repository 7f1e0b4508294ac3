"""The reverse path: edits made in Anki come home to the markdown.

Anki's HTML back to markdown (`html_to_markdown.py`), the edit placed on the field's markdown
as small as it was made (`patch.py`), and a three-way merge when the vault changed the same
field (`merge.py`). Every result is checked by rendering it again: what is written renders to
what Anki holds."""
