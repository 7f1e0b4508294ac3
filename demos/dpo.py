"""Direct Preference Optimization: the paper's loss (against a frozen pi_ref) and the card's form.

Card formula:  l_DPO = -log sigma( beta [log pi(Y+|X) - log pi(Y-|X)] )
Paper formula: l_DPO = -log sigma( beta [log pi(Y+|X)/pi_ref(Y+|X) - log pi(Y-|X)/pi_ref(Y-|X)] )

Copies of the same SFT model train on the same preference pairs, one with each loss, for each
beta of a sweep. The pairs are what the labellers of preferences.py (who like a friendly
closing) were shown: closing contrasts (one right answer with a friendly vs a plain or curt
closing) and, as in the DPO paper, every two of pi_SFT's own sampled answers they told apart
(preferences.sampled_pairs). On the contrasts alone, the probability the plain and curt closings
gave up went to garbled closings that no pair showed the labellers, and their score fell beyond
noise at some seeds (README); pi_SFT's own answers put its garbled closings in front of them.
No reward model and no sampling during training (the pairs are sampled once, before it): the
log-probabilities of Y+ and Y- are all DPO needs. Then each model is judged on answers SAMPLED
for questions no stage trained on: the labellers' score (the true reward), the share of friendly
closings, of answers that stop and of garbled ones, and the sampled KL from pi_SFT: the
reward-against-KL frontier of the DPO paper (Fig. 2). The verdict's run and pi_SFT are judged on
1,024 answers each: a fall of the labellers' score by 0.18 would be 3.6 standard errors.

What it shows: the loss widens the margin log pi(Y+) - log pi(Y-) and nothing in it holds
either term up, with or without pi_ref; some of the probability the labelled answers give up
goes to answers nobody wrote (garbled closings). The reference does not anchor log pi(Y+); it
sets where each pair's margin starts (0) and so how long it keeps pulling, which shows as less
KL and fewer garbled closings than the card's form at the same beta.

Reference-free methods exist and add what the card's form lacks: SimPO scores log pi(Y|X) / |Y|
(length-normalised) with a target margin gamma, CPO adds the SFT loss on Y+ so that
log pi(Y+) cannot fall with log pi(Y-).

    python demos/dpo.py            (or: notecards demo dpo; --full sweeps seven beta)
"""

from __future__ import annotations

import copy
import math
import random

import torch
import torch.nn.functional as F

try:
    from . import cli, preferences, tinylm, training
    from .sft import sequence_logprob
except ImportError:  # run as a script: python demos/dpo.py
    import cli
    import preferences
    import tinylm
    import training
    from sft import sequence_logprob

# settings (each is also a --option; --full uses the full_ values, --quick the quick_ ones: the
# verdict's runs alone, which are the same as in the default run: the verdict needs these steps
# and samples)
DEFAULTS = {
    "steps": 30,  # DPO steps per run
    "full_steps": 50,
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1 -> base model
    "sft_steps": preferences.SFT_STEPS,  # stage 2, step 1 -> pi_SFT, which is also pi_ref
    "beta": 2.0,  # the run the verdict judges and whose curves are drawn (with and without pi_ref)
    "betas": "10",  # the frontier's other runs (each with and without pi_ref), comma-separated
    "quick_betas": "2",  # the default verdict's beta alone: --quick is the verdict's runs
    "full_betas": "0.1,0.25,0.5,1,2,5,10",
    "per_question": 4,  # answers pi_SFT samples per training question for the labellers' pairs
    "batch_size": 16,  # preference pairs per step
    "lr": 1e-4,  # AdamW
    "samples": 256,  # answers sampled per model of the frontier
    "full_samples": 512,
    # answers sampled from pi_SFT and from the verdict's run: two standard errors of the
    # difference of their scores are then about 0.1, so a fall of 0.18 would be 3.6 of them
    "verdict_samples": 1024,
    "print_every": 10,  # steps between progress lines
}
PROBE_SAMPLES = 32  # answers sampled every print_every steps to follow the share that stop


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Per-pair DPO losses (the paper's, Rafailov et al. 2023) and the implicit rewards:

    .. math:: \ell_\mathrm{DPO} = -\log \sigma\left(\beta\left[
        \log \frac{\pi_\theta(Y^+ \mid X)}{\pi_\mathrm{ref}(Y^+ \mid X)}
        - \log \frac{\pi_\theta(Y^- \mid X)}{\pi_\mathrm{ref}(Y^- \mid X)}\right]\right),
        \qquad \hat r(X, Y) = \beta \log \frac{\pi_\theta(Y \mid X)}{\pi_\mathrm{ref}(Y \mid X)}

    policy_chosen_logps = log pi_theta(Y+|X), policy_rejected_logps = log pi_theta(Y-|X),
    ref_chosen_logps = log pi_ref(Y+|X), ref_rejected_logps = log pi_ref(Y-|X) (sums over the
    tokens of Y, one per pair); returns (losses, r_hat(X, Y+), r_hat(X, Y-)).
    """
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))
    chosen_rewards = beta * chosen_logratios.detach()
    rejected_rewards = beta * rejected_logratios.detach()
    return losses, chosen_rewards, rejected_rewards


def card_dpo_loss(
    policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor, beta: float
) -> torch.Tensor:
    r"""The card's form, without a reference model:

    .. math:: \ell_\mathrm{DPO} = -\log \sigma\left(\beta\left[\log \pi_\theta(Y^+ \mid X)
        - \log \pi_\theta(Y^- \mid X)\right]\right)

    policy_chosen_logps = log pi_theta(Y+|X), policy_rejected_logps = log pi_theta(Y-|X).
    Only the difference counts: nothing holds log pi(Y+|X) itself up (nor does pi_ref in the
    paper's form; that only moves where the margin starts).
    """
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
    probe: list[preferences.Question] | None = None,
) -> dict[str, list[float]]:
    """One optimizer step on each batch of pairs; returns per-step curves: the loss and the
    batch's mean log pi(Y+|X) and log pi(Y-|X), and (with `probe` questions) the share of
    PROBE_SAMPLES sampled answers that stop (EOS), every print_every steps.

    With a frozen `reference` the loss is the paper's dpo_loss; with None, the card's form.
    """
    optimizer = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    generator = torch.Generator(device=next(policy.parameters()).device).manual_seed(0)
    curves = {"loss": [], "chosen_logp": [], "rejected_logp": [], "stop_step": [], "stops": []}
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
            reward_text = f", margin {margin:.2f}"
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        curves["loss"].append(loss.item())
        curves["chosen_logp"].append(chosen.mean().item())
        curves["rejected_logp"].append(rejected.mean().item())
        if step == 1 or step % print_every == 0 or step == len(batches):
            stop_text = ""
            if probe:
                stops = preferences.sampled_report(policy, policy, probe, PROBE_SAMPLES, generator)[
                    "finished"
                ]
                curves["stop_step"].append(step)
                curves["stops"].append(stops)
                stop_text = f", stop {stops:.0%}"
            print(
                f"{name} step {step}: loss {loss.item():.4f}{reward_text}, "
                f"log pi Y+/Y- {chosen.mean():.1f}/{rejected.mean():.1f}{stop_text}"
            )
    return curves


@torch.no_grad()
def judge_model(policy, reference, pairs, questions, samples, seed) -> dict[str, float]:
    """log pi of the held-out Y+ and Y-, and `samples` sampled answers judged (preferences
    .sampled_report: labellers' score, shares friendly, stopping, garbled; KL from pi_SFT)."""
    chosen, rejected = pair_logps(policy, pairs)
    generator = torch.Generator(device=next(policy.parameters()).device).manual_seed(seed + 1)
    return {
        "chosen_logp": chosen.mean().item(),
        "rejected_logp": rejected.mean().item(),
        **preferences.sampled_report(policy, reference, questions, samples, generator),
    }


def noise(samples: int) -> float:
    """Two standard errors of a share measured on `samples` answers (at worst, p = 1/2)."""
    return 2 * math.sqrt(0.25 / samples)


def draw(axes, sft_result, results, main_curves, main_beta) -> None:
    """The frontier (labellers' score against sampled KL, per beta, with and without pi_ref),
    and the log-probs of Y+ and Y- and the share of answers that stop during one run."""
    ax = axes[0]
    for variant, marker in (("paper", "o-"), ("card", "s--")):
        points = sorted(
            (r["kl"], r["human_score"], b) for (v, b), r in results.items() if v == variant
        )
        label = "with pi_ref (paper)" if variant == "paper" else "without pi_ref (card)"
        ax.plot(
            [0.0] + [p[0] for p in points],
            [sft_result["human_score"]] + [p[1] for p in points],
            marker,
            label=label,
        )
        for kl, score, beta in points:
            ax.annotate(f"{beta:g}", (kl, score), fontsize=7)
    ax.plot([0.0], [sft_result["human_score"]], "k*", markersize=10, label="pi_SFT")
    cli.label_axes(
        ax,
        "reward-KL frontier (labels: beta)",
        "sampled KL(pi || pi_SFT) (nats)",
        "labellers' score (true reward)",
    )
    ax = axes[1]
    for variant, curves in main_curves.items():
        cli.curve(ax, curves["chosen_logp"], f"log pi(Y+), {variant}")
        cli.curve(ax, curves["rejected_logp"], f"log pi(Y-), {variant}", linestyle="--")
    cli.label_axes(ax, f"one run, beta {main_beta:g}", "DPO step", "log-probability (nats)")
    right = ax.twinx()
    for variant, curves in main_curves.items():
        right.plot(curves["stop_step"], curves["stops"], ":", marker=".", label=f"stop, {variant}")
    right.set_ylim(0, 1.05)
    right.set_ylabel("share of sampled answers that stop (EOS)")
    right.legend(fontsize=7, loc="lower right")


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("dpo", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)
    main_beta = args.beta
    betas = sorted({main_beta, *(float(b) for b in args.betas.split(","))})
    ref_beta = betas[-1]  # the largest: where the reference makes a difference

    print(f"== pi_SFT: pretrain {args.pretrain_steps} steps, then SFT {args.sft_steps} steps")
    reference = preferences.sft_policy(args.sft_steps, args.seed, device, args.pretrain_steps)
    reference.eval().requires_grad_(False)  # pi_ref: frozen

    train_questions, test_questions = preferences.split_questions(args.seed)
    contrasts = preferences.style_pairs(train_questions, rng)
    test_pairs = preferences.style_pairs(test_questions, rng)
    generator = torch.Generator(device=device).manual_seed(args.seed + 2)
    own = preferences.sampled_pairs(reference, train_questions, args.per_question, generator)
    train_pairs = contrasts + own
    print(
        f"\n== DPO on {len(train_pairs)} pairs: {len(contrasts)} closing contrasts (a right answer"
        f" with a friendly vs a plain or curt closing) and {len(own)} of pi_SFT's own answers"
        f" ({args.per_question} per training question) the labellers told apart;"
        f" beta {', '.join(f'{b:g}' for b in betas)}"
    )
    for pair in own[:: max(1, len(own) // 3)][:3]:
        print(f"  e.g. Y+ {pair.chosen!r} over Y- {pair.rejected!r}")
    print("paper: -log sigma(beta [log pi/pi_ref (Y+) - log pi/pi_ref (Y-)])")
    print("card:  -log sigma(beta [log pi(Y+) - log pi(Y-)])")
    print(
        "the paper's loss starts at log 2 = 0.6931: pi == pi_ref, so every margin is 0 and "
        "-log sigma(0) = log 2"
    )
    batches = preferences.batches(train_pairs, args.steps, args.batch_size, rng)  # all see these
    sft_result = judge_model(
        reference, reference, test_pairs, test_questions, args.verdict_samples, args.seed
    )
    results, main_curves = {}, {}
    for beta in betas:
        for variant, ref in (("paper", reference), ("card", None)):
            policy = copy.deepcopy(reference).train().requires_grad_(True)
            curves = train_dpo(
                policy,
                ref,
                batches,
                beta,
                args.lr,
                args.print_every,
                f"{variant} beta {beta:g}",
                probe=test_questions if beta == main_beta else None,
            )
            if beta == main_beta:
                main_curves[variant] = curves
            judged = variant == "paper" and beta == main_beta  # the verdict's run
            samples = args.verdict_samples if judged else args.samples
            results[variant, beta] = judge_model(
                policy, reference, test_pairs, test_questions, samples, args.seed
            ) | {"first_loss": curves["loss"][0], "final_loss": training.smooth(curves["loss"], 5)}

    print(
        f"\n== sampled answers per model (pi_SFT and paper beta {main_beta:g}, the verdict's: "
        f"{args.verdict_samples}; the others {args.samples}), to {len(test_questions)} questions "
        "no stage trained on; log pi of their held-out Y+/Y- pairs"
    )
    labels = ("log pi Y+", "log pi Y-", "KL", "friendly", "stops", "garbled", "labellers")
    keys = ("chosen_logp", "rejected_logp", "kl", "friendly", "finished", "garbled", "human_score")
    print(f"{'':16}" + "".join(f"{label:>10}" for label in labels))
    rows = [("pi_SFT", sft_result)] + [
        (f"{v} beta {b:g}", results[v, b]) for b in betas for v in ("paper", "card")
    ]
    for name, r in rows:
        print(f"{name:16}" + "".join(f"{r[k]:10.2f}" for k in keys))

    paper, card = results["paper", main_beta], results["card", main_beta]
    margin = noise(args.verdict_samples)
    score_margin = preferences.score_noise(paper, sft_result, args.verdict_samples)
    paper_ref, card_ref = results["paper", ref_beta], results["card", ref_beta]
    print(
        f"\nat beta {main_beta:g}, since pi_SFT (beyond noise: a share moves by more than "
        f"{margin:.2f}, the labellers' score by more than {score_margin:.2f}, on "
        f"{args.verdict_samples} answers each):"
    )
    for name, r in (("with pi_ref", paper), ("without pi_ref", card)):
        print(
            f"  {name}: log pi(Y+) {r['chosen_logp'] - sft_result['chosen_logp']:+.2f}, "
            f"log pi(Y-) {r['rejected_logp'] - sft_result['rejected_logp']:+.2f} nats; "
            f"garbled {sft_result['garbled']:.0%} -> {r['garbled']:.0%}, "
            f"stops {sft_result['finished']:.0%} -> {r['finished']:.0%}"
        )
    drop = sft_result["rejected_logp"] - paper["rejected_logp"]
    rise = paper["chosen_logp"] - sft_result["chosen_logp"]
    print(
        f"  log pi(Y-) fell {drop:.2f} nats, log pi(Y+) rose {rise:.2f}"
        + (": Y- is pushed down faster than Y+ is lifted" if drop > rise else "")
        + f"; the garbled share went {sft_result['garbled']:.0%} -> {paper['garbled']:.0%}"
        + (
            ": some of the probability Y- gave up went to closings nobody wrote"
            if paper["garbled"] > sft_result["garbled"] + margin
            else " (no change beyond noise)"
        )
    )
    gap = card_ref["kl"] - paper_ref["kl"]
    print(
        f"  the reference, at beta {ref_beta:g}: KL {paper_ref['kl']:.2f} with it, "
        f"{card_ref['kl']:.2f} without"
        + (
            ": it kept the policy closer to pi_SFT"
            if gap > 0.1
            else ": no difference beyond noise at this beta"
        )
    )
    print(
        "  reference-free in practice: SimPO (length-normalised log pi(Y|X) and a target margin),"
        " CPO (adds the SFT loss on Y+, so log pi(Y+) cannot fall with Y-)."
    )
    first = results["paper", betas[0]]["first_loss"]
    print(
        f"card loss at step 1: {results['card', main_beta]['first_loss']:.4f}, not log 2: its "
        "margin starts at pi_SFT's own log pi(Y+) - log pi(Y-)."
    )
    cli.save_figure(
        args.plot,
        lambda axes: draw(axes, sft_result, results, main_curves, main_beta),
        "DPO with and without pi_ref, judged on sampled answers",
        panels=2,
    )
    # the card's claim: minimising l_DPO makes pi prefer Y+, i.e. answer as the labellers like
    towards = paper["friendly"] > sft_result["friendly"] + margin
    score_kept = paper["human_score"] >= sft_result["human_score"] - score_margin
    line = cli.verdict(
        towards and score_kept,
        f"DPO moved sampled answers toward Y+: friendly closings {sft_result['friendly']:.0%} -> "
        + ", ".join(f"{results['paper', b]['friendly']:.0%} (beta {b:g})" for b in betas)
        + ("" if towards else f" (does not hold at beta {main_beta:g})")
        + f"; labellers' score {sft_result['human_score']:.2f} -> {paper['human_score']:.2f} "
        f"at beta {main_beta:g}"
        + ("" if score_kept else " (fell beyond noise: see the garbled share)")
        + f"; loss {first:.4f} (log 2) at step 1",
    )
    return {
        "first_loss": first,
        "final_loss": paper["final_loss"],
        "first_card_loss": card["first_loss"],
        "sft": sft_result,
        "results": results,
        "curves": main_curves,
        "pairs": train_pairs,
        "verdict": line,
    }


if __name__ == "__main__":
    main()
