"""What a sync tells the user: per note `path:line: what changes`, the counts, and `--json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notecards.problems import Problem, errors, shown_path
from notecards.sync.plan import Plan, Update

if TYPE_CHECKING:
    from notecards.sync.pull_edits import PulledField


@dataclass
class SyncReport:
    plan: Plan
    applied: bool = False
    recovered: list[str] = field(default_factory=list)  # "path:line: note N" lines
    written_ids: list[tuple[str, int, int]] = field(default_factory=list)  # path, line, id
    files_written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # refusals, write-back trouble
    requests: int = 0
    pulled: list[PulledField] = field(default_factory=list)  # edits made in Anki, brought home

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    def to_json(self) -> dict[str, Any]:
        document = plan_json(self.plan)
        document["problems"] = [p.format() for p in self.plan.problems + self.problems]
        document.update(
            applied=self.applied,
            recovered=self.recovered,
            ids_written=[{"where": f"{p}:{ln}", "id": i} for p, ln, i in self.written_ids],
            files_written=self.files_written,
            requests=self.requests,
            pulled=[
                {
                    "where": p.where,
                    "note_id": p.note_id,
                    "field": p.name,
                    "how": p.how,
                    "markdown": p.after,
                }
                for p in self.pulled
            ],
        )
        return document


def pulled_lines(pulled: list[PulledField], prefix: str = "", *, diffs: bool) -> list[str]:
    """Per field brought home from Anki, `path:line: note N: Field from Anki (how)`; with
    `diffs`, the markdown lines it removes and adds, indented."""
    out = []
    for p in pulled:
        out.append(f"{shown_path(prefix, p.where)}: note {p.note_id}: {p.name} from Anki ({p.how})")
        if diffs:
            out += [f"    {line}" for line in p.diff()]
    return out


def plan_lines(plan: Plan, prefix: str = "", *, notices_only: bool = False) -> list[str]:
    """Per note, `path:line: what changes` (the --dry-run listing); paths under `prefix`.

    `notices_only`: just what a user must hear after a sync ran (recreated notes,
    conflicts, Anki-side edits kept); the routine changes are in the summary counts.
    """
    routine = not notices_only
    out = [f"create deck {d}" for d in plan.decks if routine]
    for a in plan.adds:
        where = a.block.note.location.format(prefix)
        if a.replaces is None and routine:
            out.append(f"{where}: add ({a.block.note.deck})")
        elif a.restore and routine:
            out.append(f"{where}: restore note {a.replaces} (not in Anki)")
        elif a.replaces is not None and not a.restore:
            out.append(f"{where}: recreate (note {a.replaces} is gone from Anki)")
    if routine:
        for u in plan.updates:
            out.append(f"{u.where.format(prefix)}: note {u.note_id}: {', '.join(_describe(u))}")
        out += [
            f"{d.where.format(prefix)}: delete note {d.note_id} ({d.reason})" for d in plan.deletes
        ]
        out += [f"store media {m.anki_name} (from {m.source})" for m in plan.media]
    out += [
        f"{c.where.format(prefix)}: conflict: note {c.note_id}: the same text changed in Anki and"
        f" in the vault ({', '.join(c.fields)}); left alone (--prefer vault or --prefer anki"
        " settles it)"
        for c in plan.conflicts
    ]
    out += [
        f"{k.where.format(prefix)}: note {k.note_id}: kept the edit made in Anki"
        f" ({', '.join(k.fields)})"
        for k in plan.kept
    ]
    return out


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "counts": plan.counts(),
        "decks": plan.decks,
        "add": [
            {
                "where": str(a.block.note.location),
                "deck": a.block.note.deck,
                "replaces": a.replaces,
                "keeps_id": a.restore,
            }
            for a in plan.adds
        ],
        "update": [
            {
                "where": str(u.where),
                "note_id": u.note_id,
                "fields": sorted(u.fields),
                "add_tags": list(u.add_tags),
                "remove_tags": list(u.remove_tags),
                "deck": u.deck if u.move_cards else None,
                "because": list(u.because),
            }
            for u in plan.updates
        ],
        "delete": [
            {"where": str(d.where), "note_id": d.note_id, "reason": d.reason} for d in plan.deletes
        ],
        "media": [m.anki_name for m in plan.media],
        "conflicts": [
            {"where": str(c.where), "note_id": c.note_id, "fields": list(c.fields)}
            for c in plan.conflicts
        ],
        "problems": [p.format() for p in plan.problems],
    }


def _describe(update: Update) -> list[str]:
    parts = []
    if update.fields:
        parts.append("fields " + ", ".join(sorted(update.fields)))
    if update.add_tags:
        parts.append("tags +" + " +".join(update.add_tags))
    if update.remove_tags:
        parts.append("tags -" + " -".join(update.remove_tags))
    if update.move_cards:
        parts.append(f"move {len(update.move_cards)} card(s) to {update.deck}")
    if update.because and update.fields:
        parts.append("because " + ", ".join(update.because))
    return parts
