"""Pretrain, SFT, then preference alignment (DPO) on one tiny model.

The two-stage paradigm end to end:
Stage 1, pretraining: next-token prediction on raw sentences -> a base model that continues text.
Stage 2, step 1, SFT: the same loss on question -> answer pairs -> pi_SFT answers, in mixed styles.
Stage 2, step 2, DPO: preference pairs (labellers like a friendly closing) -> answers people prefer.
    l_DPO = -log sigma( beta [log pi(Y+|X)/pi_ref(Y+|X) - log pi(Y-|X)/pi_ref(Y-|X)] )

The same questions are answered by each stage, side by side.

Run: notecards demo pipeline   (or: python demos/pipeline.py --quick)
"""

from __future__ import annotations

import copy
import random

try:  # imported as demos.pipeline or notecards.demos.pipeline
    from . import cli, preferences, tinylm, toyworld, training
    from .dpo import train_dpo
except ImportError:  # run as a script: python demos/pipeline.py
    import cli
    import preferences
    import tinylm
    import toyworld
    import training
    from dpo import train_dpo

# settings (each is also a --option; --quick uses the quick_ values)
DEFAULTS = {
    "steps": 60,  # stage 2, step 2: DPO
    "quick_steps": 30,
    "sft_steps": 150,  # stage 2, step 1: SFT
    "quick_sft_steps": 100,
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1: the base model the demos share
    "beta": 0.5,  # DPO: how far from pi_SFT the preferences may pull
    "lr": 1e-4,  # DPO learning rate: small, the model only shifts its style
    "batch_size": 32,  # preference pairs per DPO step
    "print_every": 10,  # steps between progress lines
    "show": 4,  # questions printed side by side
}


def stage_report(model: tinylm.TinyGPT, questions: list[preferences.Question]) -> dict:
    """Greedy answers, and how a labeller would score them (see preferences.human_score)."""
    answers = training.answer_batch(model, [toyworld.question(*q) for q in questions], 24)
    finished = [a.endswith(toyworld.EOS) for a in answers]
    return {
        "answers": answers,
        "answered": sum(finished) / len(answers),
        **preferences.judge(questions, answers),  # right, friendly, human_score
    }


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("pipeline", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)
    train_questions, test_questions = preferences.split_questions(args.seed)

    print("== stage 1: pretraining on raw sentences")
    base = training.pretrain(args.pretrain_steps, args.seed, device)
    print("\n== stage 2, step 1: SFT on demonstrations (always right, closings mixed)")
    sft = preferences.sft_policy(args.sft_steps, args.seed, device, args.pretrain_steps)
    sft.eval().requires_grad_(False)  # pi_ref for DPO: frozen

    print(f"\n== stage 2, step 2: DPO, beta {args.beta} (labellers prefer a friendly closing)")
    policy = copy.deepcopy(sft).train().requires_grad_(True)
    pairs = preferences.style_pairs(train_questions, rng)
    batches = preferences.batches(pairs, args.steps, args.batch_size, rng)
    losses = train_dpo(policy, sft, batches, args.beta, args.lr, args.print_every)

    stages = {
        "pretrained": stage_report(base, test_questions),
        "sft": stage_report(sft, test_questions),
        "dpo": stage_report(policy, test_questions),
    }
    print(f"\nthe same {len(test_questions)} held-out questions, answered greedily ('|' is EOS):")
    for i in range(min(args.show, len(test_questions))):
        print(f"  {toyworld.question(*test_questions[i])!r}")
        for stage, report in stages.items():
            print(f"    {stage:11} {report['answers'][i]!r}")
    print(f"\n{'':22}" + "".join(f"{stage:>12}" for stage in stages))
    for key, label in [
        ("answered", "stops after answering"),
        ("right", "right answer"),
        ("friendly", "friendly closing"),
        ("human_score", "labeller score"),
    ]:
        print(f"{label:22}" + "".join(f"{r[key]:12.2f}" for r in stages.values()))
    cli.save_plot(args.plot, {"dpo loss": losses}, "DPO after SFT", "step")

    first, middle, last = (stages[s]["human_score"] for s in stages)
    ok = first < middle < last
    line = cli.verdict(
        ok,
        f"each stage answers better: labeller score {first:.2f} (pretrained) -> "
        f"{middle:.2f} (SFT) -> {last:.2f} (DPO)",
    )
    return {
        "stages": {s: {k: v for k, v in r.items() if k != "answers"} for s, r in stages.items()},
        "answers": {s: r["answers"] for s, r in stages.items()},
        "losses": losses,
        "verdict": line,
    }


if __name__ == "__main__":
    main()
