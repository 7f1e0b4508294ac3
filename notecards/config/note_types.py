"""Note types: the ones every Anki profile has, and how a user's own one is made.

A model id is derived from what Anki's model is made of (and the user's optional `id:` seed),
never from its name: renaming a type keeps every card in Anki, and a changed field list always
gets a new id (Anki refuses new fields under an old id).
"""

from __future__ import annotations

from notecards.hashing import model_id_digest
from notecards.model import NoteType

# The note types every fresh Anki profile has, with Anki's field names.
# Model ids are genanki's constants for the same stock types.
BUILTIN_NOTE_TYPES: dict[str, NoteType] = {
    nt.name: nt
    for nt in (
        NoteType("Basic", ("Front", "Back"), 1559383000),
        NoteType("Basic (and reversed card)", ("Front", "Back"), 1485830179),
        NoteType("Basic (optional reversed card)", ("Front", "Back", "Add Reverse"), 1382232460),
        NoteType("Basic (type in the answer)", ("Front", "Back"), 1305534440),
        NoteType("Cloze", ("Text", "Back Extra"), 1550428389, is_cloze=True),
    )
}


def derived_model_id(field_names: tuple[str, ...], is_cloze: bool, seed: int | None = None) -> int:
    """A custom note type's model id: its kind and field list, and the optional seed."""
    kind = "cloze:" if is_cloze else "standard:"
    make_up = (f"{seed}:" if seed is not None else "") + kind + "\x1f".join(field_names)
    return (1 << 40) + model_id_digest(make_up)


def default_templates(field_names: tuple[str, ...], is_cloze: bool) -> tuple[dict[str, str], ...]:
    """Anki's own card layout for a type with these fields: front, then the rest below."""
    first, rest = field_names[0], field_names[1:]
    if is_cloze:
        back = "".join(f"<br>{{{{{name}}}}}" for name in rest)
        return (
            {
                "name": "Cloze",
                "qfmt": f"{{{{cloze:{first}}}}}",
                "afmt": f"{{{{cloze:{first}}}}}{back}",
            },
        )
    answer = "<br>".join(f"{{{{{name}}}}}" for name in rest)
    afmt = f"{{{{FrontSide}}}}<hr id=answer>{answer}"
    return ({"name": "Card 1", "qfmt": f"{{{{{first}}}}}", "afmt": afmt},)


def make_note_type(
    name: str,
    field_names: tuple[str, ...],
    is_cloze: bool | None = None,
    templates: tuple[dict[str, str], ...] = (),
    css: str = "",
    id_seed: int | None = None,
) -> NoteType:
    """A user's note type; cloze when its name says so, unless told."""
    cloze = "Cloze" in name if is_cloze is None else is_cloze
    return NoteType(
        name=name,
        fields=field_names,
        model_id=derived_model_id(field_names, cloze, id_seed),
        is_cloze=cloze,
        templates=templates or default_templates(field_names, cloze),
        css=css,
    )
