"""`notecards check` as a user runs it: every problem as path:line, exit codes, --json."""

from __future__ import annotations

import json

from click.testing import CliRunner

from notecards.cli import cli
from tests.helpers.paths import FIXTURES, USER_NOTES

BROKEN = FIXTURES / "broken"


def run(*args: str):
    return CliRunner().invoke(cli, ["check", *args])


def test_users_vault_is_clean():
    result = run(str(USER_NOTES))
    assert result.exit_code == 0, result.output
    assert "3 notes: 0 errors" in result.stdout


def test_every_problem_at_once_with_file_and_line():
    result = run(str(BROKEN))
    assert result.exit_code == 1
    cards, more = f"{BROKEN}/cards.md", f"{BROKEN}/more.md"
    assert result.stderr.splitlines() == [
        f"{cards}:2: unknown note type 'Basci'; closest known: Basic",
        f"{cards}:7: START without END (the block is skipped)",
        f"{cards}:16: duplicate ID 1700000000200 (also at more.md:5)",
        f"{cards}:19: Cloze note without any cloze",
        f"{cards}:24: the first field (Front) is empty",
        f"{cards}:31: 'nowhere.png' not found in the vault",
        f"{cards}:39: warning: the ID shares a line with Tags; put it on its own line above END",
        f"{cards}:45: no demo named 'nope' (dpo, icl, pipeline, ppo_kl, reward_model, sft)",
        f"{more}:5: duplicate ID 1700000000200 (also at cards.md:16)",
    ]


def test_json_output():
    result = run(str(BROKEN), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert (document["errors"], document["warnings"]) == (8, 1)
    assert document["problems"][0] == {
        "path": f"{BROKEN}/cards.md",
        "line": 2,
        "severity": "error",
        "message": "unknown note type 'Basci'; closest known: Basic",
    }
    assert {p["severity"] for p in document["problems"]} == {"error", "warning"}


def test_warnings_alone_exit_zero(tmp_path):
    (tmp_path / "n.md").write_text("START\nBasic\nq\nBack: a\nTags: t <!--ID: 5-->\nEND\n")
    result = run(str(tmp_path))
    assert result.exit_code == 0
    warning = "warning: the ID shares a line with Tags; put it on its own line above END"
    assert result.stderr == f"{tmp_path}/n.md:5: {warning}\n"


def test_media_outside_the_vault_is_an_error(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "n.md").write_text("START\nBasic\nq\nBack: ![](../secret.png)\nEND\n")
    result = run(str(vault))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{vault}/n.md:4: ")


def test_a_demo_link_in_a_code_span_is_text_not_a_link(tmp_path):
    # The renderer leaves it as text (Anki shows it as written), so there is nothing to check.
    (tmp_path / "n.md").write_text("START\nBasic\nq `[x](notecards://demo/nope)`\nBack: a\nEND\n")
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_bad_settings_exit_one(tmp_path):
    (tmp_path / "notecards.yaml").write_text("curly_cloze: maybe\n")
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path}/notecards.yaml:1: curly_cloze: must be true or false\n"


def test_curly_cloze_counts_as_cloze_when_enabled(tmp_path):
    (tmp_path / "n.md").write_text("START\nCloze\nA {curly} cloze\nEND\n")
    assert run(str(tmp_path)).exit_code == 1
    (tmp_path / "notecards.yaml").write_text("curly_cloze: true\n")
    assert run(str(tmp_path)).exit_code == 0


def test_quiet_prints_only_problems(tmp_path):
    (tmp_path / "n.md").write_text("START\nBasic\nq\nEND\n")
    result = run(str(tmp_path), "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    (tmp_path / "bad.md").write_text("START\nBasci\nq\nEND\n")
    result = run(str(tmp_path), "--quiet")
    problem = f"{tmp_path}/bad.md:2: unknown note type 'Basci'; closest known: Basic\n"
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", problem)


def test_a_pipe_inside_math_in_a_table_is_a_warning_at_its_line(tmp_path):
    rows = [
        "| term | formula |",
        "|---|---|",
        r"| posterior | $p(y \mid x)$ |",
        r"| policy | $\pi_\theta(Y^+ | X)$ |",
        r"| escaped | $a \| b$ |",
        "| price | $5 | $10 |",
    ]
    card = "START\nBasic\nq\nBack: the table\n" + "\n".join(rows) + "\nEND\n"
    (tmp_path / "n.md").write_text(card)
    result = run(str(tmp_path))
    assert result.exit_code == 0
    warning = "warning: a `|` inside math ends this table cell: write `\\|` or `\\mid`"
    assert result.stderr.splitlines() == [f"{tmp_path}/n.md:8: {warning}"]


def test_json_counts_what_each_file_gave_by_kind(tmp_path):
    (tmp_path / "notecards.yaml").write_text('custom_regexps: {Basic: "^Q: (.+)\\\\nA: (.+)"}\n')
    (tmp_path / "a.md").write_text(
        "START\nBasic\nq\nBack: a\nEND\n"
        "- STARTI [Basic] x Back: y ENDI and STARTI [Basic] z <!--ID: 4--> ENDI\n"
        "Q: regex?\nA: yes\n"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text(
        "> STARTI [Basic] one ENDI\n`STARTI [Basic] code ENDI`\n"
    )
    (tmp_path / "empty.md").write_text("no cards\n")
    document = json.loads(run(str(tmp_path), "--json").stdout)
    assert (document["notes"], document["files"], document["errors"]) == (5, 3, 0)
    assert document["found"] == [
        {"path": f"{tmp_path}/a.md", "blocks": 1, "inline_notes": 2, "regex_notes": 1},
        {"path": f"{tmp_path}/empty.md", "blocks": 0, "inline_notes": 0, "regex_notes": 0},
        {"path": f"{tmp_path}/sub/b.md", "blocks": 0, "inline_notes": 1, "regex_notes": 0},
    ]


def test_json_counts_only_the_cards_a_file_gave(tmp_path):
    """A card that is dropped is one less in its count, and a problem says why."""
    (tmp_path / "a.md").write_text(
        "START\nBasci\nq\nEND\nSTARTI [Basic] lost\nSTARTI What? ENDI\n- STARTI [Basic] kept ENDI\n"
    )
    document = json.loads(run(str(tmp_path), "--json").stdout)
    assert document["found"] == [
        {"path": f"{tmp_path}/a.md", "blocks": 0, "inline_notes": 1, "regex_notes": 0}
    ]
    assert [(p["line"], p["severity"]) for p in document["problems"]] == [
        (2, "error"),
        (5, "warning"),
        (6, "warning"),
    ]


def test_text_that_looks_like_a_card_and_gives_none_is_named_at_its_line(tmp_path):
    (tmp_path / "n.md").write_text(
        "intro\n"
        "- STARTI [Basic] What? Back: That.\n"
        "> STARTI What? Back: That. ENDI\n"
        "START\nBasic\nTags: t\nEND\n"
        "- STARTI [Basic] Tags: t ENDI\n"
    )
    result = run(str(tmp_path))
    assert result.exit_code == 1
    where = f"{tmp_path}/n.md"
    assert result.stderr.splitlines() == [
        f"{where}:2: warning: STARTI without its ENDI on this line: no card from it"
        " (an inline note is `STARTI [Type] ... ENDI` on one line)",
        f"{where}:3: warning: inline note without a note type: no card"
        " (write `STARTI [Basic] ... ENDI`)",
        f"{where}:4: the first field (Front) is empty",  # a block whose fields are all empty
        f"{where}:8: the first field (Front) is empty",
    ]
