"""The demos that cards can link to, and the link form that names one.

A card links to a demo with an ordinary markdown link to `notecards://demo/NAME`:
Obsidian shows it as a link, the renderer turns it into the command to run
(`notecards demo NAME`) and refuses a name that does not exist (so check, build and sync
all report it).
Kept free of torch so the flashcard commands never import it.
"""

from __future__ import annotations

import re

DEMO_LINK = re.compile(r"notecards://demo/(?P<name>[A-Za-z0-9_\-]+)")

# name -> one line on what the demo shows (the module is demos/NAME.py)
DEMOS: dict[str, str] = {
    "sft": "next-token loss on response tokens turns a text continuer into an answerer",
    "reward_model": "a reward model trained with -log sigma(r(X,Y+) - r(X,Y-))",
    "ppo_kl": "RLHF with PPO and a KL penalty: reward against KL for several beta",
    "dpo": "the DPO loss with and without a reference model, side by side",
    "icl": "in-context learning: an induction head, and a task read from examples",
    "pipeline": "pretrain, SFT, then preference alignment on one tiny model",
}


def linked_demos(text: str) -> list[tuple[str, int]]:
    """(name, offset in `text`) of each demo link in a field's text."""
    return [(match["name"], match.start()) for match in DEMO_LINK.finditer(text)]


def unknown_demo(name: str) -> str | None:
    """The message for a link or command naming no demo (it lists the known ones); else None."""
    if name in DEMOS:
        return None
    return f"no demo named {name!r} ({', '.join(sorted(DEMOS))})"


def demo_command(name: str) -> str:
    """What Anki shows for a demo link: the command a learner types."""
    return f"notecards demo {name}"
