"""Step 3 of a two-way sync: the edits made in Anki since the last sync come home.

Only the notes Anki says were modified since notecards last saw them are looked at (their
modification times, or Anki's `edited:N` search; read_anki.py). For each field Anki holds
differently from what was pushed (after the normalisation Anki's editor applies, so that
opening a note is never an edit):
- the vault did not change it: Anki's edit is written into the field's markdown
  (pull/field_pull.py), as small as it was made;
- the vault changed it too: both edits are merged (base: the markdown last pushed, kept in
  pushed_fields.py); overlapping edits are a conflict, settled by `prefer` or left alone for
  the planner to report.
Tags added or removed in Anki go to the block's `Tags:` line; a removed tag that the block
does not write (file tags, frontmatter, folder tags, default tags) is reported instead.

The result is a list of field updates for the vault, and what Anki holds for each field that
now agrees with the vault (the new base): the planner then sends only what the vault adds.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from notecards.hashing import field_digest, field_matches
from notecards.model import Note
from notecards.problems import Problem, Severity
from notecards.pull.field_pull import NotPulled, Pulled, RenderField, merge_edits, pull_field
from notecards.pull.merge import Conflict
from notecards.render import Renderer
from notecards.render.anki_form import anki_form
from notecards.render.compare import shows_as_rendered, shows_the_same
from notecards.sync.notes import Rendered
from notecards.sync.pushed_fields import PushedFields
from notecards.sync.read_anki import authored
from notecards.sync.state import PushedNote, SyncState
from notecards.targets.ankiconnect import AnkiNote
from notecards.vault import Vault
from notecards.vault.field_writeback import FieldUpdate, own_tags


@dataclass(frozen=True)
class PulledField:
    """One field (or the note's tags, as field "Tags") that takes Anki's edit."""

    note_id: int
    where: str  # path:line of the field
    name: str
    before: str
    after: str
    how: str  # "patch", "rewrite", "merge", "anki's version", "tags"

    def diff(self, limit: int = 12) -> list[str]:
        """A short diff of the markdown, for --dry-run."""
        lines = list(
            difflib.unified_diff(
                self.before.splitlines(), self.after.splitlines(), lineterm="", n=0
            )
        )[2:]
        lines = [line for line in lines if not line.startswith("@@")]
        return lines[:limit] + (
            [f"... ({len(lines) - limit} more lines)"] if len(lines) > limit else []
        )


@dataclass
class PullPlan:
    updates: list[FieldUpdate] = field(default_factory=list)
    pulled: list[PulledField] = field(default_factory=list)
    # note id -> field name -> the HTML Anki holds, which the vault's field now agrees with
    # (written home, merged, or the vault's version preferred): the record's new base.
    agreed: dict[int, dict[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # note id -> the note as it reads once its update is written
    notes: dict[int, Note] = field(default_factory=dict)
    # The notes with an edit made in Anki that stays there for now (a conflict, a field that
    # cannot be written home): looked at again by the next sync.
    unsettled: set[int] = field(default_factory=set)


def plan_pull(
    vault: Vault,
    renderer: Renderer,
    items: Sequence[Rendered],
    anki: dict[int, AnkiNote],
    state: SyncState,
    base: PushedFields,
    prefer: str | None,
) -> PullPlan:
    """What to write into the vault for the notes in `items` (rendered, each with a record
    and a note in `anki`). `prefer` settles overlapping edits: "vault", "anki" or None."""
    plan = PullPlan()
    for item in items:
        nid = item.note.note_id
        assert nid is not None
        _NotePull(vault, renderer, item, anki[nid], state.notes[nid], base, prefer, plan).run()
    return plan


@dataclass
class _NotePull:
    vault: Vault
    renderer: Renderer
    item: Rendered
    anki_note: AnkiNote
    pushed: PushedNote
    base: PushedFields
    prefer: str | None
    plan: PullPlan
    fields: dict[str, str] = field(default_factory=dict)
    agreed: dict[str, str] = field(default_factory=dict)
    _all_tags: tuple[str, ...] = ()

    @property
    def note(self) -> Note:
        return self.item.note

    def run(self) -> None:
        base = self.base.get(self.anki_note.note_id)
        base_md, base_html = base if base is not None else ({}, {})
        for name, want in self.item.fields.items():
            have = self.anki_note.fields.get(name)
            if have is None or have == want:
                continue
            if not self._edited_in_anki(name, have, want, base_html):
                continue
            if self._put_back(name, have):
                continue
            if shows_as_rendered(want, have):
                continue  # Anki holds what the vault renders to (edited alike on both sides)
            self._field(name, want, have, base_md.get(name), base_html.get(name))
        tags = self._tags()
        if self.fields or tags is not None:
            self.plan.updates.append(FieldUpdate(self.note, dict(self.fields), tags))
            fields = {**self.note.fields, **{k: v.strip() for k, v in self.fields.items()}}
            self.plan.notes[self.anki_note.note_id] = dataclasses.replace(
                self.note, fields=fields, tags=self._all_tags
            )
        if self.agreed:
            self.plan.agreed[self.anki_note.note_id] = self.agreed

    def _edited_in_anki(self, name: str, have: str, want: str, base_html: dict[str, str]) -> bool:
        """Whether Anki's field differs from what was pushed (up to the editor's rewrite)."""
        last = self.pushed.fields.get(name)
        if last is not None and field_matches(have, last):
            return False
        pushed = base_html.get(name)
        if pushed == want:  # (most often: the vault's field is as pushed)
            return not shows_as_rendered(want, have)
        return pushed is None or not shows_the_same(pushed, have)

    def _put_back(self, name: str, have: str) -> bool:
        """Anki holds what the field was before notecards' last update: Anki's editor, open on
        the note then, saved its own copy over the update (AnkiConnect #82). Not an edit: the
        vault's version is sent again, and the user told."""
        before = self.pushed.replaced.get(name)
        if before is None or not field_matches(have, before):
            return False
        self.agreed[name] = have
        line = self.note.field_lines.get(name, self.note.start_line)
        message = (
            f"note {self.anki_note.note_id}: Anki's editor put back the old {name} over the"
            " last sync's update (the note was open in it); sent again"
        )
        self.plan.problems.append(Problem.at(self.note.path, line, message, Severity.WARNING))
        return True

    def _field(
        self, name: str, want: str, have: str, base_md: str | None, base_html: str | None
    ) -> None:
        vault_md = self.note.fields.get(name, "")
        last = self.pushed.fields.get(name)
        if base_md is not None:
            vault_changed = base_md != vault_md
        else:
            vault_changed = self.item.source_digest != self.pushed.source_digest and not (
                last is not None and field_matches(want, last)
            )
        render = self._render_function(name)
        appendix = self.note.appendix.get(name, "")
        own = _without(appendix, have)  # Anki's field as the markdown renders it
        if own is None:
            self._problem(
                name, "its end, which notecards writes, was changed (edit it in the vault)"
            )
            return
        pushed_form = render(vault_md) if appendix else want

        def take(result: Pulled | str | Conflict | NotPulled, how: str) -> bool:
            if isinstance(result, Pulled):
                result, how = result.markdown, result.how
            if isinstance(result, str):
                self._take(name, have, vault_md, result, how)
                return True
            return False

        if not vault_changed:
            pulled = pull_field(vault_md, pushed_form, own, render, self._convert)
            if not take(pulled, "patch"):
                self._problem(name, pulled.reason)
            return
        if self.prefer == "vault":
            self.agreed[name] = have  # the planner then pushes the vault's version
            return
        merged: str | Conflict | NotPulled
        if base_md is None:
            merged = NotPulled("no record of what was last pushed, to merge from")
        else:
            html = anki_form(base_html) if base_html is not None else render(base_md)
            merged = merge_edits(base_md, vault_md, html, own, render, self._convert)
        if take(merged, "merge"):
            return
        if self.prefer == "anki":
            theirs = pull_field(vault_md, pushed_form, own, render, self._convert)
            if not take(theirs, "anki's version"):
                self._problem(name, theirs.reason)
        elif isinstance(merged, Conflict):
            self.plan.unsettled.add(self.anki_note.note_id)  # the planner reports it
        else:
            self._problem(name, merged.reason)

    def _take(self, name: str, have: str, before: str, after: str, how: str) -> None:
        self.fields[name] = after
        self.agreed[name] = have
        where = f"{self.note.path}:{self.note.field_lines.get(name, self.note.start_line)}"
        self.plan.pulled.append(
            PulledField(self.anki_note.note_id, where, name, before, after, how)
        )

    def _problem(self, name: str, why: str, severity: Severity = Severity.WARNING) -> None:
        self.plan.unsettled.add(self.anki_note.note_id)
        line = self.note.field_lines.get(name, self.note.start_line)
        message = (
            f"note {self.anki_note.note_id}: {name} was edited in Anki and not brought home: {why}"
        )
        self.plan.problems.append(Problem.at(self.note.path, line, message, severity))

    def _render_function(self, name: str) -> RenderField:
        """The field's markdown -> its HTML (without the parser's appendix)."""
        note_type = self.vault.config.note_types[self.note.note_type]
        line = self.note.field_lines.get(name, self.note.start_line)

        def render(markdown: str) -> str:
            return self.renderer.render_field(
                markdown, cloze=note_type.is_cloze, path=self.note.path, line=line
            ).html

        return render

    def _convert(self, html: str) -> str:
        # Imported on first need: the HTML walker costs every other command its start-up.
        from notecards.pull.html_to_markdown import vault_html_to_markdown

        config = self.vault.config
        cloze = config.note_types[self.note.note_type].is_cloze
        return vault_html_to_markdown(html, config, cloze=cloze)

    def _tags(self) -> list[str] | None:
        """The block's own tags with Anki's additions and removals, or None (no change)."""
        managed = {t.casefold() for t in self.pushed.tags}
        vault = {t.casefold() for t in self.note.tags}
        anki_tags = authored(self.anki_note.tags)
        in_anki = {t.casefold() for t in anki_tags}
        added = [t for t in anki_tags if t.casefold() not in managed | vault]
        removed = [
            t for t in self.pushed.tags if t.casefold() not in in_anki and t.casefold() in vault
        ]
        self._all_tags = self.note.tags
        if not added and not removed:
            return None
        own = own_tags(self.vault.root, self.vault.parsed.files[self.note.path], self.note)
        if own is None:
            self._problem("Tags", "the file could not be read again")
            return None
        own_folded = {t.casefold() for t in own}
        for tag in removed:
            if tag.casefold() not in own_folded:
                self.plan.problems.append(
                    Problem.at(
                        self.note.path,
                        self.note.start_line,
                        f"note {self.anki_note.note_id}: tag {tag!r} was removed in Anki, but"
                        " it does not come from this block (file tags, frontmatter, folder or"
                        " default tags): not written; it stays off the note in Anki",
                        Severity.WARNING,
                    )
                )
        gone = {t.casefold() for t in removed}
        new = [t for t in own if t.casefold() not in gone] + added
        if [t.casefold() for t in new] == [t.casefold() for t in own]:
            return None
        gone = {t.casefold() for t in own} - {t.casefold() for t in new}
        kept = tuple(t for t in self.note.tags if t.casefold() not in gone)
        self._all_tags = kept + tuple(t for t in added if t.casefold() not in vault)
        where = f"{self.note.path}:{self.note.start_line}"
        self.plan.pulled.append(
            PulledField(self.anki_note.note_id, where, "Tags", " ".join(own), " ".join(new), "tags")
        )
        return new


def editor_rewrites(
    items: Sequence[Rendered], anki: dict[int, AnkiNote], state: SyncState, base: PushedFields
) -> dict[int, dict[str, str]]:
    """The fields Anki holds in another form than pushed, but the same once normalised as
    Anki's editor does (it rewrites a field when a note is merely opened): per note id, field
    name -> Anki's HTML, to be recorded as pushed, so that nobody's edit is seen there."""
    differing: list[tuple[int, Rendered, str, str, str]] = []  # (id, item, field, Anki's, digest)
    for item in items:
        nid = item.note.note_id
        record = state.notes.get(nid) if nid is not None else None
        if nid is None or record is None or nid not in anki:
            continue
        for name, have in anki[nid].fields.items():
            last = record.fields.get(name)
            if last is not None and not field_matches(have, last):
                differing.append((nid, item, name, have, last))
    base.read(nid for nid, *_ in differing)
    found: dict[int, dict[str, str]] = {}
    for nid, item, name, have, last in differing:
        stored = base.get(nid)
        html = stored[1].get(name) if stored is not None else None
        same = shows_as_rendered if html == item.fields.get(name) else shows_the_same
        if html is not None and field_matches(html, last) and same(html, have):
            found.setdefault(nid, {})[name] = have
    return found


def _without(appendix: str, html: str) -> str | None:
    """A field's HTML without the appendix the parser adds to it (a link to the note, say),
    or None when Anki's field no longer ends with it."""
    if not appendix:
        return html
    whole, tail = anki_form(html), anki_form(appendix)
    return whole[: -len(tail)] if whole.endswith(tail) else None


def apply_agreement(state: SyncState, agreed: dict[int, dict[str, str]]) -> None:
    """Record what Anki holds for each agreed field as what was last pushed: the vault's
    field now renders to it (or the vault's version is about to replace it)."""
    for nid, fields in agreed.items():
        record = state.notes[nid]
        digests = dict(record.fields)
        digests.update((name, field_digest(html)) for name, html in fields.items())
        state.notes[nid] = dataclasses.replace(record, fields=digests)
