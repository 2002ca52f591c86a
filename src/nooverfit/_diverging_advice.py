"""The cause and remedies of a diverging run (for :mod:`nooverfit._advice`): unstable
optimization, fixed by smaller steps, batch normalization or gradient clipping."""

from __future__ import annotations

from nooverfit.diagnosis import Cause, Knob, Remedy


def unstable_cause(reason: str) -> tuple[float, Cause, list[Remedy]]:
    """The unstable-optimization cause, worded from the divergence test's ``reason``, with
    its remedies."""
    return (
        1.0,
        Cause("unstable_optimization", reason[0].upper() + reason[1:] + "."),
        [
            Remedy(
                "lower_lr",
                f"The optimization is unstable ({reason}): smaller steps stop the overshoot.",
                "--lr 10x lower",
                "RunConfig(lr=config.lr / 10)",
                (Knob("lr", factor=0.1),),
            ),
            Remedy(
                "batchnorm",
                "Batch normalization keeps activations in range, so one bad step does less harm.",
                "--batchnorm",
                "RunConfig(batchnorm=True)",
                (Knob("batchnorm"),),
            ),
            Remedy(
                "gradient_clipping",
                "Clipping bounds each step, which stops the spikes seen in this loss.",
                "clip_grad_norm_(params, 1.0)",
                "",
                (Knob("clip_grad_norm", value=1.0),),
            ),
        ],
    )
