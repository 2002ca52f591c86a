import numpy as np
import pytest
import torch

from nooverfit.data.pool import check_unlabeled, unlabeled_index, with_pseudo_labels
from nooverfit.data.split import make_split


@pytest.mark.parametrize("per_class", [1, 5, 20])
def test_unlabeled_index_is_the_pool_outside_the_subset(data, per_class):
    y = data.dataset.y
    train = data.split.train(y, train_per_class=per_class)
    rest = unlabeled_index(data.split, train)
    assert len(rest) == len(data.split.pool) - 10 * per_class
    assert sorted([*rest, *train]) == sorted(data.split.pool.tolist())
    for other in (data.split.val, data.split.test, train):
        assert not set(rest.tolist()) & set(other.tolist())
    # pool order is kept: the first unlabeled sample is the first pool sample not trained on
    first = next(i for i in data.split.pool if i not in set(train.tolist()))
    assert rest[0] == first


def test_unlabeled_index_of_the_whole_pool_is_empty(data):
    assert len(unlabeled_index(data.split, data.split.pool)) == 0


@pytest.mark.parametrize("role", ["val", "test", "train"])
def test_check_unlabeled_refuses_validation_test_and_training_samples(data, role):
    train = data.split.train(data.dataset.y, train_per_class=5)
    rest = unlabeled_index(data.split, train)
    intruder = {"val": data.split.val, "test": data.split.test, "train": train}[role][:1]
    with pytest.raises(ValueError, match="must not be"):
        check_unlabeled(data.split, train, np.concatenate([rest, intruder]))


def test_check_unlabeled_refuses_samples_outside_the_pool():
    y = np.repeat(np.arange(3), 20)
    split = make_split(y, test=0.25, val=0.2, seed=0)
    outside = np.array([len(y) + 5])
    with pytest.raises(ValueError, match="training pool"):
        check_unlabeled(split, split.pool[:3], outside)


def test_with_pseudo_labels_trains_on_subset_and_labelled_pool(data):
    y = data.dataset.y
    train = data.split.train(y, train_per_class=5)
    rest = unlabeled_index(data.split, train)[:40]
    wrong = (y[rest] + 1) % 10  # labels that differ from the truth everywhere
    pseudo = with_pseudo_labels(data, train, rest, wrong)
    assert pseudo.split.train(y).tolist() == [*train.tolist(), *rest.tolist()]
    assert pseudo.y[torch.as_tensor(rest)].tolist() == wrong.tolist()
    assert pseudo.y[torch.as_tensor(train)].tolist() == y[train].tolist()
    # validation and test keep their samples and their true labels
    assert np.array_equal(pseudo.split.val, data.split.val)
    assert np.array_equal(pseudo.split.test, data.split.test)
    for index in (data.split.val, data.split.test):
        assert pseudo.y[torch.as_tensor(index)].tolist() == y[index].tolist()
    assert torch.equal(data.y, torch.as_tensor(y))  # the seed's own data is untouched


def test_with_pseudo_labels_refuses_a_validation_sample(data):
    train = data.split.train(data.dataset.y, train_per_class=5)
    index = data.split.val[:2]
    with pytest.raises(ValueError, match="validation"):
        with_pseudo_labels(data, train, index, np.zeros(2, dtype=np.int64))


def test_with_pseudo_labels_needs_one_label_per_sample(data):
    train = data.split.train(data.dataset.y, train_per_class=5)
    rest = unlabeled_index(data.split, train)[:3]
    with pytest.raises(ValueError, match="one pseudo-label per sample"):
        with_pseudo_labels(data, train, rest, np.zeros(2, dtype=np.int64))
