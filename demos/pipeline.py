"""Pretrain, SFT, then preference alignment (DPO) on one tiny model.

The two-stage paradigm end to end:
Stage 1, pretraining: next-token prediction on raw sentences -> a base model that continues text.
Stage 2, step 1, SFT: the same loss on question -> answer pairs -> pi_SFT answers, in mixed styles.
Stage 2, step 2, DPO: preference pairs -> answers people prefer.
    l_DPO = -log sigma( beta [log pi(Y+|X)/pi_ref(Y+|X) - log pi(Y-|X)/pi_ref(Y-|X)] )

The pairs are collected as the card says (and the DPO paper does): several answers pi_SFT
samples for each training question, compared by the labellers (preferences.sampled_pairs).
Given only closing contrasts instead (one right answer with a friendly vs a plain or curt
closing; dpo.py trains on those and on sampled pairs), DPO pushes the plain and curt closings
down and the probability they give up goes to garbled ones nobody labelled: at seed 1 (beta 5,
a pi_SFT of 150 SFT steps) the labellers' score fell beyond noise, -0.46 -> -0.70 on 320
answers. Sampled pairs label what pi_SFT really writes, garbled answers too.

The same held-out questions, which no training stage after pretraining saw, are answered by
each stage: a few hundred sampled answers per stage, scored by the simulated labellers of
preferences.py (right answer +2, friendly closing +1, curt -1, garbled -2, never ending -2).

Run: notecards demo pipeline   (or: python demos/pipeline.py --quick)
"""

from __future__ import annotations

import copy
import math
import random

import torch

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

# settings (each is also a --option; --quick is the default: the verdict needs all of them)
DEFAULTS = {
    "steps": 60,  # stage 2, step 2: DPO
    "sft_steps": preferences.SFT_STEPS,  # stage 2, step 1: SFT (the pi_SFT of dpo.py and ppo_kl.py)
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1: the base model the demos share
    # sampled pairs differ in more than the closing, so each pulls less toward a friendly one
    # than dpo.py's contrasts: a lower beta and a larger step than there, to move it in 60 steps
    "beta": 2.0,  # DPO: how far from pi_SFT the preferences may pull (dpo.py sweeps it)
    "lr": 1e-4,  # DPO learning rate: small, the model only shifts its style
    "per_question": 8,  # answers pi_SFT samples per training question for the labellers
    "batch_size": 32,  # preference pairs per DPO step
    "print_every": 10,  # steps between progress lines
    "show": 4,  # questions printed side by side
    "samples": 320,  # answers sampled per stage (the score's standard error: about 0.07)
}


def stage_report(model: tinylm.TinyGPT, questions, samples: int, seed: int) -> dict:
    """`samples` sampled answers (the questions in turn) and how the labellers judge them."""
    generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed + 1)
    asked = [questions[i % len(questions)] for i in range(samples)]
    ids, mask, _ = preferences.rollout(model, asked, preferences.MAX_NEW_TOKENS, generator)
    answers = training.response_texts(ids, mask)
    return {"answers": answers, **preferences.judge(asked, answers)}


def draw(axes, stages) -> None:
    """The labellers' view of each stage, as grouped bars."""
    keys = ("finished", "right", "friendly", "garbled")
    width = 0.8 / len(stages)
    for n, (stage, report) in enumerate(stages.items()):
        axes[0].bar(
            [k + n * width for k in range(len(keys))], [report[k] for k in keys], width, label=stage
        )
    axes[0].set_xticks(
        [k + width for k in range(len(keys))], ["stops (EOS)", "right", "friendly", "garbled"]
    )
    cli.label_axes(axes[0], "shares of sampled answers", "", "share of answers")
    axes[1].bar(list(stages), [r["human_score"] for r in stages.values()], color=["C0", "C1", "C2"])
    axes[1].axhline(0, color="grey", linewidth=0.8)
    cli.label_axes(axes[1], "labellers' mean score", "stage", "score (-4 to 3)", legend=False)


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

    generator = torch.Generator(device=device).manual_seed(args.seed + 2)
    pairs = preferences.sampled_pairs(sft, train_questions, args.per_question, generator)
    if not pairs:  # e.g. --sft-steps 0: the base model's answers never end
        raise SystemExit(
            "notecards demo pipeline: no two of pi_SFT's sampled answers were finished and told"
            " apart by the labellers, so DPO has no pair to learn from; train pi_SFT longer"
            " (--sft-steps) or sample more answers a question (--per-question)"
        )
    print(
        f"\n== stage 2, step 2: DPO, beta {args.beta}, on {len(pairs)} pairs of pi_SFT's own "
        f"answers ({args.per_question} per training question) the labellers told apart"
    )
    first_of_each = {}  # question -> its first pair
    for pair in pairs:
        first_of_each.setdefault(pair.prompt, pair)
    for pair in list(first_of_each.values())[:3]:
        print(f"  e.g. Y+ {pair.chosen!r} over Y- {pair.rejected!r}")
    policy = copy.deepcopy(sft).train().requires_grad_(True)
    batches = preferences.batches(pairs, args.steps, args.batch_size, rng)
    losses = train_dpo(policy, sft, batches, args.beta, args.lr, args.print_every)["loss"]

    stages = {
        name: stage_report(model, test_questions, args.samples, args.seed)
        for name, model in (("pretrained", base), ("sft", sft), ("dpo", policy))
    }
    print(
        f"\n{len(test_questions)} held-out questions, no stage after pretraining trained on them;"
        " one sampled answer each ('|' is EOS):"
    )
    for i in range(min(args.show, len(test_questions))):
        print(f"  {toyworld.question(*test_questions[i])!r}")
        for stage, report in stages.items():
            print(f"    {stage:11} {report['answers'][i]!r}")
    print(f"\n{args.samples} sampled answers per stage" + "".join(f"{s:>12}" for s in stages))
    for key, label in [
        ("finished", "stops (EOS)"),
        ("right", "right answer"),
        ("friendly", "friendly closing"),
        ("garbled", "garbled closing"),
        ("human_score", "labellers' score"),
    ]:
        print(f"{label:29}" + "".join(f"{r[key]:12.2f}" for r in stages.values()))
    cli.save_figure(
        args.plot,
        lambda axes: draw(axes, stages),
        "Pretrain -> SFT -> DPO, held-out questions",
        panels=2,
    )

    pre, mid, last = (stages[s] for s in stages)
    noise = 2 * math.sqrt(0.25 / args.samples)  # two standard errors of a share
    score_noise = preferences.score_noise(mid, last, args.samples)  # each answer: -4 to 3
    print(
        f"beyond noise: a share moves by more than {noise:.2f}, the labellers' score by more "
        f"than {score_noise:.2f} (two standard errors)"
    )
    sft_better = mid["human_score"] > pre["human_score"] + 1.0 and mid["finished"] >= 0.9
    dpo_style = last["friendly"] > mid["friendly"] + noise
    dpo_kept = last["human_score"] >= mid["human_score"] - score_noise
    line = cli.verdict(
        sft_better and dpo_style and dpo_kept,
        f"labellers' score {pre['human_score']:.2f} (pretrained) -> {mid['human_score']:.2f} "
        f"(SFT) -> {last['human_score']:.2f} (DPO); SFT made it stop "
        f"({pre['finished']:.0%} -> {mid['finished']:.0%})"
        + ("" if sft_better else " (does not hold)")
        + f", DPO made it friendlier ({mid['friendly']:.0%} -> {last['friendly']:.0%})"
        + ("" if dpo_style else " (does not hold)")
        + (
            ""
            if dpo_kept
            else " but its answers score lower: DPO's gain does not hold for the labellers"
        )
        + f"; right answers on held-out questions: {mid['right']:.0%} after SFT",
    )
    return {
        "stages": {s: {k: v for k, v in r.items() if k != "answers"} for s, r in stages.items()},
        "answers": {s: r["answers"] for s, r in stages.items()},
        "losses": losses,
        "verdict": line,
    }


if __name__ == "__main__":
    main()
