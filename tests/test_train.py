"""The fit loop, the baseline models and the train command, end to end on small data."""

import numpy as np
import pytest

from graphnet.cli import main
from graphnet.core.layers import Dense, Softmax
from graphnet.core.model import Sequential
from graphnet.data import xor
from graphnet.errors import DataError, DivergenceError, InputError
from graphnet.models import build, mlp
from graphnet.train import History, accuracy, evaluate, fit


def _xor_mlp(seed):
    # the 2-4-2 tanh + softmax
    return Sequential([Dense(2, 4, activation="tanh", rng=2 * seed),
                       Dense(4, 2, rng=2 * seed + 1), Softmax()])


def test_mlp_learns_xor_from_19_of_20_seeds():
    X, y = xor()
    solved = 0
    for seed in range(20):
        model = _xor_mlp(seed)
        fit(model, X, y, lr=0.05, epochs=300, batch_size=4, seed=seed)
        solved += int((model.predict(X).argmax(axis=1) == y).all())
    assert solved >= 19, f"XOR solved from {solved} of 20 seeds"


def test_history_records_every_epoch_and_validation():
    X, y = xor()
    seen = []
    h = fit(mlp(2, [4], 2, seed=0), X, y, lr=0.05, epochs=5, batch_size=2, seed=0,
            validation=(X, y), callback=seen.append)
    assert isinstance(h, History) and len(h) == 5 and seen == h.records
    assert h.column("epoch") == [1, 2, 3, 4, 5]
    for rec in h.records:
        assert set(rec) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time"}
        assert rec["loss"] > 0 and 0 <= rec["accuracy"] <= 1 and rec["val_loss"] > 0


def test_same_seed_same_bits_other_seed_other_bits():
    X, y = xor()
    runs = []
    for seed in (3, 3, 4):
        model = mlp(2, [4], 2, seed=0)
        fit(model, X, y, lr=0.05, epochs=20, batch_size=2, seed=seed)
        runs.append(model.state_dict())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(np.array_equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_divergence_guard_names_the_epoch_and_suggests_a_lower_rate():
    X, y = xor()
    model = Sequential([Dense(2, 2, rng=0)])           # linear: plain SGD blows up at lr 10
    with pytest.raises(DivergenceError, match=r"epoch \d+, batch \d+.*lower learning rate"):
        fit(model, X * 100, y.astype(float)[:, None].repeat(2, axis=1), loss="squared_error",
            optimizer="sgd", lr=10.0, epochs=50, batch_size=4, seed=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"batch_size": -1}, "batch_size must be a positive int"),
    ({"lr": -0.1}, "lr must be a finite number"),
    ({"optimizer": "rmsprop"}, "optimizer: expected one of"),
    ({"loss": "hinge"}, "loss: expected one of"),
    ({"validation": (np.zeros((2, 2)),)}, "validation must be a pair"),
])
def test_bad_settings_are_refused(kwargs, match):
    X, y = xor()
    with pytest.raises(InputError, match=match):
        fit(mlp(2, [4], 2), X, y, **kwargs)


def test_bad_data_is_refused():
    X, y = xor()
    with pytest.raises(DataError, match="empty"):
        fit(mlp(2, [4], 2), X[:0], y[:0])
    with pytest.raises(InputError, match="rows to match"):
        fit(mlp(2, [4], 2), X, y[:3])
    with pytest.raises(InputError, match="label 5 out of range"):
        fit(mlp(2, [4], 2), X, np.array([0, 1, 5, 0]))
    bad = X.copy()
    bad[1, 0] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        fit(mlp(2, [4], 2), bad, y)


def test_accuracy_and_evaluate():
    assert accuracy(np.array([[0.2, 0.8], [0.9, 0.1]]), np.array([1, 1])) == 0.5
    assert accuracy(np.zeros((2, 2)), np.zeros((2, 2))) is None
    X, y = xor()
    loss, acc = evaluate(mlp(2, [4], 2, seed=1), X, y)
    assert loss > 0 and acc in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_build_refuses_what_cannot_fit():
    with pytest.raises(InputError, match="needs images"):
        build("cnn", (64,), 10)
    with pytest.raises(InputError, match="1x28x28"):
        build("lenet5", (1, 8, 8), 10)
    with pytest.raises(InputError, match="'mlp', 'cnn' or 'lenet5'"):
        build("resnet", (64,), 10)


def _digits_accuracy(model_name, seed, capsys):
    # the README's figures: `graphnet train` with the recipe, its split, init and shuffles
    assert main(["train", "--model", model_name, "--seed", str(seed), "--no-progress"]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("test loss")][0]
    return float(line.split("test accuracy ")[1].split()[0])


@pytest.mark.slow
def test_digits_cnn_averages_at_least_98_percent(capsys):
    accs = [_digits_accuracy("cnn", seed, capsys) for seed in range(3)]
    assert np.mean(accs) >= 0.98, accs


@pytest.mark.slow
def test_digits_mlp_averages_at_least_97_percent(capsys):
    accs = [_digits_accuracy("mlp", seed, capsys) for seed in range(3)]
    assert np.mean(accs) >= 0.97, accs


def test_cli_train_draws_independent_streams_for_split_init_and_shuffles(monkeypatch, capsys):
    """One seed, three streams that start apart; the split is the lab's for that seed."""
    import graphnet.data
    import graphnet.models
    import graphnet.train
    from graphnet.lab.start import load_data

    seen = {}

    def spy(name, func, key):
        def wrapper(*args, **kwargs):
            seen[name] = kwargs[key].bit_generator.state["state"]["state"]
            out = func(*args, **kwargs)
            seen.setdefault(name + " result", out)
            return out
        monkeypatch.setattr(getattr(graphnet, name), func.__name__, wrapper)

    spy("data", graphnet.data.load_dataset, "seed")
    spy("models", graphnet.models.build, "seed")
    spy("train", graphnet.train.fit, "seed")
    assert main(["train", "--model", "mlp", "--seed", "4", "--epochs", "1", "--no-progress"]) == 0
    assert "seed 4" in capsys.readouterr().out
    assert len({seen["data"], seen["models"], seen["train"]}) == 3
    ds = seen["data result"]
    lab = load_data({"dataset": "digits", "test_size": 0.2, "validation": 0.1, "scale": "unit",
                     "max_train": 0, "max_test": 0}, seed=4)
    np.testing.assert_array_equal(ds.y_test, lab.y_test)
    np.testing.assert_array_equal(ds.X_test, lab.X_test.reshape(len(lab.X_test), -1))


def test_cli_train_xor(capsys):
    assert main(["train", "--model", "mlp", "--data", "xor", "--epochs", "300"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy 1.0000" in out and "time" in out


def test_cli_train_float32_cnn_on_digits(capsys):
    assert main(["train", "--epochs", "1", "--dtype", "float32"]) == 0
    assert "cnn on digits-image" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["train", "--model", "rnn"], "invalid choice"),
    (["train", "--data", "cifar"], "expected digits, xor, spirals, mnist1d, mnist:PATH, csv:PATH or npz:PATH"),
    (["train", "--data", "mnist:"], "mnist needs a directory"),
    (["train", "--epochs", "0"], "expected a positive integer"),
    (["train", "--lr", "nan"], "positive finite number"),
    (["train", "--seed", "-1"], "non-negative integer"),
    ([], "required"),
])
def test_cli_usage_errors_exit_2_without_a_traceback(argv, match, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and match in err and "Traceback" not in err


def test_cli_reports_library_errors_cleanly(tmp_path, capsys):
    assert main(["train", "--model", "cnn", "--data", "xor"]) == 2
    assert "needs images" in capsys.readouterr().err
    assert main(["train", "--data", f"mnist:{tmp_path}"]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["train", "--model", "mlp", "--data", "xor", "--weight-decay", "-1"]) == 2
    assert "weight_decay" in capsys.readouterr().err
