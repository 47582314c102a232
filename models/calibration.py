"""Post-hoc calibration and the Python-side metrics.

The formulas here are the contract with the TypeScript runtime, which applies the same maps to the ONNX
output (float64 arithmetic on float32 probabilities):
  1X2 temperature: q_i = p_i^(1/T) / sum_j p_j^(1/T)
  O/U Platt:       q_over = 1 / (1 + exp(-(a * ln(p_over / (1 - p_over)) + b))), q_under = 1 - q_over
Probabilities are clipped to [EPS, 1 - EPS] before any logarithm, on both sides of the contract.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

EPS = 1e-15  # the same clip as src/services/inference/bundle.ts


def _clip(p):
    return np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)


def apply_temperature(probs: np.ndarray, T: float) -> np.ndarray:
    logp = np.log(_clip(probs)) / T
    logp -= logp.max(axis=1, keepdims=True)
    e = np.exp(logp)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 that minimises the log loss of apply_temperature(probs, T); searched over log T."""
    def nll(log_t):
        q = apply_temperature(probs, float(np.exp(log_t)))
        return -np.mean(np.log(_clip(q[np.arange(len(labels)), labels])))
    res = minimize_scalar(nll, bounds=(np.log(0.2), np.log(5.0)), method='bounded', options={'xatol': 1e-7})
    return float(np.exp(res.x))


def apply_platt(p_over: np.ndarray, a: float, b: float) -> np.ndarray:
    p = _clip(p_over)
    z = a * np.log(p / (1.0 - p)) + b
    q_over = 1.0 / (1.0 + np.exp(-z))
    return np.stack([1.0 - q_over, q_over], axis=1)


def fit_platt(p_over: np.ndarray, labels: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """Logistic regression of the label on logit(p_over) (slope a, intercept b) by Newton's method."""
    p = _clip(p_over)
    x = np.log(p / (1.0 - p))
    y = labels.astype(np.float64)
    w = np.array([1.0, 0.0])  # identity start
    design = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-(design @ w)))
        grad = design.T @ (q - y)
        hess = design.T @ (design * (q * (1.0 - q))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(w[0]), float(w[1])


def metrics(probs: np.ndarray, labels: np.ndarray) -> dict:
    """logLoss = mean -ln p(outcome); brier = mean sum_k (p_k - y_k)^2 over the K outcomes (K = 3 or 2);
    accuracy = share of rows whose most probable outcome happened."""
    probs = np.asarray(probs, dtype=np.float64)
    n, k = probs.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), labels] = 1.0
    return {
        'rows': int(n),
        'logLoss': float(-np.mean(np.log(_clip(probs[np.arange(n), labels])))),
        'brier': float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
        'accuracy': float(np.mean(np.argmax(probs, axis=1) == labels)),
    }


def blocked_folds(n: int, k: int) -> list[np.ndarray]:
    """k contiguous blocks of row indices (rows are in kick-off order): held-out folds for cross-fitting."""
    return [idx for idx in np.array_split(np.arange(n), k) if len(idx)]
