"""BLAS threads chosen by the work's size (graphnet.threads) and applied by `graphnet train`."""

import numpy as np
import pytest

from graphnet import models, train
from graphnet.cli import main
from graphnet.errors import InputError
from graphnet.threads import (CROSSOVER_FLOPS, blas_thread_count, blas_threads, limit_blas,
                              model_flops)

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads_now():
    return max(p["num_threads"] for p in threadpoolctl.threadpool_info()
               if p["user_api"] == "blas")


def test_train_runs_the_digits_cnn_on_one_blas_thread(monkeypatch, capsys):
    seen = []
    real_fit = train.fit

    def fit(*args, **kwargs):  # what BLAS runs with while the command trains
        seen.append(_blas_threads_now())
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(train, "fit", fit)
    with limit_blas(2):  # as an unconstrained 2-core process starts
        assert main(["train", "--model", "cnn", "--epochs", "1", "--no-progress"]) == 0
        assert seen == [1]
        assert _blas_threads_now() == min(2, _cores())  # restored after the command
    assert "BLAS threads 1" in capsys.readouterr().out.splitlines()[0]


def _cores():
    from graphnet.threads import available_cores

    return available_cores()


def test_blas_threads_is_monotone_and_bounded():
    flops = [0, 1e3, 1e6, CROSSOVER_FLOPS / 2, CROSSOVER_FLOPS, 1e9, 1e12]
    for cores in (1, 2, 4, 64):
        threads = [blas_threads(f, cores=cores) for f in flops]
        assert threads == sorted(threads)
        assert threads[0] == 1 and threads[-1] == min(2, cores)
    assert blas_threads(CROSSOVER_FLOPS * 0.99, cores=2) == 1
    assert blas_threads(CROSSOVER_FLOPS, cores=2) == 2


@pytest.mark.parametrize("bad, match", [(-1, "flops must be a finite number >= 0, got -1"),
                                        (float("nan"), "got nan"), ("big", "got 'big'"),
                                        (True, "got True")])
def test_blas_threads_refuses_bad_flops(bad, match):
    with pytest.raises(InputError, match=match):
        blas_threads(bad)


def test_model_flops_counts_the_largest_product():
    # digits CNN: conv 1->32 3x3 (320 params) at 8x8 positions; dense 512->64 (32,832 params)
    cnn = models.build("cnn", (1, 8, 8), 10)
    assert model_flops(cnn, (1, 8, 8), 32) == 2 * 32 * 32832
    assert blas_threads(model_flops(cnn, (1, 8, 8), 32), cores=2) == 1
    # a wide MLP on big batches is above the crossover
    wide = models.mlp(784, [2048], 10)
    assert model_flops(wide, (784,), 1024) == 2 * 1024 * (785 * 2048)
    assert blas_threads(model_flops(wide, (784,), 1024), cores=2) == 2
    # more batch, more flops: the choice never falls as the work grows
    sizes = [model_flops(wide, (784,), b) for b in (1, 8, 64, 512, 4096)]
    assert sizes == sorted(sizes)


def test_limit_blas_applies_and_restores():
    before = blas_thread_count()
    with limit_blas(1):
        assert blas_thread_count() == 1
        np.ones((64, 64)) @ np.ones((64, 64))
    assert blas_thread_count() == before
    with pytest.raises(InputError, match="threads must be an int >= 1, got 0"):
        limit_blas(0)
