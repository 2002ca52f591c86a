from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_classification

from nooverfit.data import (
    Dataset,
    list_datasets,
    load_dataset,
    load_split,
    make_split,
    prepare,
    register_dataset,
)
from nooverfit.errors import BadInput


def test_load_dataset_digits_shape_scale_and_labels():
    data = load_dataset("digits")
    reference = load_digits()
    assert data.x.shape == (1797, 1, 8, 8) and data.x.dtype == np.float32
    np.testing.assert_allclose(data.x[:, 0], reference.images / 16.0, rtol=1e-6)
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    np.testing.assert_array_equal(data.y, reference.target)
    assert data.y.dtype == np.int64
    assert data.classes == tuple("0123456789") and data.kind == "image"
    assert data.in_shape == (1, 8, 8) and data.num_classes == 10


def test_load_dataset_synthetic_is_deterministic_and_matches_sklearn():
    a = load_dataset("synthetic", n_samples=120, n_features=6, n_informative=3, seed=4)
    b = load_dataset("synthetic", n_samples=120, n_features=6, n_informative=3, seed=4)
    c = load_dataset("synthetic", n_samples=120, n_features=6, n_informative=3, seed=5)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    x, y = make_classification(
        n_samples=120,
        n_features=6,
        n_informative=3,
        n_redundant=2,
        n_classes=2,
        flip_y=0.05,
        random_state=4,
    )
    np.testing.assert_allclose(a.x, x.astype(np.float32))
    np.testing.assert_array_equal(a.y, y)
    assert a.x.shape == (120, 6) and a.kind == "tabular" and a.classes == ("0", "1")


def test_load_dataset_synthetic_with_few_features():
    data = load_dataset("synthetic", n_samples=50, n_features=3)
    assert data.x.shape == (50, 3)


def test_load_dataset_synthetic_classes_and_noise():
    data = load_dataset("synthetic", n_samples=300, n_classes=3, noise=0.0, seed=1)
    assert data.num_classes == 3 and set(np.unique(data.y)) == {0, 1, 2}


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_features_and_labels(tmp_path):
    path = _write(tmp_path / "t.csv", "a,label,b\n1,cat,2.5\n3,dog,-1\n5,cat,0\n7,bird,1e3\n")
    data = load_dataset(f"csv:{path}", target="label")
    np.testing.assert_array_equal(data.x, [[1, 2.5], [3, -1], [5, 0], [7, 1000]])
    assert data.classes == ("bird", "cat", "dog")
    np.testing.assert_array_equal(data.y, [1, 2, 1, 0])
    assert data.kind == "tabular" and data.name == f"csv:{path}"


def test_load_csv_numeric_labels_sort_naturally(tmp_path):
    path = _write(tmp_path / "t.csv", "x,y\n0,10\n1,2\n2,1\n3,2\n")
    data = load_dataset(f"csv:{path}", target="y")
    assert data.classes == ("1", "2", "10")
    np.testing.assert_array_equal(data.y, [2, 1, 0, 1])


def test_load_csv_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}", target="y")


@pytest.mark.parametrize("target", [None, "colour"])
def test_load_csv_missing_target_lists_the_columns(tmp_path, target):
    path = _write(tmp_path / "t.csv", "height,weight,kind\n1,2,a\n")
    with pytest.raises(ValueError, match="--target COLUMN, one of: height, weight, kind"):
        load_dataset(f"csv:{path}", target=target)


def test_load_csv_non_numeric_column_is_named(tmp_path):
    # text with more distinct values than a category column has: an identifier
    rows = "".join(f"{i},name{i},{'ab'[i % 2]}\n" for i in range(60))
    path = _write(tmp_path / "t.csv", "height,colour,kind\n1,2,a\n" + rows)
    with pytest.raises(ValueError, match=r"column 'colour'.*not numeric.*row 3.*61 distinct"):
        load_dataset(f"csv:{path}", target="kind")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "is empty"), ("a,b\n", "no data rows"), ("a,b\n1,2,3\n", "3 fields, expected 2")],
)
def test_load_csv_malformed_files(tmp_path, text, message):
    path = _write(tmp_path / "t.csv", text)
    with pytest.raises(ValueError, match=message):
        load_dataset(f"csv:{path}", target="b")


@pytest.mark.parametrize(
    ("header", "twice"),
    [("a,a,label", "'a' (columns 1 and 2)"), ("label,x,label", "'label' (columns 1 and 3)")],
)
def test_load_csv_refuses_a_column_name_given_twice(tmp_path, header, twice):
    """A name twice was read by position for training but by name (the first of the two)
    for predicting: the second column's values silently became the first's. A second
    ``label`` column was a feature holding the label."""
    rows = "".join(f"{i % 2},{i},{i % 2}\n" for i in range(12))
    path = _write(tmp_path / "t.csv", f"{header}\n{rows}")
    with pytest.raises(BadInput, match=re.escape(f"has two columns named {twice}; expected")):
        load_dataset(f"csv:{path}", target="label")


def test_load_csv_without_path():
    with pytest.raises(ValueError, match="csv:PATH"):
        load_dataset("csv", target="y")


def _png_folder(root, *, mode="L", size=(6, 5), per_class=3):
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = {}
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
            array = rng.integers(0, 256, shape, dtype=np.uint8)
            Image.fromarray(array, mode=mode).save(root / label / f"{i}.png")
            pixels[(label, i)] = array
    return pixels


def test_load_folder_reads_grayscale_pngs(tmp_path):
    pixels = _png_folder(tmp_path / "imgs")
    data = load_dataset(f"folder:{tmp_path / 'imgs'}")
    assert data.x.shape == (6, 1, 5, 6) and data.kind == "image"
    assert data.classes == ("cats", "dogs")
    np.testing.assert_array_equal(data.y, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(data.x[4, 0], pixels[("dogs", 1)] / 255.0, rtol=1e-6)
    # images directly in their class folders: no groups (a "group" would be the class)
    assert data.groups is None


def test_load_folder_groups_are_the_sub_folders_under_each_class(tmp_path):
    from PIL import Image

    root = tmp_path / "imgs"
    for label, group in (("cats", "indoor"), ("cats", "garden"), ("dogs", "garden")):
        (root / label / group).mkdir(parents=True)
        Image.new("L", (4, 4)).save(root / label / group / "a.png")
    Image.new("L", (4, 4)).save(root / "dogs" / "b.png")
    data = load_dataset(f"folder:{root}")
    np.testing.assert_array_equal(data.y, [0, 0, 1, 1])
    assert list(data.groups) == ["garden", "indoor", "(class folder)", "garden"]


def test_load_folder_reads_rgb_and_resizes(tmp_path):
    pixels = _png_folder(tmp_path / "imgs", mode="RGB", size=(4, 4), per_class=2)
    data = load_dataset(f"folder:{tmp_path / 'imgs'}")
    assert data.x.shape == (4, 3, 4, 4)
    np.testing.assert_allclose(
        data.x[0], pixels[("cats", 0)].transpose(2, 0, 1) / 255.0, rtol=1e-6
    )
    small = load_dataset(f"folder:{tmp_path / 'imgs'}", image_size=2)
    assert small.x.shape == (4, 3, 2, 2)


def test_load_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    # i165: a file was "image folder not found" too
    (tmp_path / "rows.csv").write_text("a,y\n1,0\n")
    with pytest.raises(ValueError, match=r"rows\.csv is a file; expected folder:PATH .*csv:PATH$"):
        load_dataset(f"folder:{tmp_path / 'rows.csv'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="ROOT/<class>/<image>"):
        load_dataset(f"folder:{tmp_path / 'empty'}")


def test_load_folder_of_sound_files_names_speech_data(tmp_path):
    """A folder of <label>/<clip>.wav given as folder: was "not an image folder" with no
    word of the data kind that reads it."""
    for label in ("yes", "no"):
        (tmp_path / "clips" / label).mkdir(parents=True)
        (tmp_path / "clips" / label / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(ValueError, match=re.escape(f"--data speech:{tmp_path / 'clips'}")):
        load_dataset(f"folder:{tmp_path / 'clips'}")


@pytest.mark.parametrize(
    ("name", "where"),
    [("mnist", "MNIST/raw"), ("fashion-mnist", "FashionMNIST/raw"), ("cifar10", "cifar-10")],
)
def test_torchvision_loaders_offline_name_where_to_put_files(tmp_path, name, where, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/{where}.*--download"):
        load_dataset(name, data_dir=str(tmp_path))
    assert not any(tmp_path.rglob("*"))  # nothing fetched or created


def test_load_dataset_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"unknown data set 'imagenet'.*digits"):
        load_dataset("imagenet")


def test_a_file_or_folder_given_without_its_kind_is_told_how_to_name_it(tmp_path, monkeypatch):
    """``--data table.csv`` (no ``csv:``) was only "unknown data set"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.csv").write_text("a,label\n1,x\n")
    (tmp_path / "images").mkdir()
    with pytest.raises(ValueError, match=r"\(csv:PATH, \.\.\.\); for that file, csv:table\.csv$"):
        load_dataset("table.csv")
    with pytest.raises(ValueError, match=r"; for that folder, folder:images$"):
        load_dataset("images")
    # i165: a file that is no text is not told to be read as a CSV file
    np.savez(tmp_path / "arrays.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match=r"; arrays\.npz is a NumPy \.npz archive, not a CSV"):
        load_dataset("arrays.npz")
    # no such file (s29 i155: it was "unknown data set 'nothing.csv'; expected one of ..."):
    # said so, where it was looked for, and the forms --data takes
    with pytest.raises(ValueError) as err:
        load_dataset("nothing.csv")
    assert str(err.value).startswith(
        f"no file or folder 'nothing.csv' (relative to {tmp_path}); expected a CSV file as "
        "csv:PATH (with --target COLUMN), an image folder as folder:PATH, or a data set: "
    )
    assert "digits" in str(err.value)
    with pytest.raises(ValueError, match=r"^no file or folder 'data/x'"):
        load_dataset("data/x")
    with pytest.raises(
        FileNotFoundError, match=r"^CSV file not found: nothing.csv \(relative to "
    ):
        load_dataset("csv:nothing.csv", target="y")
    with pytest.raises(ValueError, match=r"^images is a folder; expected csv:PATH naming a CSV"):
        load_dataset("csv:images", target="y")


def test_data_that_is_no_name_is_one_error_saying_what_is_expected(tmp_path):
    """``study(df)`` with a pandas DataFrame raised AttributeError ('DataFrame' object
    has no attribute 'partition')."""
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0], "label": ["x", "y"]})
    with pytest.raises(ValueError, match=r"or a Dataset\), got a DataFrame; write it to a"):
        load_dataset(df, target="label")
    path = tmp_path / "t.csv"
    path.write_text("a,label\n1,x\n")
    with pytest.raises(ValueError, match=rf"got a \w*Path; for that file, 'csv:{path}'$"):
        load_dataset(path)


def test_list_datasets_has_the_built_ins_sorted():
    names = list(list_datasets())
    assert names == sorted(names)
    assert {"digits", "synthetic", "csv", "folder", "mnist", "fashion-mnist", "cifar10"} <= set(
        names
    )


def test_register_dataset_passes_arg_and_options():
    seen = {}

    def loader(arg, **options):
        seen.update(arg=arg, **options)
        return Dataset(
            "toy", np.zeros((2, 3), np.float32), np.array([0, 1]), ("a", "b"), "tabular"
        )

    register_dataset("toy-test", loader, description="a toy")
    assert list_datasets()["toy-test"] == "a toy"
    load_dataset("toy-test:xyz", flag=True)
    assert seen == {"arg": "xyz", "flag": True}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((0, 2), np.float32), "y": np.zeros(0, np.int64)}, "empty"),
        ({"y": np.zeros(3, np.int64)}, "2 samples but 3 labels"),
        ({"kind": "video"}, "kind must be one of"),
        ({"x": np.array([[0.0, np.nan], [1.0, 2.0]], np.float32)}, "NaN or infinite"),
    ],
)
def test_dataset_validates(kwargs, message):
    base = {
        "name": "d",
        "x": np.zeros((2, 2), np.float32),
        "y": np.array([0, 1]),
        "classes": ("a", "b"),
        "kind": "tabular",
    }
    with pytest.raises(ValueError, match=message):
        Dataset(**{**base, **kwargs})


def test_prepare_standardizes_tabular_with_pool_statistics_only():
    data = load_dataset("synthetic", n_samples=200, n_features=4, seed=0)
    split = make_split(data.y, seed=0)
    prepared = prepare(data, split, device="cpu")
    pool = data.x[split.pool]
    expected = (data.x - pool.mean(0)) / pool.std(0)
    np.testing.assert_allclose(prepared.x.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert prepared.x[split.pool].mean(0).abs().max() < 1e-5
    assert prepared.x.device == torch.device("cpu") and prepared.kind == "tabular"


def test_prepare_leaves_images_unscaled_and_exposes_indices():
    prepared = load_split("digits", seed=1, device="cpu")
    data = load_dataset("digits")
    np.testing.assert_array_equal(prepared.x.numpy(), data.x)
    assert prepared.in_shape == (1, 8, 8) and prepared.num_classes == 10
    np.testing.assert_array_equal(prepared.val_index.numpy(), prepared.split.val)
    np.testing.assert_array_equal(prepared.test_index.numpy(), prepared.split.test)
    train = prepared.train_index(train_per_class=3)
    assert len(train) == 30 and train.dtype == torch.int64


def test_load_folder_plus_flip_is_the_same_images_augmented_with_flips(tmp_path):
    from nooverfit.data.augment import image_policy

    _png_folder(tmp_path / "imgs")
    plain = load_dataset(f"folder:{tmp_path / 'imgs'}")
    flipped = load_dataset(f"folder+flip:{tmp_path / 'imgs'}")
    assert flipped.name == f"folder+flip:{tmp_path / 'imgs'}"
    np.testing.assert_array_equal(flipped.x, plain.x)
    np.testing.assert_array_equal(flipped.y, plain.y)
    # the augmenters read the policy from the data set's name
    assert image_policy(flipped.name).flip and not image_policy(plain.name).flip


def test_load_folder_keeps_the_depth_of_16_bit_images(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    deep = {}
    for label in ("cats", "dogs"):
        (tmp_path / label).mkdir()
        for i in range(2):
            array = rng.integers(0, 65536, (5, 6), dtype=np.uint16)
            Image.fromarray(array).save(tmp_path / label / f"{i}.png")  # 16-bit PNG
            deep[(label, i)] = array
    data = load_dataset(f"folder:{tmp_path}")
    assert data.x.shape == (4, 1, 5, 6)
    # the reference: the 16-bit values over their full scale (8-bit conversion clipped
    # every value above 255 to white)
    np.testing.assert_allclose(data.x[2, 0], deep[("dogs", 0)] / 65535.0, rtol=1e-6)
    # beside 8-bit colour images each is scaled by its own depth, grey in every channel
    Image.fromarray(np.full((5, 6, 3), 51, np.uint8)).save(tmp_path / "cats" / "c.png")
    mixed = load_dataset(f"folder:{tmp_path}")
    assert mixed.x.shape == (5, 3, 5, 6)
    np.testing.assert_allclose(mixed.x[2], np.full((3, 5, 6), 0.2), rtol=1e-6)  # cats/c.png
    for k in range(3):
        np.testing.assert_allclose(mixed.x[0, k], deep[("cats", 0)] / 65535.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0.5, 1.5, 0.5, 1.5], "whole numbers >= 0, got 0.5"),  # a cast made them 0 and 1
        ([0.0, 1.0, 2.3, 1.0], "got 2.3"),
        ([0, -1, 0, 1], "got -1"),
        ([0.0, np.nan, 1.0, 0.0], "NaN or infinite"),
        (["cat", "dog", "cat", "dog"], "labels must be numbers"),
    ],
)
def test_dataset_from_arrays_refuses_labels_that_are_not_classes(labels, message):
    x = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=re.escape(message)):
        Dataset.from_arrays(x, np.asarray(labels))


def test_dataset_from_arrays_takes_whole_number_labels_of_any_type():
    x = np.zeros((4, 2), np.float32)
    for labels in ([0, 2, 1, 2], np.array([0.0, 2.0, 1.0, 2.0]), torch.tensor([0, 2, 1, 2])):
        ds = Dataset.from_arrays(x, labels)
        assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 2, 1, 2]
        assert ds.classes == ("0", "1", "2")
    assert Dataset.from_arrays(x, np.array([True, False, True, False])).y.tolist() == [1, 0, 1, 0]
