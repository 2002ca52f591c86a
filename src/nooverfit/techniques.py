"""Plain-words explanations of the techniques a study tries, for the end of its report,
and the words the report uses for the samples of each kind of data.

The augmentation texts are written from the augmenters' own settings
(:mod:`nooverfit.augmentation_words`), so they name what the study did to this data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nooverfit.augmentation_words import audio_words, image_words

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult

#: Plain-words explanations of the techniques, shown at the end of the report.
TECHNIQUES = {
    "L2 regularization (lambda)": (
        "Adds lambda/2 times the sum of squared weights to the loss, so every step also "
        "shrinks the weights a little (with Adam the study applies it as decoupled weight "
        "decay, shrinking each weight by lr x lambda per step). Small weights make a "
        "smoother function that cannot bend around every training example. Too small a "
        "lambda changes nothing (overfit side of the curve); too large a lambda flattens "
        "the network until it cannot fit even the training data (underfit side)."
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
    "Data augmentation (tabular data)": (
        "Shows the network slightly changed copies of each training row (Gaussian noise "
        "added to each standardized feature) so it learns answers that do not hinge on a "
        "feature's exact value. More diverse data is the most direct cure for overfitting."
    ),
    "Cutout": (
        "Erases a random square of each training image (DeVries & Taylor, 2017), so the "
        "network cannot rest its answer on one stroke or corner and has to use the whole "
        "image. The knob is the square's side as a share of the image side; images only."
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
    "Label smoothing": (
        "Trains towards targets that give the right class a little less than 1 and spread "
        "the rest over the other classes, so the network stops pushing its logits apart to "
        "become ever more certain of the training labels (validation and test scoring keep "
        "the plain labels)."
    ),
    "Learning-rate annealing": (
        "Lowers the learning rate along a half cosine from its starting value towards 0 "
        "over the epochs, so training ends with small steps that settle instead of "
        "wandering around a good region."
    ),
    "Ensembles": (
        "Averages the predicted probabilities of several networks (other remedies, "
        "combinations, or copies that differ only in their initial weights). Their errors "
        "differ in part, so the average errs less; it costs one training and one forward "
        "pass per member."
    ),
    "Smaller capacity": (
        "A network with fewer units has fewer ways to memorize the training set. The capacity "
        "curve shows where fewer units start to cost accuracy."
    ),
    "Input encoding (tabular data)": (
        "The piecewise-linear encoding turns each numeric feature into a few columns, one per "
        "bin between its quantiles on the training rows, that fill from 0 to 1 as the value "
        "crosses the bin. The first layer then learns a bent line per feature, the "
        "thresholds a tree would find, instead of one slope. The one-hot encoding adds, to "
        "each standardized feature, a 0/1 column per value that repeats on the training "
        "rows, as for a category: where a numeric column is a code (a price that names a "
        "store's promotion), the network reads each value apart, as a tree does. Each is "
        "tried against plain standardization and kept only when it wins on validation."
    ),
    "Linear model (tabular data)": (
        "The network without hidden layer: logistic regression, one weight per feature and "
        "class, with a tuned L2 penalty, trained to the end of an annealed rate (the fit "
        "scikit-learn's LogisticRegression finds). Where the signal is close to linear and "
        "the rows few, it fits as well as a network with far less to overfit. Where it "
        "scores at least the baseline on validation it is the simplest candidate, which "
        "the networks must beat beyond noise; ensembles may also use it."
    ),
    "Blend with the linear model (tabular data)": (
        "Averages the predicted probabilities of the linear model and of the choice (a "
        "network or an ensemble), the linear model's share 1/4, 1/2 or 3/4 chosen on "
        "validation: a straight and a bent boundary err on different rows. It trains "
        "nothing, and replaces the choice only where it gains on validation beyond one "
        "standard error of the seeds' paired differences."
    ),
    "Members in one network (tabular data)": (
        "One MLP holds k members: each multiplies the inputs by its own fixed random signs "
        "and has its own output layer, while the hidden layers are shared; the prediction "
        "is the normalized geometric mean of the members' probabilities: an ensemble within "
        "about one network's weights (TabM, Gorishniy et al. 2024)."
    ),
    "Periodic feature embeddings (tabular data)": (
        "Each standardized feature becomes cosines and sines of itself at trainable "
        "frequencies, mapped by a linear layer and a ReLU (PLR, Gorishniy et al. 2022), so "
        "the network can draw sharp or repeating boundaries along one feature."
    ),
    "Transfer learning": (
        "Starts from a network trained on a larger related data set and retrains only the "
        "layers that must change (often the input and output layers), so the few training "
        "examples only have to teach what is new."
    ),
}


#: the techniques that apply to one kind of data only; the others apply to all
ONLY_FOR = {
    "Cutout": "image",
    "Test-time shifts": "image",
    "Data augmentation (tabular data)": "tabular",
    "Input encoding (tabular data)": "tabular",
    "Linear model (tabular data)": "tabular",
    "Blend with the linear model (tabular data)": "tabular",
    "Members in one network (tabular data)": "tabular",
    "Periodic feature embeddings (tabular data)": "tabular",
}

#: the remedy (``results.json``'s ``remedies[].remedy``) or stage whose trial each
#: technique explains
TRIED_BY = {
    "L2 regularization (lambda)": "l2",
    "Dropout": "dropout",
    "Label smoothing": "label_smoothing",
    "Batch normalization": "batchnorm",
    "Early stopping": "early_stopping",
    "Data augmentation": "augment",
    "Data augmentation (tabular data)": "augment",
    "Data augmentation (audio)": "augment",
    "Cutout": "cutout",
    "Test-time shifts": "tta",
    "Mixup": "mixup",
    "Weight averaging": "ema",
    "Learning-rate annealing": "cosine",
    "Ensembles": "ensemble",
    "Smaller capacity": "capacity",
    "Input encoding (tabular data)": "inputs",
    "Linear model (tabular data)": "linear",
    "Blend with the linear model (tabular data)": "blend",
    "Members in one network (tabular data)": "members",
    "Periodic feature embeddings (tabular data)": "periodic",
    "Transfer learning": "transfer",
}

#: what one sample of each kind of data is called in the report
UNITS = {"image": "images", "tabular": "rows", "audio": "clips"}


def data_kind(result: StudyResult) -> str:
    """``"image"``, ``"tabular"`` or ``"audio"``: the study's data (results written before
    the kind was recorded: :func:`recipe_kind`)."""
    return result.settings.kind or recipe_kind(result)


def recipe_kind(result: StudyResult) -> str:
    """``"image"`` or ``"tabular"``: which augmentation the recipe writes."""
    data = str(result.settings.data)
    images = ("digits", "mnist", "fashion-mnist", "cifar10", "folder", "folder+flip")
    if result.settings.model == "cnn" or data.split(":")[0] in images:
        return "image"
    return "tabular"


def unit_of(kind: str) -> str:
    """What one sample of ``kind`` of data is called: images, rows, clips (else samples)."""
    return UNITS.get(kind, "samples")


def sample_unit(result: StudyResult) -> str:
    """What one sample of the study's data is called: images, rows or clips."""
    return unit_of(data_kind(result))


def augmentation_text(kind: str, data: str) -> dict[str, str]:
    """The augmentation explanation of ``kind`` of data set ``data``, named as the report
    lists it, written from what the study's augmenter for that data does."""
    why = "More diverse data is the most direct cure for overfitting."
    scaled = "each effect scaled by the augmentation strength tried"
    if kind == "image":
        return {
            "Data augmentation": "Shows the network changed copies of each training image, "
            f"so it learns what does not change the label: at full strength {image_words(data)} "
            f"({scaled}). {why}"
        }
    if kind == "audio":
        return {
            "Data augmentation (audio)": "Shows the network changed copies of each training "
            f"clip, so it learns what does not change the word: at full strength "
            f"{audio_words(data)} ({scaled})."
        }
    return {}


def techniques(
    kind: str, data: str = "digits", tried: set[str] | frozenset[str] | None = None
) -> dict[str, str]:
    """The explanations that apply to ``kind`` of data set ``data`` (the tabular report
    no longer describes augmentation as shifts and rotations), limited to the remedies
    and stages in ``tried`` (None: all of them)."""
    texts: dict[str, str] = {}
    for name, text in TECHNIQUES.items():
        texts[name] = text
        if name == "Early stopping":  # augmentation next, as the report always listed it
            texts.update(augmentation_text(kind, data))
    return {
        k: v
        for k, v in texts.items()
        if ONLY_FOR.get(k, kind) == kind and (tried is None or TRIED_BY.get(k) in tried)
    }
