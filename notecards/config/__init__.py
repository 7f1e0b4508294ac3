"""Vault settings: notecards.yaml, or Obsidian_to_Anki's data.json for migrating vaults.

`load_config(root)` first reads O2A's settings when the vault has them
(`.obsidian/plugins/obsidian-to-anki-plugin/data.json`), so a migrating user gets
the same decks, tags and custom regexps without writing anything; then an optional
`notecards.yaml` at the vault root overrides any of the keys below (the keys are
the VaultConfig field names):

    vault_name: My Vault            # for obsidian:// links (default: the name of the Obsidian
                                    # vault, the nearest folder at or above with .obsidian/)
    default_deck: ML                # deck for notes without TARGET DECK / folder deck
    default_tags: [ml]              # added to every note
    deck_from_folder: true          # deck = the note's folder path, a/b -> a::b
    folder_decks: {lectures: ML::Lectures}
    folder_tags: {lectures: [lecture]}
    curly_cloze: true               # {x}, {2:x} ... in Cloze note types
    highlights_to_cloze: false      # ==x== is a cloze too
    scan_dir: cards                 # only this folder is read
    ignore: ["**/*.excalidraw.md", "templates/**"]
    custom_regexps: {Basic: "^Q: (.+)\\nA: (.+)"}
    add_context: false              # O2A's heading breadcrumb, appended to a field
    add_file_link: false            # O2A's "Obsidian" link back to the file
    add_obsidian_tags: false        # #tag in a note's text becomes an Anki tag
    context_fields: {Basic: Back}   # which field gets the breadcrumb (default: first)
    file_link_fields: {Basic: Front}
    ankiconnect: {url: "http://127.0.0.1:8765", api_key: secret}  # for `notecards sync`
    syntax: {begin_note: "%%anki", end_note: "%%"}  # renamed markers (O2A's "Syntax")
    note_types:
      - name: Vocab
        fields: [Word, Meaning]
        cloze: false
        templates:
          - {name: Card 1, qfmt: "{{Word}}", afmt: "{{FrontSide}}<hr id=answer>{{Meaning}}"}
        css: ".card { font-size: 20px }"
        id: 1607392319               # optional: tells apart two types with the same fields;
                                     # mixed with the field list into the model id

Both files are read as hostile input: only a regular file, within a size limit, as UTF-8,
YAML through `bounded_yaml` (the reader frontmatter uses too); a value of the wrong type or
shape is a mistake at its own line, and `load_config` raises with every mistake in both.
"""

from notecards.config.js_regexp import compile_js_regexp
from notecards.config.load import load_config
from notecards.config.note_types import BUILTIN_NOTE_TYPES, derived_model_id, make_note_type
from notecards.config.notecards_yaml import CONFIG_FILE
from notecards.config.o2a import O2A_SETTINGS
from notecards.config.schema import DEFAULT_SYNTAX, Syntax, VaultConfig, syntax_from

__all__ = [
    "BUILTIN_NOTE_TYPES",
    "CONFIG_FILE",
    "DEFAULT_SYNTAX",
    "O2A_SETTINGS",
    "Syntax",
    "VaultConfig",
    "compile_js_regexp",
    "derived_model_id",
    "load_config",
    "make_note_type",
    "syntax_from",
]
