"""The techniques the report explains and the recipe it gives follow the study: its kind
of data, its data set, and the remedies it tried."""

import dataclasses


def test_the_techniques_explained_are_those_of_the_studys_kind_of_data(tiny_study):
    """A tabular report described augmentation as shifts and rotations and its samples as
    images; each kind now gets its own words."""
    from nooverfit.report import data_kind, render
    from nooverfit.techniques import techniques

    tabular = techniques("tabular")
    assert "Gaussian noise" in tabular["Data augmentation (tabular data)"]
    assert not {"Data augmentation", "Cutout", "Test-time shifts"} & set(tabular)
    image = techniques("image")
    assert (
        "rotation" in image["Data augmentation"] and "Input encoding (tabular data)" not in image
    )
    assert "L2 regularization (lambda)" in image and "L2 regularization (lambda)" in tabular
    result, _ = tiny_study
    assert data_kind(result) == "image"
    html = render(result, {})
    tried = {o.remedy for o in result.remedies}
    assert "test images lie farther" in html and ("<dt>Cutout</dt>" in html) == ("cutout" in tried)
    as_rows = dataclasses.replace(
        result, settings=dataclasses.replace(result.settings, kind="tabular")
    )
    html = render(as_rows, {})
    assert "test rows lie farther" in html and "<dt>Cutout</dt>" not in html
    assert ("Gaussian noise" in html) == ("augment" in tried)


def test_the_techniques_explained_are_what_the_study_tried_on_its_data():
    """The folder report said augmentation was "small shifts and rotations for digit
    images, never flips" although the folder policy crops, flips and jitters colour; the
    spoken report listed "gain, time shift and background noise" only; a digits study
    explained cutout, test-time shifts and transfer learning it never tried."""
    from nooverfit.data.augment import POLICIES
    from nooverfit.techniques import techniques

    quick = {"l2", "dropout", "label_smoothing", "mixup", "ema", "batchnorm"}
    quick |= {"early_stopping", "augment", "capacity", "ensemble"}
    digits = techniques("image", "digits", frozenset(quick))
    assert not {"Cutout", "Test-time shifts", "Transfer learning"} & set(digits)
    assert {"Ensembles", "Label smoothing", "Data augmentation"} <= set(digits)
    assert "never a flip" in digits["Data augmentation"]
    folder = techniques("image", "folder+flip:imgs", frozenset(quick))["Data augmentation"]
    policy = POLICIES["folder+flip"]
    assert "crop keeping 50 %" in folder and "flip of half" in folder and "never" not in folder
    assert f"up to {policy.rotate:g} degrees" in folder and "jitter of ±20 %" in folder
    # a plain image folder may hold digits or letters: never flipped, and the report says
    # how to ask for flips
    plain = techniques("image", "folder:imgs", frozenset(quick))["Data augmentation"]
    assert "crop keeping 50 %" in plain and "flip of half" not in plain
    assert "never a flip" in plain and "folder+flip:PATH" in plain
    spoken = techniques("audio", "spoken", frozenset(quick))["Data augmentation (audio)"]
    assert "vocal-tract-length warp" in spoken and "SpecAugment" in spoken
    assert "gain" not in spoken  # the maps are normalized per utterance: no gain effect
    keywords = techniques("audio", "keywords", frozenset(quick))["Data augmentation (audio)"]
    assert "time shift" in keywords and "±6 dB" in keywords
    assert "Data augmentation (audio)" not in techniques("audio", "keywords", frozenset({"l2"}))


def test_the_reports_recipe_follows_the_studys_kind_of_data(tiny_study):
    """An audio study's recipe starts with the study's log-spectrogram front end and
    augments with the study's audio augmenter, not Gaussian noise on "standardized
    features" (the recipe was written for tabular data); an image folder's with the
    folder policy's crops and flips, not the digits' affine map."""
    import dataclasses

    from nooverfit.config import RunConfig
    from nooverfit.report import render

    result, _ = tiny_study
    config = RunConfig(width=16, depth=1, augment=0.5)
    recommended = dataclasses.replace(result.recommended, config=config)
    for data, kind, wanted, unwanted in (
        ("keywords", "audio", "audio_front", "standardized features"),
        ("folder:imgs", "image", "RandomResizedCrop", "RandomAffine(degrees=7.5"),
    ):
        settings = dataclasses.replace(result.settings, data=data, kind=kind)
        html = render(dataclasses.replace(result, settings=settings, recommended=recommended), {})
        code = html.split('id="code-pytorch">')[1].split("</pre>")[0]
        assert wanted in code and unwanted not in code


def test_every_remedy_the_planner_knows_has_its_technique_explained():
    """TabM-style members and PLR embeddings joined the planner with no explanation, so a
    report on a study that tried them explained neither."""
    from nooverfit.studies.plan import REMEDIES
    from nooverfit.techniques import TRIED_BY, techniques

    assert set(REMEDIES) <= set(TRIED_BY.values())
    tabular = techniques("tabular", "csv:x.csv", frozenset({"members", "periodic"}))
    assert set(tabular) == {
        "Members in one network (tabular data)",
        "Periodic feature embeddings (tabular data)",
    }
    assert not techniques("image", "digits", frozenset({"members", "periodic"}))
