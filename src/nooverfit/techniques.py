"""Plain-words explanations of the techniques a study tries, for the end of its report,
and the words the report uses for the samples of each kind of data."""

from __future__ import annotations

#: Plain-words explanations of the techniques, shown at the end of the report.
TECHNIQUES = {
    "L2 regularization (lambda)": (
        "Adds lambda/2 times the sum of squared weights to the loss, so every step also "
        "shrinks the weights a little. Small weights make a smoother function that cannot "
        "bend around every training example. Too small a lambda changes nothing (overfit "
        "side of the curve); too large a lambda flattens the network until it cannot fit "
        "even the training data (underfit side)."
    ),
    "Dropout": (
        "During training each hidden unit is switched off at random with probability p, so "
        "the network cannot rely on any single unit or on fragile co-adaptations between "
        "units. It behaves like an average over many thinner networks. At test time all "
        "units are used."
    ),
    "Batch normalization": (
        "Normalizes each layer's inputs over the mini-batch. It mainly makes training faster "
        "and more stable; the noise of the batch statistics also regularizes a little."
    ),
    "Early stopping": (
        "Watches the validation loss and keeps the weights from the epoch where it was "
        "lowest; training past that point only memorizes the training set."
    ),
    "Data augmentation": (
        "Shows the network slightly changed copies of each training example (small shifts "
        "and rotations for digit images, never flips) so it learns what does not change the "
        "label. More diverse data is the most direct cure for overfitting."
    ),
    "Data augmentation (tabular data)": (
        "Shows the network slightly changed copies of each training row (Gaussian noise "
        "added to each standardized feature) so it learns answers that do not hinge on a "
        "feature's exact value. More diverse data is the most direct cure for overfitting."
    ),
    "Data augmentation (audio)": (
        "Shows the network slightly changed copies of each training clip (gain, time shift "
        "and background noise at a chosen SNR) so it learns what does not change the word."
    ),
    "Cutout": (
        "Erases a random square of each training image (DeVries & Taylor, 2017), so the "
        "network cannot rest its answer on one stroke or corner and has to use the whole "
        "digit. The knob is the square's side as a share of the image side; images only."
    ),
    "Test-time shifts": (
        "Scores each image and four copies shifted by one pixel and averages the five "
        "answers, an ensemble that costs no training; it pays when the network was trained "
        "on shifted images (augmentation). Part of the saved model; images only."
    ),
    "Mixup": (
        "Trains on blends of two training examples, with their labels blended in the same "
        "proportion, so the network learns to change its answer gradually between examples "
        "instead of drawing sharp boundaries around each one. Alpha sets how strongly "
        "examples are blended (most blends stay near one of the two)."
    ),
    "Weight averaging": (
        "Keeps a running average of the weights over the last part of training and uses it "
        "instead of the final weights. The optimizer's last steps wander around a good "
        "region; their average sits nearer its middle, which tends to generalize better, and "
        "costs no extra training."
    ),
    "Smaller capacity": (
        "A network with fewer units has fewer ways to memorize the training set. The capacity "
        "curve shows where fewer units start to cost accuracy."
    ),
    "Input encoding (tabular data)": (
        "The piecewise-linear encoding turns each numeric feature into a few columns, one per "
        "bin between its quantiles on the training rows, that fill from 0 to 1 as the value "
        "crosses the bin. The first layer then learns a bent line per feature, the "
        "thresholds a tree would find, instead of one slope (tried against plain "
        "standardization, kept only when it wins on validation)."
    ),
    "Transfer learning": (
        "Starts from a network trained on a larger related data set and retrains only the "
        "layers that must change (often the input and output layers), so the few training "
        "examples only have to teach what is new."
    ),
}


#: the techniques that apply to one kind of data only; the others apply to all
ONLY_FOR = {
    "Data augmentation": "image",
    "Cutout": "image",
    "Test-time shifts": "image",
    "Data augmentation (tabular data)": "tabular",
    "Input encoding (tabular data)": "tabular",
    "Data augmentation (audio)": "audio",
}

#: what one sample of each kind of data is called in the report
UNITS = {"image": "images", "tabular": "rows", "audio": "clips"}


def techniques(kind: str) -> dict[str, str]:
    """The explanations that apply to ``kind`` of data (the tabular report no longer
    describes augmentation as shifts and rotations)."""
    return {k: v for k, v in TECHNIQUES.items() if ONLY_FOR.get(k, kind) == kind}
