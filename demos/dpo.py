"""Direct Preference Optimization: the paper's loss (against a frozen pi_ref) and the card's form.

Card formula:  l_DPO = -log sigma( beta [log pi(Y+|X) - log pi(Y-|X)] )
Paper formula: l_DPO = -log sigma( beta [log pi(Y+|X)/pi_ref(Y+|X) - log pi(Y-|X)/pi_ref(Y-|X)] )

Two copies of the same SFT model train side by side on the same preference pairs (the
labellers of preferences.py like a friendly closing), one with each loss. No reward model and
no sampling during training: the log-probabilities of Y+ and Y- are all DPO needs.

    python demos/dpo.py            (or: notecards demo dpo)
"""

from __future__ import annotations

import copy
import random

import torch
import torch.nn.functional as F

try:
    from . import preferences, tinylm
    from .sft import sequence_logprob
except ImportError:  # run as a script: python demos/dpo.py
    import preferences
    import tinylm
    from sft import sequence_logprob

# settings (each is also a --option; --quick uses the quick_ values)
DEFAULTS = {
    "steps": 50,  # DPO steps (each updates both copies once)
    "quick_steps": 30,
    "pretrain_steps": preferences.PRETRAIN_STEPS,  # stage 1 -> base model
    "sft_steps": 100,  # stage 2, step 1 -> pi_SFT, which is also pi_ref
    "beta": 0.5,  # scale of the implicit reward; the loss saturates once beta * margin >> 1
    "batch_size": 16,  # preference pairs per step
    "lr": 1e-4,
    "samples": 64,  # responses sampled at the end to measure KL(pi || pi_ref)
    "max_new_tokens": 20,  # longest sampled answer
    "print_every": 5,
}


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair DPO losses and the implicit rewards beta * log(pi / pi_ref) of Y+ and Y-."""
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))
    chosen_rewards = beta * chosen_logratios.detach()
    rejected_rewards = beta * rejected_logratios.detach()
    return losses, chosen_rewards, rejected_rewards


def card_dpo_loss(
    policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor, beta: float
) -> torch.Tensor:
    """The card's form: no reference, so nothing anchors log pi(Y+|X) itself."""
    return -F.logsigmoid(beta * (policy_chosen_logps - policy_rejected_logps))


def pair_logps(
    model: tinylm.TinyGPT, pairs: list[preferences.PreferencePair]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(log pi(Y+|X), log pi(Y-|X)) for each pair: sums of token log-probs, one forward pass."""
    device = next(model.parameters()).device
    prompts = [p.prompt for p in pairs]
    responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    input_ids, response_mask, _ = tinylm.pad_batch(prompts * 2, responses, device=device)
    logps = sequence_logprob(model(input_ids), input_ids, response_mask)
    return logps[: len(pairs)], logps[len(pairs) :]


@torch.no_grad()
def held_out_report(
    policy: tinylm.TinyGPT,
    reference: tinylm.TinyGPT,
    pairs: list[preferences.PreferencePair],
    questions: list[preferences.Question],
    args,
    generator: torch.Generator,
) -> dict[str, float]:
    """What TRL logs, on unseen pairs, plus KL(pi || pi_ref) and how sampled answers read.

    KL(pi || pi_ref) = E_{Y~pi}[log pi(Y|X) - log pi_ref(Y|X)], estimated from samples.
    """
    chosen, rejected = pair_logps(policy, pairs)
    ref_chosen, ref_rejected = pair_logps(reference, pairs)
    _, chosen_rewards, rejected_rewards = dpo_loss(
        chosen, rejected, ref_chosen, ref_rejected, args.beta
    )
    asked = [questions[i % len(questions)] for i in range(args.samples)]
    prompts_ids = [tinylm.TOKENIZER.encode(tinylm.question(*q)) for q in asked]
    policy.eval()
    input_ids, response_mask, logprobs = tinylm.sample(
        policy, prompts_ids, args.max_new_tokens, generator=generator
    )
    policy.train()
    ref_logprobs = tinylm.token_logprobs(reference(input_ids), input_ids)
    texts = [t.removesuffix(tinylm.EOS) for t in tinylm.response_texts(input_ids, response_mask)]
    return {
        "reward_accuracy": (chosen_rewards > rejected_rewards).float().mean().item(),
        "logp_accuracy": (chosen > rejected).float().mean().item(),
        "chosen_logp": chosen.mean().item(),
        "rejected_logp": rejected.mean().item(),
        "chosen_reward": chosen_rewards.mean().item(),
        "rejected_reward": rejected_rewards.mean().item(),
        "kl": ((logprobs - ref_logprobs) * response_mask).sum(1).mean().item(),
        "friendly": sum(t.endswith(preferences.FRIENDLY) for t in texts) / len(texts),
        "human_score": sum(map(preferences.human_score, asked, texts)) / len(texts),
    }


def main(argv: list[str] | None = None) -> dict:
    args = tinylm.demo_args("dpo", __doc__.splitlines()[0], DEFAULTS, argv)
    tinylm.set_seed(args.seed)
    device = tinylm.pick_device(args.device)
    rng = random.Random(args.seed)
    generator = torch.Generator(device=device).manual_seed(args.seed)

    print(f"== pi_SFT: pretrain {args.pretrain_steps} steps, then SFT {args.sft_steps} steps")
    reference = preferences.sft_policy(args.sft_steps, args.seed, device, args.pretrain_steps)
    reference.eval().requires_grad_(False)  # pi_ref: frozen
    paper = copy.deepcopy(reference).train().requires_grad_(True)  # trained with the paper's loss
    card = copy.deepcopy(reference).train().requires_grad_(True)  # trained with the card's form
    paper_opt = torch.optim.AdamW(paper.parameters(), lr=args.lr, weight_decay=0.0)
    card_opt = torch.optim.AdamW(card.parameters(), lr=args.lr, weight_decay=0.0)

    train_questions, test_questions = preferences.split_questions(args.seed)
    train_pairs = preferences.style_pairs(train_questions, rng)
    test_pairs = preferences.style_pairs(test_questions, rng)
    print(f"\n== DPO on {len(train_pairs)} pairs, beta {args.beta}; both copies start as pi_SFT")
    print("paper: -log sigma(beta [log pi/pi_ref (Y+) - log pi/pi_ref (Y-)])")
    print("card:  -log sigma(beta [log pi(Y+) - log pi(Y-)])")
    print(
        "the paper's loss starts at log 2 = 0.6931: pi == pi_ref, so every margin is 0 and "
        "-log sigma(0) = log 2"
    )

    history: dict[str, list[float]] = {"paper loss": [], "card loss": []}
    for step in range(1, args.steps + 1):
        batch = rng.sample(train_pairs, min(args.batch_size, len(train_pairs)))
        with torch.no_grad():
            ref_chosen, ref_rejected = pair_logps(reference, batch)

        chosen, rejected = pair_logps(paper, batch)
        losses, chosen_rewards, rejected_rewards = dpo_loss(
            chosen, rejected, ref_chosen, ref_rejected, args.beta
        )
        paper_opt.zero_grad(set_to_none=True)
        losses.mean().backward()
        paper_opt.step()

        card_chosen, card_rejected = pair_logps(card, batch)
        card_losses = card_dpo_loss(card_chosen, card_rejected, args.beta)
        card_opt.zero_grad(set_to_none=True)
        card_losses.mean().backward()
        card_opt.step()

        history["paper loss"].append(losses.mean().item())
        history["card loss"].append(card_losses.mean().item())
        if step == 1 or step % args.print_every == 0 or step == args.steps:
            margin = (chosen_rewards - rejected_rewards).mean().item()
            print(
                f"step {step}: paper loss {history['paper loss'][-1]:.4f}, "
                f"rewards {chosen_rewards.mean():+.2f}/{rejected_rewards.mean():+.2f}, "
                f"margin {margin:.2f}, logps {chosen.mean():.1f}/{rejected.mean():.1f} | "
                f"card loss {history['card loss'][-1]:.4f}, "
                f"logps {card_chosen.mean():.1f}/{card_rejected.mean():.1f}"
            )

    print(f"\n== held out: {len(test_pairs)} pairs on {len(test_questions)} unseen questions")
    print("reward = beta log pi/pi_ref (Y); acc = how often Y+ wins; KL and the rest from samples")
    columns = (
        "reward_accuracy",
        "logp_accuracy",
        "chosen_logp",
        "rejected_logp",
        "chosen_reward",
        "rejected_reward",
        "kl",
        "friendly",
        "human_score",
    )
    labels = (
        "reward acc",
        "logp acc",
        "logp Y+",
        "logp Y-",
        "reward Y+",
        "reward Y-",
        "KL",
        "friendly",
        "labellers",
    )
    print(f"{'':7}" + "".join(f"{label:>10}" for label in labels))
    results = {}
    for name, model in (("pi_SFT", reference), ("paper", paper), ("card", card)):
        results[name] = held_out_report(
            model, reference, test_pairs, test_questions, args, generator
        )
        cells = [f"{results[name][c]:10.2f}" for c in columns]
        if name == "pi_SFT":
            cells[0] = f"{'-':>10}"  # pi_ref against itself: every implicit reward is 0
        print(f"{name:7}" + "".join(cells))

    sft, with_ref, no_ref = results["pi_SFT"], results["paper"], results["card"]
    for name, r in (("paper (with pi_ref)", with_ref), ("card (no pi_ref)", no_ref)):
        print(
            f"{name}: log pi(Y+) {r['chosen_logp'] - sft['chosen_logp']:+.2f}, "
            f"log pi(Y-) {r['rejected_logp'] - sft['rejected_logp']:+.2f} since pi_SFT, "
            f"KL {r['kl']:.2f}"
        )
    print(
        f"card loss at step 1: {history['card loss'][0]:.4f}, not log 2: its margin starts at "
        "pi_SFT's own log pi(Y+) - log pi(Y-). Both losses move each pair along the same "
        "gradient; pi_ref only changes its weight sigma(-beta margin)."
    )
    closer = (
        "kept the policy closer to"
        if with_ref["kl"] < no_ref["kl"]
        else "did not keep it closer to"
    )
    print(
        f"in this run the reference {closer} pi_SFT: KL {with_ref['kl']:.2f} with it, "
        f"{no_ref['kl']:.2f} without"
    )
    prompt = tinylm.question(*test_questions[0])
    print(f"greedy answers to the unseen {prompt!r}:")
    for name, model in (("pi_SFT", reference), ("paper", paper), ("card", card)):
        answer = tinylm.generate(model, tinylm.TOKENIZER, prompt, args.max_new_tokens)
        print(f"  {name:6} -> {answer!r}")

    tinylm.save_plot(args.plot, history, "DPO: paper loss vs card form", "step")
    tinylm.verdict(
        with_ref["reward_accuracy"] >= 0.9,
        f"DPO prefers Y+ on {with_ref['reward_accuracy']:.0%} of unseen pairs; loss "
        f"{history['paper loss'][0]:.4f} (log 2) -> {tinylm.smooth(history['paper loss'], 5):.4f};"
        f" friendly samples {sft['friendly']:.0%} -> {with_ref['friendly']:.0%}",
    )
    return {
        "first_loss": history["paper loss"][0],
        "final_loss": tinylm.smooth(history["paper loss"], 5),
        "first_card_loss": history["card loss"][0],
        "held_out_accuracy": with_ref["reward_accuracy"],
        "results": results,
    }


if __name__ == "__main__":
    main()
