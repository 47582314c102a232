#!/usr/bin/python3
"""Train the NBA moneyline model on top of the closing market: one rolling-origin fold, or the shipped bundle.

    fold:   /usr/bin/python3 models/train_nba.py --features <nba-v1 export.csv> --out <dir> \
                --validation-season 2020-21 --test-season 2021-22 [--smoke] [--trees auto|force|none]
    bundle: /usr/bin/python3 models/train_nba.py --features <nba-v1 export.csv> --out models/bundles/<run-id> \
                --validation-season 2021-22 --bundle [--attach evaluation.json] [--smoke] [--trees ...]

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
  test           (fold only) the test season's games are predicted once and written out; nothing is chosen on them
Fold output in --out: predictions.csv (match_id,p_home for every finished test game with a moneyline),
model-h2h.onnx (the trees' margins, as football's bundles carry them; no trees = an empty ensemble) and
model.json (the choices and their evidence). The evaluation is TypeScript's (npm run evaluate -- --sport
basketball --rolling), on these predictions.
Bundle output (--bundle; no test season: the shipped model is refitted through the validation season, which
`npm run model:train -- --sport basketball` sets to the last one): model-h2h.onnx, parity.json (rows of the
validation season with the whole nba-v1 vector, the anchor and xgboost's probabilities, for the TypeScript
runtime's parity test), the --attach files, and bundle.json (src/services/inference/bundle.ts reads it), which
lists each file's sha256. Its directory's name is the run id.
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
FORMAT = 2
SPORT = 'basketball'
ONNX_FILE = 'model-h2h.onnx'
PARITY_FILE = 'parity.json'
PARITY_ROWS = 200
RUN_ID = re.compile(r'^[a-z0-9][a-z0-9._-]{2,80}$')


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
        self.start_at = [r[1] for r in rows]
        self.date = [r[2] for r in rows]
        # The whole vector, for the parity file: the runtime is handed all of it and picks the model's columns.
        self.full = np.array([[_cell(v) for v in r[len(META_COLUMNS):-len(ANCHOR_COLUMNS)]] for r in rows], dtype=np.float32)
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
        self.finished = (self.label >= 0) & dated
        self.sha256 = _sha256_file(path)


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def split(data: Dataset, validation: str, test: str | None):
    """The row sets of a fold; with no test season (the shipped model), nothing is held out after the validation season."""
    seasons = sorted(set(data.season[data.usable]))
    if test is None:
        if validation not in seasons:
            raise SystemExit(f'need finished games with a moneyline in {validation}; present: {seasons}')
    else:
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
        'test': np.array([], dtype=int) if test is None else np.nonzero(u & (data.season == test))[0],
    }


def predict(booster, X, margin) -> np.ndarray:
    """Home probabilities; with no trees, the anchor itself (sigmoid(logit a) = a)."""
    if booster is None:
        return sigmoid(margin)
    return booster.predict(xgb.DMatrix(X, missing=np.nan, base_margin=margin)).astype(np.float64)


def fit(data: Dataset, idx: dict, args) -> dict:
    """The recipe up to the refit: margin method, tuning, evidence, refit. Sees the seasons up to the validation one."""
    grid, base = (SMOKE_GRID, SMOKE_PARAMS) if args.smoke else (GRID, COMMON_PARAMS)
    max_rounds, early = (SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING) if args.smoke else (MAX_ROUNDS, EARLY_STOPPING)
    y, X = data.label, data.X

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
    return {
        'method': method, 'losses': losses, 'margin': margin, 'anchored': anchored, 'booster': booster, 'keep': keep,
        'params': params, 'rounds': rounds, 'grid': grid_results, 'gridKeys': list(grid[0]), 'confirm': confirm,
        'hyper': {**{k: v for k, v in params.items() if k != 'nthread'}, 'n_estimators': rounds if keep else 0},
        'evidence': {'tuningRows': int(len(tu)), 'confirmationRows': int(len(confirm)),
                     'tuningLogLoss': {'anchor': anchor_tune, 'model': tune_ll}, 'confirmation': interval,
                     'supported': supported, 'trees': args.trees, 'kept': bool(keep)},
    }


def write_onnx(data: Dataset, model_fit: dict, out: str, check_rows: np.ndarray, metadata: dict) -> dict:
    """model-h2h.onnx, checked against xgboost's trees-only margins on `check_rows` and on NaN-heavy copies of them."""
    booster = model_fit['booster']
    onnx_model = to_onnx(booster, len(MODEL_FEATURES), list(range(len(MODEL_FEATURES))), 1, name='senzu_nba_h2h',
                         metadata={'market': 'h2h', 'outputs': json.dumps(['away', 'home']), 'featureVersion': FEATURE_VERSION,
                                   'featureNames': json.dumps(MODEL_FEATURES), 'marginMethod': model_fit['method'], **metadata})
    path = os.path.join(out, ONNX_FILE)
    with open(path, 'wb') as fh:
        fh.write(onnx_model.SerializeToString())
    X = data.X[check_rows]
    if len(X):
        rng = np.random.default_rng(SEED)
        masked = X[rng.choice(len(X), size=min(len(X), 400), replace=False)].copy()
        masked[rng.random(masked.shape) < 0.3] = np.nan
        X = np.concatenate([X, masked, np.full((1, X.shape[1]), np.nan, dtype=np.float32)])
    got = reference_margins(check_model_file(path), X).astype(np.float64).reshape(-1)
    expected = (np.zeros(len(X)) if booster is None else
                booster.predict(xgb.DMatrix(X, missing=np.nan, base_margin=np.zeros(len(X))), output_margin=True))
    diff = float(np.max(np.abs(got - expected))) if len(X) else 0.0
    if not diff <= CONVERSION_TOLERANCE:
        raise SystemExit(f'ONNX margins differ from xgboost by {diff:.3g}')
    return {'file': ONNX_FILE, 'input': INPUT_NAME, 'output': OUTPUT_MARGIN, 'rows': int(len(X)), 'maxAbsDiff': diff,
            'tolerance': CONVERSION_TOLERANCE}


def parity_rows(data: Dataset, rows: np.ndarray) -> np.ndarray:
    """~200 rows: evenly spread, plus the most missing values; the season's finished games without a moneyline too."""
    chosen = rows if len(rows) <= PARITY_ROWS else np.unique(rows[np.linspace(0, len(rows) - 1, PARITY_ROWS * 3 // 4).astype(int)])
    most_missing = rows[np.argsort(-np.isnan(data.full[rows]).sum(axis=1), kind='stable')][:PARITY_ROWS // 4]
    return np.unique(np.concatenate([chosen, most_missing]).astype(int))


def _json_float(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def write_bundle(data: Dataset, idx: dict, model_fit: dict, args, run_id: str, started: float, cpu_started: float) -> None:
    os.makedirs(args.out, exist_ok=True)
    va = idx['validation']
    conversion = write_onnx(data, model_fit, args.out, va, {'runId': run_id})
    log(f'ONNX vs xgboost margins: max |diff| {conversion["maxAbsDiff"]:.3g} over {conversion["rows"]} rows; '
        f'{n_trees(model_fit["booster"])} trees')

    # Parity: xgboost's own probabilities (anchor as base_margin), which the TypeScript runtime must give back.
    method, booster = model_fit['method'], model_fit['booster']
    season = data.season == args.validation_season
    unpriced = np.nonzero(data.finished & season & ~model_fit['anchored'])[0][:10]
    chosen = np.unique(np.concatenate([parity_rows(data, va), unpriced]).astype(int))
    out_rows = []
    for i in chosen.tolist():
        if model_fit['anchored'][i]:
            a = float(data.anchors[method][i])
            p = float(predict(booster, data.X[[i]], model_fit['margin'][[i]])[0])
            anchor, expected = [a, 1.0 - a], [p, 1.0 - p]
        else:
            anchor = expected = None
        out_rows.append({'matchId': data.match_id[i], 'startAt': data.start_at[i],
                         'features': [_json_float(v) for v in data.full[i]], 'anchor': anchor, 'expected': expected})
    parity = {
        'bundleId': run_id, 'featureVersion': FEATURE_VERSION, 'featureNames': data.feature_names, 'outputs': ['home', 'away'],
        'tolerance': 1e-6,
        'note': f'features: the whole {FEATURE_VERSION} vector (null = NaN); anchor: margin-free closing [home, away] '
                f'under the bundle\'s margin method (null = no moneyline); expected: xgboost with logit(anchor home) as '
                f'base_margin, [home, away] (null = no prediction)',
        'rows': out_rows,
    }
    with open(os.path.join(args.out, PARITY_FILE), 'w') as fh:
        json.dump(parity, fh, separators=(',', ':'))

    for path in args.attach:
        name = os.path.basename(path)
        if name in (ONNX_FILE, PARITY_FILE, 'bundle.json'):
            raise SystemExit(f'--attach {path}: {name} is a file the bundle writes itself')
        with open(path, 'rb') as src, open(os.path.join(args.out, name), 'wb') as dst:
            dst.write(src.read())
    attached = [os.path.basename(p) for p in args.attach]
    files = {name: _sha256_file(os.path.join(args.out, name)) for name in (ONNX_FILE, PARITY_FILE, *attached)}

    confirm = model_fit['confirm']
    y = data.label
    confirmation = None
    if len(confirm):
        confirmation = {'rows': int(len(confirm)),
                        'model': metrics(two_way(predict(booster, data.X[confirm], model_fit['margin'][confirm])), y[confirm]),
                        'anchor': metrics(two_way(sigmoid(model_fit['margin'][confirm])), y[confirm])}
    refit = idx['refit']
    train_seasons = sorted(set(data.season[idx['train']].tolist()))
    bundle = {
        'id': run_id,
        'format': FORMAT,
        'sport': SPORT,
        'createdAt': dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z'),
        'featureVersion': FEATURE_VERSION,
        'featureNames': MODEL_FEATURES,
        'windows': {'train': [train_seasons[0], train_seasons[-1]], 'validation': args.validation_season,
                    'refit': [train_seasons[0], args.validation_season], 'test': None},
        # The US dates of the first and last game the shipped trees were fitted on (the refit window).
        'trainedOn': {'from': data.date[int(refit.min())], 'to': data.date[int(refit.max())]},
        'anchor': {'h2h': {'marginMethod': method, 'source': 'closing consensus'}},
        'models': {'h2h': {'file': ONNX_FILE, 'input': INPUT_NAME, 'output': OUTPUT_MARGIN, 'outputs': ['home'],
                           'features': MODEL_FEATURES, 'trees': n_trees(booster)}},
        'hyperParameters': {'h2h': model_fit['hyper']},
        'metrics': {'validationConfirmation': {'h2h': confirmation}},
        'files': files,
        'training': {
            'smoke': bool(args.smoke),
            'sourceSha256': data.sha256,
            'rows': {k: int(len(v)) for k, v in idx.items() if k != 'test'},
            'laterSeasonRowsIgnored': int(np.sum(data.usable & (data.season > args.validation_season))),
            'marginMethodSelection': {'h2h': {'chosen': method, 'validationLogLoss': model_fit['losses']}},
            'evidence': {'h2h': model_fit['evidence']},
            'tuning': {'h2h': model_fit['grid']},
            'onnxConversion': {'h2h': conversion},
            'software': {'xgboost': xgb.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0]},
            'seconds': round(time.time() - started, 1),
            'cpuSeconds': round(time.process_time() - cpu_started, 1),
        },
    }
    with open(os.path.join(args.out, 'bundle.json'), 'w') as fh:
        json.dump(bundle, fh, indent=2)
        fh.write('\n')
    log(f'bundle {run_id} written to {args.out} in {bundle["training"]["seconds"]} s')
    print(json.dumps({'id': run_id, 'out': args.out}))


def write_fold(data: Dataset, idx: dict, model_fit: dict, args, started: float) -> None:
    os.makedirs(args.out, exist_ok=True)
    te = idx['test']
    conversion = write_onnx(data, model_fit, args.out, te, {})
    booster, y = model_fit['booster'], data.label
    p_test = predict(booster, data.X[te], model_fit['margin'][te])
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
        'marginMethod': {'chosen': model_fit['method'], 'validationLogLoss': model_fit['losses']},
        'trees': n_trees(booster),
        'hyperParameters': model_fit['hyper'],
        'evidence': model_fit['evidence'],
        'tuning': model_fit['grid'],
        'onnx': {'file': ONNX_FILE, 'input': INPUT_NAME, 'output': OUTPUT_MARGIN, 'maxAbsDiff': conversion['maxAbsDiff']},
        'test': metrics(two_way(p_test), y[te]) if len(te) else None,
        'smoke': bool(args.smoke),
        'software': {'xgboost': xgb.__version__, 'numpy': np.__version__},
        'seconds': round(time.time() - started, 1),
    }
    with open(os.path.join(args.out, 'model.json'), 'w') as fh:
        json.dump(model, fh, indent=2)
        fh.write('\n')
    log(f'{args.test_season}: {len(te)} games predicted, {model["trees"]} trees, in {model["seconds"]} s')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--features', required=True)
    ap.add_argument('--out', required=True, help='fold output, or (--bundle) the bundle directory, whose name is the run id')
    ap.add_argument('--validation-season', required=True, help='tuning and evidence; the refit includes it')
    ap.add_argument('--test-season', default=None, help='a fold: the season predicted into predictions.csv (not with --bundle)')
    ap.add_argument('--bundle', action='store_true', help='write the shipped bundle, refitted through the validation season')
    ap.add_argument('--attach', action='append', default=[], metavar='FILE',
                    help='--bundle: a file to ship in the bundle, listed with its sha256 (model:train attaches evaluation.json)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--smoke', action='store_true', help='tiny model, seconds: for the test suite')
    ap.add_argument('--trees', choices=('auto', 'force', 'none'), default='auto',
                    help='auto: keep trees only where the evidence rule supports them; force (smoke only); none: the market')
    args = ap.parse_args(argv)
    if args.trees == 'force' and not args.smoke:
        ap.error('--trees force is for --smoke runs only: a real model follows the evidence rule')
    # Explicit either way: a forgotten --test-season must not silently produce a bundle, nor a bundle a fold.
    if args.bundle == (args.test_season is not None):
        ap.error('give either --test-season (one rolling-origin fold) or --bundle (the shipped model), not both')
    if args.attach and not args.bundle:
        ap.error('--attach is for --bundle')
    started, cpu_started = time.time(), time.process_time()
    run_id = os.path.basename(os.path.normpath(args.out))
    if args.bundle and not RUN_ID.match(run_id):
        raise SystemExit(f'run id (the --out directory name) must match {RUN_ID.pattern}: {run_id!r}')
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f'{args.out} exists and is not empty')
    data = Dataset(args.features)
    idx = split(data, args.validation_season, args.test_season)
    log(f'train {len(idx["train"])} games, validation {args.validation_season} {len(idx["validation"])}, '
        f'refit {len(idx["refit"])}, ' + (f'test {args.test_season} {len(idx["test"])}' if not args.bundle else 'bundle'))

    # --- everything until "frozen" sees the seasons up to the validation season only ---------------------
    model_fit = fit(data, idx, args)
    # --- frozen ---------------------------------------------------------------------------------------

    if args.bundle:
        write_bundle(data, idx, model_fit, args, run_id, started, cpu_started)
    else:
        write_fold(data, idx, model_fit, args, started)
    return 0


if __name__ == '__main__':
    sys.exit(main())
