"""The market-anchored model's arithmetic, shared by train.py and its tests.

The contract with the TypeScript runtime (src/services/inference/runtime.ts), which serves the same sums:
  1X2:        p = softmax(ln a + m),        a = the margin-free anchor [home, draw, away], m = the trees' margins
  over/under: p_over = sigmoid(logit a_over + m),   output [p_under, p_over]
Probabilities are clipped to [EPS, 1 - EPS] before a logarithm, on both sides of the contract. With no trees
(m = 0) both are the anchor itself: softmax(ln a) = a / sum(a) = a.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-15  # the same clip as src/services/inference/runtime.ts


def clip(p):
    return np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)


def logit(p) -> np.ndarray:
    """The binary link's inverse, on clipped probabilities: the base_margin of a 2-way anchor."""
    p = clip(p)
    return np.log(p / (1.0 - p))


def sigmoid(m) -> np.ndarray:
    """The binary link in float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(m, dtype=np.float64)))


def base_margin(market: str, anchor: np.ndarray) -> np.ndarray:
    """XGBoost's base_margin from anchor probabilities: [N, 3] -> [N, 3] logs; [N] over -> [N] logits."""
    if market == '1x2':
        return np.log(clip(anchor))
    return logit(anchor)


def probabilities(market: str, margin: np.ndarray) -> np.ndarray:
    """The link function in float64: softmax of [N, 3] margins; [under, over] of [N] or [N, 1] margins."""
    margin = np.asarray(margin, dtype=np.float64)
    if market == '1x2':
        z = margin - margin.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    over = sigmoid(margin.reshape(-1))
    return np.stack([1.0 - over, over], axis=1)


def row_log_loss(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    return -np.log(clip(probs[np.arange(len(labels)), labels]))


def metrics(probs: np.ndarray, labels: np.ndarray) -> dict:
    """logLoss = mean -ln p(outcome); brier = mean sum_k (p_k - y_k)^2 over the K outcomes (K = 3 or 2);
    accuracy = share of rows whose most probable outcome happened."""
    probs = np.asarray(probs, dtype=np.float64)
    n, k = probs.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), labels] = 1.0
    return {
        'rows': int(n),
        'logLoss': float(np.mean(row_log_loss(probs, labels))),
        'brier': float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
        'accuracy': float(np.mean(np.argmax(probs, axis=1) == labels)),
    }


def paired_bootstrap(differences: np.ndarray, *, resamples: int = 2000, seed: int = 20240801,
                     confidence: float = 0.95) -> dict:
    """Mean of per-match differences with a percentile bootstrap interval (matches resampled with replacement)."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) == 0:
        raise ValueError('bootstrap of an empty sample')
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    return {'estimate': float(d.mean()), 'lower': float(np.quantile(means, tail)),
            'upper': float(np.quantile(means, 1.0 - tail)), 'rows': int(len(d)), 'resamples': resamples,
            'confidence': confidence}
