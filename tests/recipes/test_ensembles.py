import keras
import numpy as np
import pytest

from keras_recipes.recipes import EnsembleAverage, ensemble, train_ensemble


def _mlp():
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=-1) == y))


@pytest.fixture(scope="module")
def members(digits):
    x_train, _, y_train, _ = digits
    return train_ensemble(_mlp, 4, x_train, y_train, epochs=3, batch_size=64, verbose=0)


def test_train_ensemble_gives_differently_initialized_members(members):
    assert len(members) == 4
    first_kernels = [m.layers[0].get_weights()[0] for m in members]
    assert not np.allclose(first_kernels[0], first_kernels[1])


def test_train_ensemble_is_reproducible(digits):
    x_train, _, y_train, _ = digits
    x, y = x_train[:200], y_train[:200]
    a = train_ensemble(_mlp, 1, x, y, seeds=[5], epochs=1, verbose=0)[0]
    b = train_ensemble(_mlp, 1, x, y, seeds=[5], epochs=1, verbose=0)[0]
    np.testing.assert_allclose(a.layers[0].get_weights()[0], b.layers[0].get_weights()[0])


@pytest.mark.parametrize("method", ["mean", "geometric", "vote"])
def test_ensemble_accuracy_is_at_least_the_members_mean(digits, members, method):
    _, x_test, _, y_test = digits
    model = ensemble(members, method=method)
    member_accuracies = [_accuracy(m, x_test, y_test) for m in members]
    ensemble_accuracy = _accuracy(model, x_test, y_test)
    assert ensemble_accuracy >= np.mean(member_accuracies)
    assert ensemble_accuracy > 0.85


def test_combination_methods_match_numpy(members, digits):
    x = digits[1][:20]
    predictions = np.stack([m.predict(x, verbose=0) for m in members])
    np.testing.assert_allclose(
        ensemble(members).predict(x, verbose=0), predictions.mean(axis=0), rtol=1e-5
    )
    geometric = np.exp(np.log(predictions).mean(axis=0))
    geometric /= geometric.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(
        ensemble(members, "geometric").predict(x, verbose=0), geometric, rtol=1e-4, atol=1e-6
    )
    votes = np.eye(10)[predictions.argmax(axis=-1)].mean(axis=0)
    np.testing.assert_allclose(ensemble(members, "vote").predict(x, verbose=0), votes)


def test_members_with_equal_names_and_save_load(tmp_path, digits):
    x = digits[1][:16]
    for file in ("one.keras", "two.keras"):
        keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")], name="mlp"
        ).save(tmp_path / file)
    loaded = [keras.models.load_model(tmp_path / f) for f in ("one.keras", "two.keras")]
    assert loaded[0].name == loaded[1].name == "mlp"
    model = ensemble(loaded, method="geometric")
    model.save(tmp_path / "ensemble.keras")
    restored = keras.models.load_model(tmp_path / "ensemble.keras")
    assert restored.get_layer("combine").method == "geometric"
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_ensemble_can_be_compiled_and_evaluated(members, digits):
    _, x_test, _, y_test = digits
    model = ensemble(members)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy == pytest.approx(_accuracy(model, x_test, y_test), abs=1e-6)


def test_empty_model_list():
    with pytest.raises(ValueError, match="non-empty list of Keras models. Received: models=\\[\\]"):
        ensemble([])


def test_members_with_different_output_shapes():
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    large = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])
    with pytest.raises(ValueError, match="same output shape. Received: output shapes="):
        ensemble([small, large])


def test_bad_method():
    member = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="Received: method='median'"):
        ensemble([member], method="median")
    with pytest.raises(ValueError, match="Received: method='max'"):
        EnsembleAverage("max")


def test_member_without_inputs_or_with_two_outputs():
    with pytest.raises(ValueError, match="known inputs"):
        ensemble([keras.layers.Dense(3)])
    inputs = keras.Input((4,))
    two_heads = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)])
    with pytest.raises(ValueError, match="exactly one output"):
        ensemble([two_heads])


def test_bad_n_and_seeds():
    with pytest.raises(ValueError, match="Received: n=0"):
        train_ensemble(_mlp, 0, None)
    with pytest.raises(ValueError, match="expected 2 seeds"):
        train_ensemble(_mlp, 2, None, seeds=[1])


def test_binary_sigmoid_members_geometric_and_vote():
    # One sigmoid unit p is read as the two classes [1 - p, p].
    a = np.array([[0.1], [0.9], [0.5]], "float32")
    b = np.array([[0.2], [0.6], [0.5]], "float32")
    c = np.array([[0.7], [0.3], [0.5]], "float32")

    def combined(method, members):
        return keras.ops.convert_to_numpy(EnsembleAverage(method)(members))

    geometric = combined("geometric", [a, b])
    assert geometric.shape == (3, 1)
    # sqrt(.1 * .2) / (sqrt(.1 * .2) + sqrt(.9 * .8)) = sqrt(2) / (sqrt(2) + sqrt(72)) = 1/7;
    # sqrt(.9 * .6) / (sqrt(.9 * .6) + sqrt(.1 * .4)) = sqrt(54) / (sqrt(54) + 2).
    np.testing.assert_allclose(
        geometric[:, 0], [1 / 7, np.sqrt(54) / (np.sqrt(54) + 2), 0.5], rtol=1e-5
    )
    # The fraction of members with p > 0.5; a tie at 0.5 votes for class 0, as argmax does.
    np.testing.assert_allclose(combined("vote", [a, b, c])[:, 0], [1 / 3, 2 / 3, 0.0])
    np.testing.assert_allclose(combined("mean", [a, b])[:, 0], [0.15, 0.75, 0.5], rtol=1e-6)


def test_binary_ensemble_model_matches_the_hand_computed_vote():
    members = []
    for bias in (-1.0, 0.5, 2.0):
        member = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
        member.set_weights([np.ones((1, 1)), np.array([bias])])
        members.append(member)
    x = np.array([[-3.0], [0.0], [3.0]], "float32")
    # p = sigmoid(x + bias) > 0.5 where x + bias > 0: 0, 2 and 3 of the 3 members.
    np.testing.assert_allclose(
        ensemble(members, "vote").predict(x, verbose=0)[:, 0], [0.0, 2 / 3, 1.0]
    )


def test_a_single_model_instead_of_a_list():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="solo")
    with pytest.raises(
        ValueError, match="non-empty list of Keras models .* Received: models=<Sequential name=solo"
    ):
        ensemble(model)
    with pytest.raises(ValueError, match="Received: models=3"):
        ensemble(3)


@pytest.mark.parametrize("method", ["geometric", "vote"])
def test_members_with_outputs_of_shape_batch_are_combined_per_example(method):
    # A sigmoid unit squeezed to shape (batch,): combined per example, not across the batch.
    members = []
    for bias in (-1.0, 0.5, 2.0):
        member = keras.Sequential([
            keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid"),
            keras.layers.Reshape(()),
        ])
        member.set_weights([np.ones((1, 1)), np.array([bias])])
        members.append(member)
    x = np.array([[-3.0], [-0.2], [0.0], [1.0], [3.0], [-1.5]], "float32")
    p = np.stack([member.predict(x, verbose=0) for member in members])
    if method == "geometric":
        ones, zeros = np.exp(np.log(p).mean(0)), np.exp(np.log(1 - p).mean(0))
        expected = ones / (ones + zeros)
    else:
        expected = (p > 0.5).mean(0)
    model = ensemble(members, method)
    assert model.output.shape == (None,)
    for batch_size in (6, 2):
        np.testing.assert_allclose(
            model.predict(x, batch_size=batch_size, verbose=0), expected, rtol=1e-5
        )


@pytest.mark.parametrize(
    "seeds, message",
    [
        ([0.1, 0.5], r"expected integers in \[0, 4294967295\]\. Received: seeds=\[0\.1, 0\.5\]"),
        ([0, None], r"Received: seeds=\[0, None\]"),
        ([True, 2], r"Received: seeds=\[True, 2\]"),
        ([-1, 2], r"Received: seeds=\[-1, 2\]"),
        ([0, 2**32], r"Received: seeds=\[0, 4294967296\]"),
        ([3, np.int64(3)], r"expected distinct seeds .* Received: seeds=\[3, np\.int64\(3\)\]"),
        (5, r"expected 2 seeds, one per member\. Received: seeds=5"),
    ],
)
def test_bad_seeds_are_refused_before_any_member_is_built(seeds, message):
    built = []

    def build():
        built.append(_mlp())
        return built[-1]

    with pytest.raises(ValueError, match=message):
        train_ensemble(build, 2, np.zeros((4, 64)), np.zeros(4), seeds=seeds, verbose=0)
    assert built == []


def test_numpy_integer_seeds_are_the_same_seeds():
    x, y = np.random.default_rng(0).normal(size=(8, 64)), np.arange(8) % 10
    numpy_seeded, int_seeded = (
        train_ensemble(_mlp, 2, x, y, seeds=seeds, epochs=1, verbose=0)
        for seeds in ([np.int64(7), np.int64(8)], [7, 8])
    )
    for a, b in zip(numpy_seeded, int_seeded):
        for weight_a, weight_b in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(weight_a, weight_b)


@pytest.mark.parametrize(
    "fit_kwargs, match",
    [({"valdation_split": 0.2}, r"Unrecognized keyword arguments for `fit`: \['valdation_split'\]"),
     ({"validation_split": 1.5}, r"validation_split"),
     ({"callbacks": [keras.callbacks.EarlyStopping]}, r"`callbacks`.*Received: callbacks=")],
)
def test_train_ensemble_checks_fit_arguments_before_building_a_member(fit_kwargs, match):
    built = []

    def build():
        built.append(1)
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    with pytest.raises(ValueError, match=match):
        train_ensemble(build, 2, np.ones((8, 4)), np.ones((8, 1)), **fit_kwargs)
    assert built == []
