"""The two-stage paradigm end to end on one tiny model: pretrain, SFT, then DPO.

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

import torch

try:  # imported as demos.pipeline or notecards.demos.pipeline
    from . import preferences, tinylm
    from .dpo import dpo_loss, pair_logps
except ImportError:  # run as a script: python demos/pipeline.py
    import preferences
    import tinylm
    from dpo import dpo_loss, pair_logps

# settings
PRETRAIN_STEPS = preferences.PRETRAIN_STEPS  # stage 1 (the base model the other demos share)
SFT_STEPS = 150  # stage 2, step 1
QUICK_SFT_STEPS = 100
DPO_STEPS = 60  # stage 2, step 2
QUICK_DPO_STEPS = 30
BETA = 0.5  # DPO: how far from pi_SFT the preferences may pull
LR = 1e-4  # DPO learning rate: small, the model only shifts its style
BATCH_SIZE = 32
PRINT_EVERY = 10
SHOW = 4  # questions printed side by side


def stage_report(model: tinylm.TinyGPT, questions: list[preferences.Question]) -> dict:
    """Greedy answers, and how a labeller would score them (see preferences.human_score)."""
    answers = tinylm.answer_batch(model, [tinylm.question(*q) for q in questions], 24)
    finished = [a.endswith(tinylm.EOS) for a in answers]
    texts = [a.removesuffix(tinylm.EOS) for a in answers]
    right = [t.split(".")[0] == tinylm.answer(*q) for t, q in zip(texts, questions, strict=True)]
    return {
        "answers": answers,
        "answered": sum(finished) / len(answers),
        "right": sum(right) / len(answers),
        "friendly": sum(t.endswith(preferences.FRIENDLY) for t in texts) / len(texts),
        "human_score": sum(map(preferences.human_score, questions, answers)) / len(answers),
    }


def main(argv: list[str] | None = None) -> dict:
    args = tinylm.demo_args(
        "pipeline",
        "Pretrain, SFT, then preference alignment (DPO) on one tiny model.",
        {"steps": DPO_STEPS, "quick_steps": QUICK_DPO_STEPS, "sft_steps": SFT_STEPS},
        argv,
    )
    if args.quick and "--sft-steps" not in (argv or []):
        args.sft_steps = QUICK_SFT_STEPS
    tinylm.set_seed(args.seed)
    device = tinylm.pick_device(args.device)
    rng = random.Random(args.seed)
    train_questions, test_questions = preferences.split_questions(args.seed)

    print("== stage 1: pretraining on raw sentences")
    base = tinylm.pretrain(PRETRAIN_STEPS, args.seed, device)
    print("\n== stage 2, step 1: SFT on demonstrations (always right, closings mixed)")
    sft = preferences.sft_policy(args.sft_steps, args.seed, device, PRETRAIN_STEPS)
    sft.eval().requires_grad_(False)  # pi_ref for DPO: frozen

    print(f"\n== stage 2, step 2: DPO, beta {BETA} (labellers prefer a friendly closing)")
    policy = copy.deepcopy(sft).train().requires_grad_(True)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=LR, weight_decay=0.0)
    pairs = preferences.style_pairs(train_questions, rng)
    losses = []
    for step in range(1, args.steps + 1):
        batch = rng.sample(pairs, min(BATCH_SIZE, len(pairs)))
        with torch.no_grad():
            ref_chosen, ref_rejected = pair_logps(sft, batch)
        chosen, rejected = pair_logps(policy, batch)
        step_losses, chosen_rewards, rejected_rewards = dpo_loss(
            chosen, rejected, ref_chosen, ref_rejected, BETA
        )
        loss = step_losses.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step == 1 or step % PRINT_EVERY == 0 or step == args.steps:
            margin = (chosen_rewards - rejected_rewards).mean().item()
            print(f"step {step}: dpo loss {loss.item():.4f}, reward margin {margin:.2f}")

    stages = {
        "pretrained": stage_report(base, test_questions),
        "sft": stage_report(sft, test_questions),
        "dpo": stage_report(policy, test_questions),
    }
    print(f"\nthe same {len(test_questions)} held-out questions, answered greedily ('|' is EOS):")
    for i in range(min(SHOW, len(test_questions))):
        print(f"  {tinylm.question(*test_questions[i])!r}")
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
    tinylm.save_plot(args.plot, {"dpo loss": losses}, "DPO after SFT", "step")

    first, middle, last = (stages[s]["human_score"] for s in stages)
    ok = first < middle < last
    line = tinylm.verdict(
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
