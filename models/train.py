#!/usr/bin/python3
"""Train the Senzu 1X2 and over/under 2.5 models and write a model bundle.

    /usr/bin/python3 models/train.py --features <export.csv> --out models/bundles/<run-id> [--smoke]

Input: the TypeScript feature export (`npm run features:export`), one row per match:
  match_id,start_at,season,competition,home_team,away_team,label_1x2,label_ou25, <72 feature columns>
label_1x2: 0 home / 1 draw / 2 away; label_ou25: 1 over 2.5 / 0 under; empty = not finished (such rows
are not used); `nan` = missing, kept as NaN (XGBoost learns a default direction for it).

Walk-forward windows (see models/README.md):
  train       every season before the validation season
  validation  2022-23: early stopping, the hyper-parameter grid, the calibration fit and its keep/drop rule
  test        2023-24: touched once, after everything is frozen, to report sanity figures
The final model is the one trained on the train window; it is not refitted on train + validation, because
its calibration is fitted on validation predictions and must belong to the model it is applied to.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import xgboost as xgb  # noqa: E402

from calibration import (apply_platt, apply_temperature, blocked_folds, fit_platt,  # noqa: E402
                         fit_temperature, metrics)
from xgb_onnx import (INPUT_NAME, OUTPUT_LABEL, OUTPUT_PROBABILITIES, check_model_file,  # noqa: E402
                      reference_predict, to_onnx)

META_COLUMNS = ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25']
N_FEATURES = 72
MARKETS = ('1x2', 'ou25')
CLASSES = {'1x2': ['home', 'draw', 'away'], 'ou25': ['under', 'over']}
FILES = {'1x2': 'model-1x2.onnx', 'ou25': 'model-ou25.onnx'}
PARITY_FILE = 'parity.json'
PARITY_ROWS = 200
PARITY_TOLERANCE = 1e-6  # ONNX (float32 tree walk) vs xgboost predict_proba, asserted here
CALIBRATION_FOLDS = 5
SEED = 20240801
# Pinnacle's pre-match probabilities among the features, if the export has them by these names: a Python-side
# reference only (the official market comparison is the TypeScript evaluation), never used for a decision.
MARKET_REFERENCE = {'1x2': ['mkt_pin_p_home', 'mkt_pin_p_draw', 'mkt_pin_p_away'], 'ou25': ['mkt_pin_p_over25']}
SEASON = re.compile(r'^\d{4}-\d{2}$')
RUN_ID = re.compile(r'^[a-z0-9][a-z0-9._-]{2,80}$')

# Small and fast on purpose (2 cores, a few minutes): XGBoost on ~13k rows and 72 features barely moves
# past these; the number of trees is chosen by early stopping on the validation season.
COMMON_PARAMS = {'eta': 0.05, 'subsample': 0.8, 'reg_lambda': 1.0, 'tree_method': 'hist', 'max_bin': 256}
GRID = [{'max_depth': d, 'min_child_weight': m, 'colsample_bytree': c}
        for d in (2, 3, 4) for m in (5, 25) for c in (0.5, 0.9)]
MAX_ROUNDS, EARLY_STOPPING = 1000, 50
SMOKE_GRID = [{'max_depth': 2, 'min_child_weight': 5, 'colsample_bytree': 0.9}]
SMOKE_PARAMS = {**COMMON_PARAMS, 'eta': 0.3}
SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING, SMOKE_TRAIN_ROWS = 12, 4, 1500


def log(msg: str) -> None:
    print(f'[train] {msg}', file=sys.stderr, flush=True)


class Dataset:
    def __init__(self, path: str):
        with open(path, newline='', encoding='utf-8-sig') as fh:
            reader = csv.reader(fh)
            header = next(reader)
            if header[:len(META_COLUMNS)] != META_COLUMNS:
                raise SystemExit(f'{path}: the first columns must be {",".join(META_COLUMNS)}, got {",".join(header[:8])}')
            self.feature_names = header[len(META_COLUMNS):]
            if len(self.feature_names) != N_FEATURES or len(set(self.feature_names)) != N_FEATURES:
                raise SystemExit(f'{path}: expected {N_FEATURES} distinct feature columns, got {len(self.feature_names)}')
            rows = [r for r in reader if r]
        bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
        if bad:
            raise SystemExit(f'{path}: row {bad[0] + 2} has {len(rows[bad[0]])} cells, the header {len(header)}')
        rows.sort(key=lambda r: (r[1], r[0]))  # kick-off order: the calibration folds are blocks of time
        self.match_id = [r[0] for r in rows]
        self.start_at = [r[1] for r in rows]
        self.season = np.array([r[2] for r in rows])
        self.labels = {
            '1x2': np.array([int(r[6]) if r[6] != '' else -1 for r in rows]),
            'ou25': np.array([int(r[7]) if r[7] != '' else -1 for r in rows]),
        }
        if not set(np.unique(self.labels['1x2'])) <= {-1, 0, 1, 2} or not set(np.unique(self.labels['ou25'])) <= {-1, 0, 1}:
            raise SystemExit(f'{path}: labels out of range')
        self.X = np.array([[_cell(v) for v in r[len(META_COLUMNS):]] for r in rows], dtype=np.float32)
        if np.isinf(self.X).any():
            raise SystemExit(f'{path}: infinite feature values; missing must be nan')
        self.sha256 = _sha256_file(path)


def _cell(value: str) -> float:
    return math.nan if value in ('', 'nan', 'NaN', 'null') else float(value)


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def split_windows(data: Dataset, validation: str, test: str):
    # A row without a well-formed season cannot be placed in a window, so it is in none.
    dated = np.array([bool(SEASON.match(x)) for x in data.season], dtype=bool)
    finished = (data.labels['1x2'] >= 0) & (data.labels['ou25'] >= 0) & dated
    seasons = sorted(set(data.season[finished]))
    if validation not in seasons or test not in seasons or not validation < test:
        raise SystemExit(f'need finished matches in validation {validation} < test {test}; seasons present: {seasons}')
    train_seasons = [s for s in seasons if s < validation]
    if not train_seasons:
        raise SystemExit(f'no season before the validation season {validation}')
    idx = {
        'train': np.nonzero(finished & (data.season < validation))[0],
        'validation': np.nonzero(finished & (data.season == validation))[0],
        'test': np.nonzero(finished & (data.season == test))[0],
    }
    between = sorted(set(s for s in seasons if validation < s < test))
    if between:
        raise SystemExit(f'seasons between validation and test are not allowed: {between}')
    ignored = int(np.sum(finished & (data.season > test)))
    windows = {'train': [train_seasons[0], train_seasons[-1]], 'validation': validation, 'test': test}
    return windows, idx, ignored


def xgb_params(market: str, grid_point: dict, base: dict, y_train: np.ndarray, threads: int) -> dict:
    params = {**base, **grid_point, 'nthread': threads, 'seed': SEED}
    if market == '1x2':
        params.update(objective='multi:softprob', num_class=3, eval_metric='mlogloss')
    else:
        # Starting at the training base rate keeps a non-trivial base_score in the model, which the ONNX
        # conversion turns into logit(base_score): the parity check below then exercises that path.
        params.update(objective='binary:logistic', eval_metric='logloss', base_score=float(np.mean(y_train)))
    return params


def predict_probs(market: str, booster, X: np.ndarray) -> np.ndarray:
    p = booster.predict(xgb.DMatrix(X, missing=np.nan))
    return p if market == '1x2' else np.stack([1.0 - p, p], axis=1)


def tune(market: str, X_tr, y_tr, X_va, y_va, grid, base, max_rounds, early, threads):
    dtrain = xgb.DMatrix(X_tr, label=y_tr, missing=np.nan)
    dval = xgb.DMatrix(X_va, label=y_va, missing=np.nan)
    results, best = [], None
    for point in grid:
        params = xgb_params(market, point, base, y_tr, threads)
        started = time.time()
        booster = xgb.train(params, dtrain, num_boost_round=max_rounds, evals=[(dval, 'validation')],
                            early_stopping_rounds=early, verbose_eval=False)
        rounds = booster.best_iteration + 1
        booster = booster[:rounds]
        val_ll = metrics(predict_probs(market, booster, X_va), y_va)['logLoss']
        results.append({**point, 'rounds': rounds, 'validationLogLoss': round(val_ll, 6),
                        'seconds': round(time.time() - started, 2)})
        log(f'{market} {point} rounds={rounds} validation logloss={val_ll:.5f}')
        if best is None or val_ll < best[0]:
            best = (val_ll, params, rounds, booster)
    _, params, rounds, booster = best
    hyper = {k: v for k, v in params.items() if k not in ('nthread',)}
    hyper['n_estimators'] = rounds
    return booster, hyper, results


def choose_calibration(market: str, raw_val: np.ndarray, y_va: np.ndarray, force: bool = False) -> tuple[dict, dict]:
    """Fit on the validation season; keep it only if it lowers the validation log loss out of sample.

    A map fitted on the same rows it is scored on always lowers their log loss a little, so the keep/drop
    decision uses cross-fitting: each of CALIBRATION_FOLDS contiguous blocks of the season is calibrated by a
    map fitted on the other blocks. If that beats the uncalibrated log loss, the map fitted on the whole
    validation season is kept.
    """
    n = len(y_va)

    def fit(rows):
        if market == '1x2':
            return {'T': fit_temperature(raw_val[rows], y_va[rows])}
        a, b = fit_platt(raw_val[rows, 1], y_va[rows])
        return {'a': a, 'b': b}

    def apply(params, rows):
        if market == '1x2':
            return apply_temperature(raw_val[rows], params['T'])
        return apply_platt(raw_val[rows, 1], params['a'], params['b'])

    oof = np.zeros_like(raw_val, dtype=np.float64)
    for fold in blocked_folds(n, CALIBRATION_FOLDS):
        rest = np.setdiff1d(np.arange(n), fold)
        oof[fold] = apply(fit(rest), fold)
    full = fit(np.arange(n))
    uncalibrated_ll = metrics(raw_val, y_va)['logLoss']
    cross_fitted_ll = metrics(oof, y_va)['logLoss']
    keep = bool(cross_fitted_ll < uncalibrated_ll) or force
    method = ('temperature' if market == '1x2' else 'platt') if keep else 'none'
    evidence = {
        'candidate': 'temperature' if market == '1x2' else 'platt',
        'fittedOn': 'validation',
        'candidateParameters': full,
        'folds': CALIBRATION_FOLDS,
        'validationLogLossUncalibrated': uncalibrated_ll,
        'validationLogLossCrossFitted': cross_fitted_ll,
        'validationLogLossInSample': metrics(apply(full, np.arange(n)), y_va)['logLoss'],
        'kept': bool(keep),
        'forced': bool(force),
    }
    log(f'{market} calibration {evidence["candidate"]} {full}: cross-fitted {cross_fitted_ll:.5f} vs '
        f'uncalibrated {uncalibrated_ll:.5f} -> {"keep" if keep else "drop"}')
    return ({'method': method, **full} if keep else {'method': 'none'}), evidence


def calibrate(market: str, calibration: dict, raw: np.ndarray) -> np.ndarray:
    if calibration['method'] == 'temperature':
        return apply_temperature(raw, calibration['T'])
    if calibration['method'] == 'platt':
        return apply_platt(raw[:, 1], calibration['a'], calibration['b'])
    return np.asarray(raw, dtype=np.float64)


def onnx_parity(model, booster, market, X_check) -> dict:
    expected = predict_probs(market, booster, X_check)
    got = reference_predict(model, X_check)
    diff = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))
    nan_rows = int(np.sum(np.isnan(X_check).any(axis=1)))
    if not diff <= PARITY_TOLERANCE:
        raise SystemExit(f'{market}: ONNX reference output differs from xgboost by {diff:.3g} > {PARITY_TOLERANCE}')
    return {'rows': int(len(X_check)), 'rowsWithNaN': nan_rows, 'maxAbsDiff': diff, 'tolerance': PARITY_TOLERANCE}


def check_rows(X_real: np.ndarray, n_features: int) -> np.ndarray:
    """Real rows plus synthetic ones that force the missing-value branches: all-NaN, and random masks."""
    rng = np.random.default_rng(SEED)
    take = X_real[rng.choice(len(X_real), size=min(len(X_real), 400), replace=False)]
    masked = take.copy()
    masked[rng.random(masked.shape) < 0.3] = np.nan
    return np.concatenate([X_real, masked, np.full((1, n_features), np.nan, dtype=np.float32)]).astype(np.float32)


def parity_rows(data: Dataset, test_idx: np.ndarray) -> np.ndarray:
    """~200 test-season rows: evenly spread through the season plus those with the most missing values."""
    if len(test_idx) <= PARITY_ROWS:
        return test_idx
    spread = test_idx[np.linspace(0, len(test_idx) - 1, PARITY_ROWS * 3 // 4).astype(int)]
    nan_count = np.isnan(data.X[test_idx]).sum(axis=1)
    most_missing = test_idx[np.argsort(-nan_count, kind='stable')]
    chosen = list(dict.fromkeys(spread.tolist()))
    for i in most_missing.tolist():
        if len(chosen) >= PARITY_ROWS:
            break
        if i not in chosen:
            chosen.append(i)
    return np.array(sorted(chosen))


def market_reference_figures(data: Dataset, boosters, calibration, rows: np.ndarray) -> dict:
    """Model vs Pinnacle's normalised pre-match probabilities on the same rows (those where Pinnacle is known)."""
    out = {}
    for market, columns in MARKET_REFERENCE.items():
        if not all(c in data.feature_names for c in columns):
            continue
        market_p = data.X[rows][:, [data.feature_names.index(c) for c in columns]].astype(np.float64)
        if market == 'ou25':
            market_p = np.concatenate([1.0 - market_p, market_p], axis=1)
        known = ~np.isnan(market_p).any(axis=1) & (market_p > 0).all(axis=1)
        if not known.any():
            continue
        market_p = market_p[known] / market_p[known].sum(axis=1, keepdims=True)
        y = data.labels[market][rows[known]]
        model_p = calibrate(market, calibration[market], predict_probs(market, boosters[market], data.X[rows[known]]))
        out[market] = {'rows': int(known.sum()), 'model': _strip_rows(metrics(model_p, y)),
                       'pinnacle': _strip_rows(metrics(market_p, y))}
    return out


def _json_float(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def top_features(booster, names, k=12):
    gain = booster.get_score(importance_type='total_gain')
    total = sum(gain.values()) or 1.0
    ranked = sorted(((names[int(f[1:])], g / total) for f, g in gain.items()), key=lambda x: -x[1])
    return [{'feature': n, 'gainShare': round(s, 4)} for n, s in ranked[:k]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--features', required=True, help='CSV from the TypeScript feature export')
    ap.add_argument('--out', required=True, help='bundle directory; its name is the run id')
    ap.add_argument('--feature-version', default='v1')
    ap.add_argument('--validation-season', default='2022-23')
    ap.add_argument('--test-season', default='2023-24')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--smoke', action='store_true', help='tiny model, seconds: for the test suite')
    ap.add_argument('--force-calibration', action='store_true',
                    help='smoke only: keep the calibration maps whatever the rule says, so tests exercise them')
    args = ap.parse_args(argv)
    if args.force_calibration and not args.smoke:
        ap.error('--force-calibration is for --smoke runs only: a real bundle follows the keep/drop rule')
    started, cpu_started = time.time(), time.process_time()

    run_id = os.path.basename(os.path.normpath(args.out))
    if not RUN_ID.match(run_id):
        raise SystemExit(f'run id (the --out directory name) must match {RUN_ID.pattern}: {run_id!r}')
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f'{args.out} exists and is not empty; a bundle is never overwritten')

    data = Dataset(args.features)
    windows, idx, ignored = split_windows(data, args.validation_season, args.test_season)
    train_idx = idx['train'][-SMOKE_TRAIN_ROWS:] if args.smoke else idx['train']
    log(f'{len(data.match_id)} rows; train {windows["train"]} {len(train_idx)}, validation {windows["validation"]} '
        f'{len(idx["validation"])}, test {windows["test"]} {len(idx["test"])}; later seasons ignored: {ignored}')

    grid, base = (SMOKE_GRID, SMOKE_PARAMS) if args.smoke else (GRID, COMMON_PARAMS)
    rounds, early = (SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING) if args.smoke else (MAX_ROUNDS, EARLY_STOPPING)
    X_tr, X_va = data.X[train_idx], data.X[idx['validation']]

    # --- everything below until "frozen" sees the train and validation seasons only ---------------------
    boosters, hyper, tuning, calibration, selection, val_metrics = {}, {}, {}, {}, {}, {}
    for market in MARKETS:
        y_tr, y_va = data.labels[market][train_idx], data.labels[market][idx['validation']]
        boosters[market], hyper[market], tuning[market] = tune(
            market, X_tr, y_tr, X_va, y_va, grid, base, rounds, early, args.threads)
        raw_val = predict_probs(market, boosters[market], X_va)
        calibration[market], selection[market] = choose_calibration(market, raw_val, y_va, args.force_calibration)
        val_metrics[market] = {**metrics(calibrate(market, calibration[market], raw_val), y_va),
                               'uncalibrated': _strip_rows(metrics(raw_val, y_va))}
    # --- frozen: models, hyper-parameters and calibration are fixed from here on ------------------------

    os.makedirs(args.out, exist_ok=True)
    conversion = {}
    for market in MARKETS:
        model = to_onnx(boosters[market], N_FEATURES, name=f'senzu_{market}', metadata={
            'market': market, 'classes': json.dumps(CLASSES[market]), 'featureVersion': args.feature_version,
            'featureNames': json.dumps(data.feature_names), 'runId': run_id})
        path = os.path.join(args.out, FILES[market])
        with open(path, 'wb') as fh:
            fh.write(model.SerializeToString())
        reloaded = check_model_file(path)
        X_check = check_rows(np.concatenate([X_va, data.X[idx['test']]]), N_FEATURES)
        conversion[market] = onnx_parity(reloaded, boosters[market], market, X_check)
        log(f'{market} ONNX vs xgboost: max |diff| {conversion[market]["maxAbsDiff"]:.3g} over '
            f'{conversion[market]["rows"]} rows ({conversion[market]["rowsWithNaN"]} with NaN)')

    test_metrics, parity_probs = {}, {}
    X_te = data.X[idx['test']]
    for market in MARKETS:
        raw_test = predict_probs(market, boosters[market], X_te)
        y_te = data.labels[market][idx['test']]
        test_metrics[market] = {**metrics(calibrate(market, calibration[market], raw_test), y_te),
                                'uncalibrated': _strip_rows(metrics(raw_test, y_te))}

    market_reference = {w: market_reference_figures(data, boosters, calibration, idx[w]) for w in ('validation', 'test')}

    chosen = parity_rows(data, idx['test'])
    rows_out = []
    raw_parity = {m: predict_probs(m, boosters[m], data.X[chosen]) for m in MARKETS}
    cal_parity = {m: calibrate(m, calibration[m], raw_parity[m]) for m in MARKETS}
    for j, i in enumerate(chosen):
        rows_out.append({
            'matchId': data.match_id[i],
            'startAt': data.start_at[i],
            'features': [_json_float(v) for v in data.X[i]],
            'raw': {m: [float(v) for v in raw_parity[m][j]] for m in MARKETS},
            'calibrated': {m: [float(v) for v in cal_parity[m][j]] for m in MARKETS},
        })
    parity = {
        'bundleId': run_id, 'featureNames': data.feature_names, 'classes': CLASSES,
        'tolerance': 1e-5,
        'note': 'features: float32 values (null = NaN); raw: xgboost predict_proba; calibrated: raw through bundle.calibration',
        'rows': rows_out,
    }
    with open(os.path.join(args.out, PARITY_FILE), 'w') as fh:
        json.dump(parity, fh, separators=(',', ':'))

    files = {name: _sha256_file(os.path.join(args.out, name)) for name in (FILES['1x2'], FILES['ou25'], PARITY_FILE)}
    bundle = {
        'id': run_id,
        'createdAt': dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z'),
        'featureVersion': args.feature_version,
        'featureNames': data.feature_names,
        'windows': windows,
        'hyperParameters': hyper,
        'calibration': calibration,
        'metrics': {'validation': val_metrics, 'test': test_metrics},
        'files': files,
        'models': {m: {'file': FILES[m], 'input': INPUT_NAME, 'outputs': {'label': OUTPUT_LABEL, 'probabilities': OUTPUT_PROBABILITIES},
                       'classes': CLASSES[m]} for m in MARKETS},
        'training': {
            'smoke': bool(args.smoke),
            'sourceSha256': data.sha256,
            'rows': {k: int(len(v)) for k, v in (('train', train_idx), ('validation', idx['validation']), ('test', idx['test']))},
            'laterSeasonRowsIgnored': ignored,
            'refit': 'none: the shipped models are trained on the train window only',
            'tuning': tuning,
            'calibrationSelection': selection,
            'onnxConversion': conversion,
            'marketReference': market_reference,
            'topFeatures': {m: top_features(boosters[m], data.feature_names) for m in MARKETS},
            'metricDefinitions': {
                'logLoss': 'mean of -ln p(outcome)',
                'brier': 'mean of sum over the K outcomes of (p_k - y_k)^2 (K = 3 for 1x2, 2 for ou25)',
                'accuracy': 'share of rows whose most probable outcome happened',
            },
            'software': {'xgboost': xgb.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0]},
            'seconds': None,
            'cpuSeconds': None,
        },
    }
    bundle['training']['seconds'] = round(time.time() - started, 1)
    bundle['training']['cpuSeconds'] = round(time.process_time() - cpu_started, 1)
    with open(os.path.join(args.out, 'bundle.json'), 'w') as fh:
        json.dump(bundle, fh, indent=2)
        fh.write('\n')
    log(f'bundle {run_id} written to {args.out} in {bundle["training"]["seconds"]} s')
    for m in MARKETS:
        v, t = val_metrics[m], test_metrics[m]
        log(f'{m}: validation logloss {v["logLoss"]:.4f} (uncal {v["uncalibrated"]["logLoss"]:.4f}); '
            f'test logloss {t["logLoss"]:.4f} brier {t["brier"]:.4f} acc {t["accuracy"]:.3f}')
        ref = market_reference['test'].get(m)
        if ref:
            log(f'{m}: test, {ref["rows"]} rows with Pinnacle: model {ref["model"]["logLoss"]:.4f} vs '
                f'Pinnacle {ref["pinnacle"]["logLoss"]:.4f}')
    print(json.dumps({'id': run_id, 'out': args.out}))
    return 0


def _strip_rows(m: dict) -> dict:
    return {k: v for k, v in m.items() if k != 'rows'}


if __name__ == '__main__':
    sys.exit(main())
