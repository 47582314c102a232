"""Unit tests of the training pipeline's parts: /usr/bin/python3 -m unittest discover -s models/tests

Run by test/node/model-train-smoke.test.ts inside `npm test`.
"""
import math
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import xgboost as xgb  # noqa: E402

from anchored import base_margin, metrics, paired_bootstrap, probabilities  # noqa: E402
from xgb_onnx import reference_margins, to_onnx, tree_ensemble_attributes  # noqa: E402


def _anchors(n, rng):
    raw = rng.dirichlet([4.0, 2.5, 3.0], size=n)
    return raw / raw.sum(axis=1, keepdims=True)


def _data(n=600, k=6, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    return X, rng


class AnchorTest(unittest.TestCase):
    def test_no_trees_is_the_market_exactly(self):
        rng = np.random.default_rng(7)
        a = _anchors(500, rng)
        np.testing.assert_allclose(probabilities('1x2', base_margin('1x2', a)), a, atol=1e-15)
        over = rng.uniform(0.2, 0.8, size=500)
        np.testing.assert_allclose(probabilities('ou25', base_margin('ou25', over))[:, 1], over, atol=1e-15)

    def test_xgboost_with_zero_rounds_is_its_base_margin(self):
        # XGBoost adds base_margin instead of base_score: a booster of no rounds predicts the anchor itself.
        X, rng = _data()
        a = _anchors(len(X), rng)
        y = np.array([rng.choice(3, p=row) for row in a])
        d = xgb.DMatrix(X, label=y, missing=np.nan, base_margin=base_margin('1x2', a).reshape(-1))
        b = xgb.train({'objective': 'multi:softprob', 'num_class': 3, 'base_score': 0.9}, d, 0)
        np.testing.assert_allclose(b.predict(d), a, atol=1e-6)
        over = rng.uniform(0.2, 0.8, size=len(X))
        d2 = xgb.DMatrix(X, label=(rng.random(len(X)) < over).astype(int), missing=np.nan, base_margin=base_margin('ou25', over))
        b2 = xgb.train({'objective': 'binary:logistic', 'base_score': 0.9}, d2, 0)
        np.testing.assert_allclose(b2.predict(d2), over, atol=1e-6)

    def test_metrics_by_hand(self):
        p = np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
        y = np.array([0, 1])
        m = metrics(p, y)
        self.assertAlmostEqual(m['logLoss'], (-math.log(0.5) - math.log(0.2)) / 2, places=12)
        # row 1: 0.25 + 0.09 + 0.04; row 2: 0.04 + 0.64 + 0.36
        self.assertAlmostEqual(m['brier'], (0.38 + 1.04) / 2, places=12)
        self.assertAlmostEqual(m['accuracy'], 0.5)
        from sklearn.metrics import log_loss
        self.assertAlmostEqual(m['logLoss'], log_loss(y, p, labels=[0, 1, 2]), places=12)

    def test_paired_bootstrap_brackets_the_mean_and_sees_a_real_difference(self):
        rng = np.random.default_rng(11)
        noise = rng.normal(0, 0.05, size=2000)
        i = paired_bootstrap(noise, resamples=2000, seed=1)
        self.assertLess(i['lower'], i['estimate'])
        self.assertLess(i['estimate'], i['upper'])
        self.assertLess(i['lower'], 0.0)
        self.assertGreater(i['upper'], 0.0)
        shifted = paired_bootstrap(noise - 0.01, resamples=2000, seed=1)
        self.assertLess(shifted['upper'], 0.0)


class ConversionTest(unittest.TestCase):
    def _check(self, booster, X, n_targets, feature_map, n_inputs):
        model = to_onnx(booster, n_inputs, feature_map, n_targets, name='t')
        wide = np.full((len(X), n_inputs), np.nan, dtype=np.float32)
        wide[:, feature_map] = X
        zero = np.zeros((len(X), n_targets) if n_targets > 1 else len(X))
        expected = booster.predict(xgb.DMatrix(X, missing=np.nan, base_margin=zero.reshape(-1)), output_margin=True).reshape(len(X), -1)
        got = reference_margins(model, wide)
        self.assertLessEqual(float(np.max(np.abs(got - expected))), 1e-6)
        self.assertGreater(float(np.max(np.abs(expected))), 1e-3)
        return model

    def test_multiclass_margins_with_missing_values_in_a_wider_input(self):
        X, rng = _data()
        a = _anchors(len(X), rng)
        y = np.where(np.nan_to_num(X[:, 0]) > 0.4, 0, np.where(np.nan_to_num(X[:, 1]) > 0, 1, 2))
        b = xgb.train({'objective': 'multi:softprob', 'num_class': 3, 'max_depth': 3, 'eta': 0.3, 'nthread': 1},
                      xgb.DMatrix(X, label=y, missing=np.nan, base_margin=base_margin('1x2', a).reshape(-1)), 20)
        # the model's six columns sit at other places of a ten-column input
        model = self._check(b, X, 3, [9, 0, 4, 2, 7, 5], 10)
        (node,) = model.graph.node
        self.assertEqual((node.domain, node.op_type), ('ai.onnx.ml', 'TreeEnsembleRegressor'))
        self.assertEqual({o.domain: o.version for o in model.opset_import}, {'': 15, 'ai.onnx.ml': 3})
        self.assertEqual(model.ir_version, 8)
        self._check(b, np.full((1, X.shape[1]), np.nan, dtype=np.float32), 3, [9, 0, 4, 2, 7, 5], 10)

    def test_binary_margin_ignores_base_score(self):
        X, rng = _data()
        over = rng.uniform(0.3, 0.7, size=len(X))
        y = (np.nan_to_num(X[:, 2]) + 0.3 * np.nan_to_num(X[:, 3]) > 0.5).astype(int)
        b = xgb.train({'objective': 'binary:logistic', 'max_depth': 2, 'eta': 0.3, 'base_score': 0.3, 'nthread': 1},
                      xgb.DMatrix(X, label=y, missing=np.nan, base_margin=base_margin('ou25', over)), 15)
        attrs = tree_ensemble_attributes(b, 1, list(range(X.shape[1])))
        self.assertEqual(attrs['base_values'], [0.0])
        self._check(b, X, 1, list(range(X.shape[1])), X.shape[1])

    def test_no_trees_is_one_zero_leaf_per_target(self):
        model = to_onnx(None, 4, [0, 1], 3, name='empty')
        X = np.array([[1, 2, 3, 4], [np.nan] * 4], dtype=np.float32)
        np.testing.assert_array_equal(reference_margins(model, X), np.zeros((2, 3), dtype=np.float32))

    def test_refuses_a_feature_map_outside_the_input(self):
        with self.assertRaises(ValueError):
            to_onnx(None, 4, [0, 4], 1, name='bad')
        with self.assertRaises(ValueError):
            to_onnx(None, 4, [1, 1], 1, name='bad')


if __name__ == '__main__':
    unittest.main()
