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
    from . import cli, preferences, tinylm, toyworld, training
    from .sft import sequence_logprob
except ImportError:  # run as a script: python demos/dpo.py
    import cli
    import preferences
    import tinylm
    import toyworld
    import training
    from sft import sequence_logprob

# settings (each is also a --option; --quick uses the quick_ values)
DEFAULTS = {
    "steps": 50,  # DPO steps (each updates both copies once)
    "quick_steps": 30,
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1 -> base model
    "sft_steps": 100,  # stage 2, step 1 -> pi_SFT, which is also pi_ref
    "beta": 0.5,  # scale of the implicit reward; the loss saturates once beta * margin >> 1
    "batch_size": 16,  # preference pairs per step
    "lr": 1e-4,  # AdamW; small: the policy only shifts its style
    "samples": 64,  # responses sampled at the end to measure KL(pi || pi_ref)
    "max_new_tokens": 20,  # longest sampled answer
    "print_every": 5,  # steps between progress lines
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
    input_ids, response_mask = preferences.pair_batch(pairs, next(model.parameters()).device)
    chosen, rejected = sequence_logprob(model(input_ids), input_ids, response_mask).chunk(2)
    return chosen, rejected


def train_dpo(
    policy: tinylm.TinyGPT,
    reference: tinylm.TinyGPT | None,
    batches: list[list[preferences.PreferencePair]],
    beta: float,
    lr: float,
    print_every: int,
    name: str = "dpo",
) -> list[float]:
    """One optimizer step on each batch of pairs; returns the mean loss of each step.

    With a frozen `reference` the loss is the paper's dpo_loss; with None, the card's form.
    """
    optimizer = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for step, batch in enumerate(batches, start=1):
        chosen, rejected = pair_logps(policy, batch)
        if reference is None:  # the card's form
            loss = card_dpo_loss(chosen, rejected, beta).mean()
            reward_text = ""
        else:  # the paper's: log-ratios against the frozen reference
            with torch.no_grad():
                ref_chosen, ref_rejected = pair_logps(reference, batch)
            pair_losses, chosen_rewards, rejected_rewards = dpo_loss(
                chosen, rejected, ref_chosen, ref_rejected, beta
            )
            loss = pair_losses.mean()
            margin = (chosen_rewards - rejected_rewards).mean().item()
            reward_text = (
                f", rewards {chosen_rewards.mean():+.2f}/{rejected_rewards.mean():+.2f}"
                f", margin {margin:.2f}"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step == 1 or step % print_every == 0 or step == len(batches):
            print(
                f"{name} step {step}: loss {loss.item():.4f}{reward_text}, "
                f"logps Y+/Y- {chosen.mean():.1f}/{rejected.mean():.1f}"
            )
    return losses


@torch.no_grad()
def held_out_report(
    policy: tinylm.TinyGPT,
    reference: tinylm.TinyGPT,
    pairs: list[preferences.PreferencePair],
    questions: list[preferences.Question],
    args,
    generator: torch.Generator,
) -> dict[str, float]:
    """What TRL logs, on unseen pairs, plus KL(pi || pi_ref) and how sampled answers read."""
    chosen, rejected = pair_logps(policy, pairs)
    ref_chosen, ref_rejected = pair_logps(reference, pairs)
    _, chosen_rewards, rejected_rewards = dpo_loss(
        chosen, rejected, ref_chosen, ref_rejected, args.beta
    )
    asked = [questions[i % len(questions)] for i in range(args.samples)]
    input_ids, response_mask, logprobs = preferences.rollout(
        policy, asked, args.max_new_tokens, generator
    )
    ref_logprobs = training.token_logprobs(reference(input_ids), input_ids)
    return {
        "reward_accuracy": (chosen_rewards > rejected_rewards).float().mean().item(),
        "logp_accuracy": (chosen > rejected).float().mean().item(),
        "chosen_logp": chosen.mean().item(),
        "rejected_logp": rejected.mean().item(),
        "chosen_reward": chosen_rewards.mean().item(),
        "rejected_reward": rejected_rewards.mean().item(),
        "kl": training.sampled_kl(logprobs, ref_logprobs, response_mask).item(),
        **preferences.judge(asked, training.response_texts(input_ids, response_mask)),
    }


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("dpo", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)
    generator = torch.Generator(device=device).manual_seed(args.seed)

    print(f"== pi_SFT: pretrain {args.pretrain_steps} steps, then SFT {args.sft_steps} steps")
    reference = preferences.sft_policy(args.sft_steps, args.seed, device, args.pretrain_steps)
    reference.eval().requires_grad_(False)  # pi_ref: frozen
    paper = copy.deepcopy(reference).train().requires_grad_(True)  # trained with the paper's loss
    card = copy.deepcopy(reference).train().requires_grad_(True)  # trained with the card's form

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

    batches = preferences.batches(train_pairs, args.steps, args.batch_size, rng)  # both see these
    history = {
        "paper loss": train_dpo(
            paper, reference, batches, args.beta, args.lr, args.print_every, "paper"
        ),
        "card loss": train_dpo(card, None, batches, args.beta, args.lr, args.print_every, "card"),
    }

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
    prompt = toyworld.question(*test_questions[0])
    print(f"greedy answers to the unseen {prompt!r}:")
    for name, model in (("pi_SFT", reference), ("paper", paper), ("card", card)):
        answer = training.answer_batch(model, [prompt], args.max_new_tokens)[0]
        print(f"  {name:6} -> {answer.removesuffix(toyworld.EOS)!r}")

    cli.save_plot(args.plot, history, "DPO: paper loss vs card form", "step")
    final_loss = training.smooth(history["paper loss"], 5)
    cli.verdict(
        with_ref["reward_accuracy"] >= 0.9,
        f"DPO prefers Y+ on {with_ref['reward_accuracy']:.0%} of unseen pairs; loss "
        f"{history['paper loss'][0]:.4f} (log 2) -> {final_loss:.4f};"
        f" friendly samples {sft['friendly']:.0%} -> {with_ref['friendly']:.0%}",
    )
    return {
        "first_loss": history["paper loss"][0],
        "final_loss": final_loss,
        "first_card_loss": history["card loss"][0],
        "held_out_accuracy": with_ref["reward_accuracy"],
        "results": results,
    }


if __name__ == "__main__":
    main()
