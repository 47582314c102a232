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

from calibration import (apply_platt, apply_temperature, blocked_folds, fit_platt,  # noqa: E402
                         fit_temperature, metrics)
from xgb_onnx import reference_predict, to_onnx, tree_ensemble_attributes  # noqa: E402


class CalibrationTest(unittest.TestCase):
    def test_temperature_by_hand(self):
        p = np.array([[0.5, 0.25, 0.25]])
        np.testing.assert_allclose(apply_temperature(p, 1.0), p, atol=1e-15)
        # T = 2: square roots renormalised: [0.70711, 0.5, 0.5] / 1.70711
        s = math.sqrt(0.5) + 0.5 + 0.5
        np.testing.assert_allclose(apply_temperature(p, 2.0), [[math.sqrt(0.5) / s, 0.5 / s, 0.5 / s]], atol=1e-12)
        # T = 0.5: squares renormalised: [0.25, 0.0625, 0.0625] / 0.375
        np.testing.assert_allclose(apply_temperature(p, 0.5), [[2 / 3, 1 / 6, 1 / 6]], atol=1e-12)

    def test_platt_by_hand(self):
        # a = 1, b = 0 is the identity; a = 2, b = 0 squares the odds: p = 0.75 (odds 3) -> 9/10
        np.testing.assert_allclose(apply_platt(np.array([0.75]), 1.0, 0.0), [[0.25, 0.75]], atol=1e-12)
        np.testing.assert_allclose(apply_platt(np.array([0.75]), 2.0, 0.0), [[0.1, 0.9]], atol=1e-12)
        # b = ln 2 doubles the odds: p = 0.5 -> 2/3
        np.testing.assert_allclose(apply_platt(np.array([0.5]), 1.0, math.log(2)), [[1 / 3, 2 / 3]], atol=1e-12)

    def test_fits_recover_known_parameters(self):
        rng = np.random.default_rng(1)
        n = 40000
        logits = rng.normal(size=(n, 3))
        true = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = np.array([rng.choice(3, p=row) for row in true])
        overconfident = apply_temperature(true, 1 / 1.3)  # what a model would say if it were too sharp
        self.assertAlmostEqual(fit_temperature(overconfident, y), 1.3, delta=0.05)

        z = rng.normal(scale=1.5, size=n)
        y_bin = (rng.random(n) < 1 / (1 + np.exp(-(0.7 * z - 0.2)))).astype(int)
        a, b = fit_platt(1 / (1 + np.exp(-z)), y_bin)
        self.assertAlmostEqual(a, 0.7, delta=0.05)
        self.assertAlmostEqual(b, -0.2, delta=0.05)

    def test_metrics_by_hand(self):
        p = np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
        y = np.array([0, 1])
        m = metrics(p, y)
        self.assertAlmostEqual(m['logLoss'], (-math.log(0.5) - math.log(0.2)) / 2, places=12)
        # row 1: 0.25 + 0.09 + 0.04; row 2: 0.04 + 0.64 + 0.36
        self.assertAlmostEqual(m['brier'], (0.38 + 1.04) / 2, places=12)
        self.assertAlmostEqual(m['accuracy'], 0.5)
        self.assertEqual(m['rows'], 2)
        # the same definitions as scikit-learn's (its Brier is the binary one: half the 2-outcome sum)
        from sklearn.metrics import brier_score_loss, log_loss
        self.assertAlmostEqual(m['logLoss'], log_loss(y, p, labels=[0, 1, 2]), places=12)
        pb, yb = np.array([[0.3, 0.7], [0.6, 0.4], [0.1, 0.9]]), np.array([1, 1, 0])
        self.assertAlmostEqual(metrics(pb, yb)['brier'], 2 * brier_score_loss(yb, pb[:, 1]), places=12)

    def test_blocked_folds_cover_every_row_once(self):
        folds = blocked_folds(23, 5)
        self.assertEqual(sorted(np.concatenate(folds).tolist()), list(range(23)))
        self.assertTrue(all(np.all(np.diff(f) == 1) for f in folds))


def _data(n=600, k=6, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    return X, rng


class ConversionTest(unittest.TestCase):
    def _check(self, booster, X, to_probs):
        model = to_onnx(booster, X.shape[1], name='t')
        expected = to_probs(booster.predict(xgb.DMatrix(X, missing=np.nan)))
        got = reference_predict(model, X)
        self.assertLessEqual(float(np.max(np.abs(got - expected))), 1e-6)
        return model

    def test_multiclass_with_missing_values(self):
        X, rng = _data()
        y = np.where(np.nan_to_num(X[:, 0]) > 0.4, 0, np.where(np.nan_to_num(X[:, 1]) > 0, 1, 2))
        b = xgb.train({'objective': 'multi:softprob', 'num_class': 3, 'max_depth': 3, 'eta': 0.3, 'nthread': 1},
                      xgb.DMatrix(X, label=y, missing=np.nan), 20)
        model = self._check(b, X, lambda p: p)
        (node,) = model.graph.node
        self.assertEqual(node.domain, 'ai.onnx.ml')
        self.assertEqual({o.domain: o.version for o in model.opset_import}, {'': 15, 'ai.onnx.ml': 3})
        self.assertEqual(model.ir_version, 8)
        # a row with every feature missing follows the learned default directions
        self._check(b, np.full((1, X.shape[1]), np.nan, dtype=np.float32), lambda p: p)

    def test_binary_base_score_is_a_logit(self):
        X, _ = _data()
        y = (np.nan_to_num(X[:, 2]) + 0.3 * np.nan_to_num(X[:, 3]) > 0.5).astype(int)
        b = xgb.train({'objective': 'binary:logistic', 'max_depth': 2, 'eta': 0.3, 'base_score': 0.3, 'nthread': 1},
                      xgb.DMatrix(X, label=y, missing=np.nan), 15)
        attrs = tree_ensemble_attributes(b)
        self.assertAlmostEqual(attrs['base_values'][0], math.log(0.3 / 0.7), places=6)
        self._check(b, X, lambda p: np.stack([1 - p, p], axis=1))
        # the parity check can fail: base_score taken as a margin (the classic mistake) is caught
        model = to_onnx(b, X.shape[1], name='t')
        (base,) = [a for a in model.graph.node[0].attribute if a.name == 'base_values']
        base.floats[0] = 0.3
        expected = b.predict(xgb.DMatrix(X, missing=np.nan))
        self.assertGreater(float(np.max(np.abs(reference_predict(model, X)[:, 1] - expected))), 1e-2)

    def test_binary_with_only_positive_leaves_keeps_the_sigmoid(self):
        X, _ = _data(n=200)
        y = np.ones(200, dtype=int)  # every leaf weight is positive
        b = xgb.train({'objective': 'binary:logistic', 'max_depth': 1, 'eta': 0.3, 'nthread': 1},
                      xgb.DMatrix(X, label=y, missing=np.nan), 3)
        attrs = tree_ensemble_attributes(b)
        self.assertEqual(max(attrs['class_treeids']), 3, 'the extra one-leaf tree (trees 0-2 are the model)')
        self.assertEqual(sum(w < 0 for w in attrs['class_weights']), 1)
        self._check(b, X, lambda p: np.stack([1 - p, p], axis=1))


if __name__ == '__main__':
    unittest.main()
