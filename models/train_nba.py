#!/usr/bin/python3
"""Train the NBA moneyline model on top of the closing market, for one test season (one rolling-origin fold).

    /usr/bin/python3 models/train_nba.py --features <nba-v1 export.csv> --out <dir> \
        --validation-season 2020-21 --test-season 2021-22 [--smoke] [--trees auto|force|none]

Input: `npm run features:export -- --sport basketball` (scripts/lib/nba/features.ts), one row per game:
  match_id,start_at,date,season,home_team,away_team,label_home_win, <nba-v1 features>, anchor_h2h_<method>_home
label_home_win: 1 home win / 0 away win, empty = not finished; `nan` = missing feature; an empty anchor = the
game has no closing moneyline (such a game is neither trained on nor predicted).

The market is the prior, as for football (models/train.py, models/README.md): binary logistic XGBoost with
base_margin = logit(margin-free closing home probability), so the trees learn a correction on top of the price
and a model with no trees is the market exactly. The recipe, the same as football's:
  margin method  the one whose anchor has the lowest log loss on the validation season
  train          every season before the validation season
  tuning         a small grid, early-stopped on the first half of the validation season (in date order)
  evidence       the trees are kept only if they beat the anchor on the tuning half and the upper end of the
                 paired bootstrap 95% interval of (model - anchor) log loss on the second half is below 0
                 (--trees auto); otherwise the model has no trees and predicts the market
  refit          the kept recipe retrained on every season up to and including the validation season
  test           the test season's games are predicted once and written out; nothing is chosen on them
Output in --out: predictions.csv (match_id,p_home for every finished test game with a moneyline),
model-h2h.onnx (the trees' margins, as football's bundles carry them; no trees = an empty ensemble) and
model.json (the choices and their evidence). The evaluation is TypeScript's (npm run evaluate -- --sport
basketball --rolling), on these predictions.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import xgboost as xgb  # noqa: E402

from anchored import logit, metrics, paired_bootstrap, row_log_loss, sigmoid  # noqa: E402
from xgb_onnx import INPUT_NAME, OUTPUT_MARGIN, check_model_file, n_trees, reference_margins, to_onnx  # noqa: E402

FEATURE_VERSION = 'nba-v1'
META_COLUMNS = ['match_id', 'start_at', 'date', 'season', 'home_team', 'away_team', 'label_home_win']
METHODS = ('multiplicative', 'shin', 'power')
ANCHOR_COLUMNS = [f'anchor_h2h_{m}_home' for m in METHODS]
SEED = 20240801
SEASON = re.compile(r'^\d{4}-\d{2}$')

# What the closing moneyline may under-weight: fatigue (rest, back-to-backs, travel), a rating that reads the
# margins of victory, the neutral site, the season's progress; and the price itself, its margin and the other
# two closing lines, so a tree can bend the favourite-longshot shape of the anchor.
MODEL_FEATURES = ['mkt_p_home', 'mkt_overround', 'mkt_spread_home', 'mkt_total', 'elo_p_home', 'neutral_site',
                  'rest_home', 'rest_away', 'b2b_home', 'b2b_away', 'rest_advantage', 'travel_home_km',
                  'travel_away_km', 'season_games_home', 'season_games_away']

# Regularised hard, as football's: shallow trees, leaves needing many games' worth of curvature
# (min_child_weight is a sum of hessians, about 0.2 a game), strong L2, a small learning rate.
COMMON_PARAMS = {'eta': 0.03, 'subsample': 0.8, 'colsample_bytree': 1.0, 'tree_method': 'hist', 'max_bin': 256,
                 'objective': 'binary:logistic', 'eval_metric': 'logloss'}
GRID = [{'max_depth': d, 'min_child_weight': m, 'reg_lambda': lam} for d in (1, 2) for m in (50, 200) for lam in (10, 100)]
MAX_ROUNDS, EARLY_STOPPING = 500, 50
SMOKE_GRID = [{'max_depth': 2, 'min_child_weight': 5, 'reg_lambda': 1}]
SMOKE_PARAMS = {**COMMON_PARAMS, 'eta': 0.3}
SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING = 12, 4
EVIDENCE = {'confidence': 0.95, 'resamples': 2000}
CONVERSION_TOLERANCE = 1e-6


def log(msg: str) -> None:
    print(f'[train-nba] {msg}', file=sys.stderr, flush=True)


def _cell(value: str) -> float:
    return math.nan if value in ('', 'nan', 'NaN', 'null') else float(value)


def two_way(p_home: np.ndarray) -> np.ndarray:
    """[N] home probabilities -> [N, 2] [away, home], so that label 1 (home win) indexes the home column."""
    p_home = np.asarray(p_home, dtype=np.float64).reshape(-1)
    return np.stack([1.0 - p_home, p_home], axis=1)


class Dataset:
    def __init__(self, path: str):
        with open(path, newline='', encoding='utf-8') as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [r for r in reader if r]
        if header[:len(META_COLUMNS)] != META_COLUMNS or header[-len(ANCHOR_COLUMNS):] != ANCHOR_COLUMNS:
            raise SystemExit(f'{path}: not an {FEATURE_VERSION} export (npm run features:export -- --sport basketball)')
        self.feature_names = header[len(META_COLUMNS):-len(ANCHOR_COLUMNS)]
        missing = [f for f in MODEL_FEATURES if f not in self.feature_names]
        if missing:
            raise SystemExit(f'{path}: the model needs features the export does not have: {missing}')
        bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
        if bad:
            raise SystemExit(f'{path}: row {bad[0] + 2} has {len(rows[bad[0]])} cells, the header {len(header)}')
        rows.sort(key=lambda r: (r[2], int(r[0])))  # date order: the validation halves are blocks of time
        col = {name: i for i, name in enumerate(header)}
        self.match_id = [r[0] for r in rows]
        self.season = np.array([r[3] for r in rows])
        self.label = np.array([int(r[6]) if r[6] != '' else -1 for r in rows])
        if not set(np.unique(self.label)) <= {-1, 0, 1}:
            raise SystemExit(f'{path}: label_home_win must be 0, 1 or empty')
        self.X = np.array([[_cell(r[col[f]]) for f in MODEL_FEATURES] for r in rows], dtype=np.float32)
        if np.isinf(self.X).any():
            raise SystemExit(f'{path}: infinite feature values; missing must be nan')
        self.anchors = {m: np.array([_cell(r[col[f'anchor_h2h_{m}_home']]) for r in rows]) for m in METHODS}
        present = ~np.isnan(self.anchors[METHODS[0]])
        for m in METHODS:
            a = self.anchors[m]
            if (np.isnan(a) != ~present).any() or (a[present] <= 0).any() or (a[present] >= 1).any():
                raise SystemExit(f'{path}: anchor_h2h_{m}_home must be a probability exactly where the game has a moneyline')
        dated = np.array([bool(SEASON.match(s)) for s in self.season])
        self.usable = (self.label >= 0) & present & dated


def split(data: Dataset, validation: str, test: str):
    seasons = sorted(set(data.season[data.usable]))
    if validation not in seasons or test not in seasons or not validation < test:
        raise SystemExit(f'need finished games with a moneyline in {validation} and, after it, {test}; present: {seasons}')
    between = [s for s in seasons if validation < s < test]
    if between:
        raise SystemExit(f'seasons between validation and test are not allowed: {between}')
    if not any(s < validation for s in seasons):
        raise SystemExit(f'no season before the validation season {validation}')
    u = data.usable
    return {
        'train': np.nonzero(u & (data.season < validation))[0],
        'validation': np.nonzero(u & (data.season == validation))[0],
        'refit': np.nonzero(u & (data.season <= validation))[0],
        'test': np.nonzero(u & (data.season == test))[0],
    }


def predict(booster, X, margin) -> np.ndarray:
    """Home probabilities; with no trees, the anchor itself (sigmoid(logit a) = a)."""
    if booster is None:
        return sigmoid(margin)
    return booster.predict(xgb.DMatrix(X, missing=np.nan, base_margin=margin)).astype(np.float64)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--validation-season', required=True)
    ap.add_argument('--test-season', required=True)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--smoke', action='store_true', help='tiny model, seconds: for the test suite')
    ap.add_argument('--trees', choices=('auto', 'force', 'none'), default='auto',
                    help='auto: keep trees only where the evidence rule supports them; force (smoke only); none: the market')
    args = ap.parse_args(argv)
    if args.trees == 'force' and not args.smoke:
        ap.error('--trees force is for --smoke runs only: a real model follows the evidence rule')
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f'{args.out} exists and is not empty')
    started = time.time()
    data = Dataset(args.features)
    idx = split(data, args.validation_season, args.test_season)
    log(f'train {len(idx["train"])} games, validation {args.validation_season} {len(idx["validation"])}, '
        f'refit {len(idx["refit"])}, test {args.test_season} {len(idx["test"])}')
    grid, base = (SMOKE_GRID, SMOKE_PARAMS) if args.smoke else (GRID, COMMON_PARAMS)
    max_rounds, early = (SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING) if args.smoke else (MAX_ROUNDS, EARLY_STOPPING)
    y, X = data.label, data.X

    # --- everything until "frozen" sees the seasons up to the validation season only ---------------------
    va = idx['validation']
    losses = {m: float(np.mean(row_log_loss(two_way(data.anchors[m][va]), y[va]))) for m in METHODS}
    method = min(METHODS, key=lambda m: (losses[m], METHODS.index(m)))
    log(f'margin method {method} (validation log loss of the anchor: ' + ', '.join(f'{k} {v:.5f}' for k, v in losses.items()) + ')')
    margin = np.zeros(len(y))
    anchored = ~np.isnan(data.anchors[method])
    margin[anchored] = logit(data.anchors[method][anchored])

    tu, confirm = va[:len(va) // 2], va[len(va) // 2:]
    tr = idx['train']
    dtrain = xgb.DMatrix(X[tr], label=y[tr], missing=np.nan, base_margin=margin[tr])
    dtune = xgb.DMatrix(X[tu], label=y[tu], missing=np.nan, base_margin=margin[tu])
    stop = None if args.trees == 'force' else early
    best, grid_results = None, []
    for point in grid:
        params = {**base, **point, 'nthread': args.threads, 'seed': SEED}
        booster = xgb.train(params, dtrain, num_boost_round=max_rounds, evals=[(dtune, 'tune')],
                            early_stopping_rounds=stop, verbose_eval=False)
        rounds = booster.best_iteration + 1 if stop else max_rounds
        booster = booster[:rounds]
        ll = float(np.mean(row_log_loss(two_way(predict(booster, X[tu], margin[tu])), y[tu])))
        grid_results.append({**point, 'rounds': rounds, 'tuningLogLoss': round(ll, 6)})
        if best is None or ll < best[0]:
            best = (ll, params, rounds, booster)
    tune_ll, params, rounds, tuned = best
    anchor_tune = float(np.mean(row_log_loss(two_way(sigmoid(margin[tu])), y[tu])))
    diff = (row_log_loss(two_way(predict(tuned, X[confirm], margin[confirm])), y[confirm])
            - row_log_loss(two_way(sigmoid(margin[confirm])), y[confirm]))
    interval = paired_bootstrap(diff, resamples=EVIDENCE['resamples'], seed=SEED, confidence=EVIDENCE['confidence'])
    supported = bool(tune_ll < anchor_tune and interval['upper'] < 0)
    keep = {'auto': supported, 'force': True, 'none': False}[args.trees]
    log(f'tuned {({k: params[k] for k in grid[0]})} rounds={rounds}: tuning log loss {tune_ll:.5f} vs anchor {anchor_tune:.5f}; '
        f'confirmation model - anchor {interval["estimate"]:+.5f} [{interval["lower"]:+.5f}, {interval["upper"]:+.5f}] '
        f'-> {"keep" if keep else "no trees"}')
    booster = None
    if keep:
        refit = idx['refit']
        booster = xgb.train(params, xgb.DMatrix(X[refit], label=y[refit], missing=np.nan, base_margin=margin[refit]),
                            num_boost_round=rounds)
    # --- frozen ---------------------------------------------------------------------------------------

    os.makedirs(args.out, exist_ok=True)
    onnx_model = to_onnx(booster, len(MODEL_FEATURES), list(range(len(MODEL_FEATURES))), 1, name='senzu_nba_h2h',
                         metadata={'market': 'h2h', 'outputs': json.dumps(['away', 'home']), 'featureVersion': FEATURE_VERSION,
                                   'featureNames': json.dumps(MODEL_FEATURES), 'marginMethod': method})
    onnx_path = os.path.join(args.out, 'model-h2h.onnx')
    with open(onnx_path, 'wb') as fh:
        fh.write(onnx_model.SerializeToString())
    te = idx['test']
    got = reference_margins(check_model_file(onnx_path), X[te]).astype(np.float64).reshape(-1)
    expected = (np.zeros(len(te)) if booster is None else
                booster.predict(xgb.DMatrix(X[te], missing=np.nan, base_margin=np.zeros(len(te))), output_margin=True))
    conversion = float(np.max(np.abs(got - expected))) if len(te) else 0.0
    if not conversion <= CONVERSION_TOLERANCE:
        raise SystemExit(f'ONNX margins differ from xgboost by {conversion:.3g}')

    p_test = predict(booster, X[te], margin[te])
    with open(os.path.join(args.out, 'predictions.csv'), 'w', newline='') as fh:
        w = csv.writer(fh, lineterminator='\n')
        w.writerow(['match_id', 'p_home'])
        for i, p in zip(te.tolist(), p_test.tolist()):
            w.writerow([data.match_id[i], repr(float(p))])
    model = {
        'featureVersion': FEATURE_VERSION,
        'market': 'h2h',
        'windows': {'train': sorted(set(data.season[idx['train']].tolist())), 'validation': args.validation_season,
                    'test': args.test_season},
        'rows': {k: int(len(v)) for k, v in idx.items()},
        'features': MODEL_FEATURES,
        'marginMethod': {'chosen': method, 'validationLogLoss': losses},
        'trees': n_trees(booster),
        'hyperParameters': {**{k: v for k, v in params.items() if k != 'nthread'}, 'n_estimators': rounds if keep else 0},
        'evidence': {'tuningRows': int(len(tu)), 'confirmationRows': int(len(confirm)),
                     'tuningLogLoss': {'anchor': anchor_tune, 'model': tune_ll}, 'confirmation': interval,
                     'supported': supported, 'trees': args.trees, 'kept': bool(keep)},
        'tuning': grid_results,
        'onnx': {'file': 'model-h2h.onnx', 'input': INPUT_NAME, 'output': OUTPUT_MARGIN, 'maxAbsDiff': conversion},
        'test': metrics(two_way(p_test), y[te]) if len(te) else None,
        'smoke': bool(args.smoke),
        'software': {'xgboost': xgb.__version__, 'numpy': np.__version__},
        'seconds': round(time.time() - started, 1),
    }
    with open(os.path.join(args.out, 'model.json'), 'w') as fh:
        json.dump(model, fh, indent=2)
        fh.write('\n')
    log(f'{args.test_season}: {len(te)} games predicted, {model["trees"]} trees, in {model["seconds"]} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
