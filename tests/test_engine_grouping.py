import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.engine.schedule import STEP_OVERHEAD, group_cost, plan_groups, share_work


def test_group_cost_counts_longest_config_and_overhead():
    assert group_cost([0, 1, 2], [10, 30, 20]) == 30 * (3 + STEP_OVERHEAD)


def test_share_work_cuts_one_group_for_two_workers_by_features():
    plain = RunConfig()
    featured = RunConfig(batchnorm=True, dropout=0.5, augment=1.0)
    configs = [plain, featured, plain.replace(seed=1), featured.replace(seed=1)]
    groups = share_work([[0, 1, 2, 3]], configs, [100] * 4, workers=2)
    assert sorted(groups) == [[0, 2], [1, 3]]  # plain configs apart from featured ones


def test_share_work_cuts_the_group_holding_over_its_share():
    # a learning curve: 6 configs of 3300 steps, 6 of 1600, 6 of 400
    configs = [RunConfig(seed=s, batchnorm=s % 2 == 1) for s in range(18)]
    steps = [3300] * 6 + [1600] * 6 + [400] * 6
    groups = [list(range(0, 6)), list(range(6, 12)), list(range(12, 18))]
    out = share_work(groups, configs, steps, workers=2)
    assert sorted(out) == [[0, 2, 4], [1, 3, 5], list(range(6, 12)), list(range(12, 18))]
    total = sum(group_cost(g, steps) for g in out)
    assert max(group_cost(g, steps) for g in out) * 2 <= total


def test_share_work_leaves_balanced_groups_and_single_configs():
    configs = [RunConfig(seed=s) for s in range(4)]
    assert share_work([[0, 1], [2, 3]], configs, [50] * 4, workers=2) == [[0, 1], [2, 3]]
    assert share_work([[0]], configs, [50] * 4, workers=4) == [[0]]
    assert share_work([[0], [1, 2, 3]], configs, [1000, 1, 1, 1], workers=2) == [[0], [1, 2, 3]]


def test_plan_groups_with_workers_needs_steps():
    configs = [RunConfig(seed=s) for s in range(4)]
    groups = plan_groups(
        configs, (1, 8, 8), 10, device=torch.device("cpu"), workers=2, steps=[10] * 4
    )
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3]
    assert len(groups) == 2
    with pytest.raises(ValueError, match="steps"):
        plan_groups(configs, (1, 8, 8), 10, device=torch.device("cpu"), workers=2)
