"""Rows named as evaluations where a log evaluated several times an epoch."""

from nooverfit._evaluations import counted_evaluations, epoch_name, epochs_trained, in_epochs

DONE = [0.1 * i for i in range(1, 31)]  # 10 evaluations an epoch, 3 epochs


def test_in_epochs_names_each_row_once_with_the_evaluated_at_at_it():
    text = "lowest at epoch 23, and at the last epoch (29) it was 36% above; epoch 2.5"
    assert in_epochs(text, DONE) == (
        "lowest at evaluation 23 (epoch 2.4), and at the last evaluation 29 (epoch 3) it "
        "was 36% above; epoch 2.5"
    )


def test_in_epochs_leaves_a_log_of_epochs_as_it_is():
    text = "lowest at epoch 23, and at the last epoch (29)"
    assert in_epochs(text, ()) == text
    assert epoch_name(23, ()) == "epoch 23"


def test_epochs_trained_counts_a_started_epoch_and_not_float_noise():
    assert epochs_trained([0.4, 1.2, 2.91]) == 3
    assert epochs_trained([1.0, 2.0, 3.0000000001]) == 3
    assert epochs_trained([]) == 0
    assert counted_evaluations(30, 3) == "3 epochs (30 evaluations)"
