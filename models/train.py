#!/usr/bin/python3
"""Train the Senzu 1X2 and over/under 2.5 models on top of the market, and write a model bundle.

    /usr/bin/python3 models/train.py --features <export.csv> --out models/bundles/<run-id> \
        --validation-season 2023-24 [--test-season 2024-25] [--smoke] [--trees auto|force|none]

Input: the TypeScript feature export (`npm run features:export`), one row per match:
  match_id,start_at,season,competition,home_team,away_team,label_1x2,label_ou25, <72 features>, <anchors>
label_1x2: 0 home / 1 draw / 2 away; label_ou25: 1 over 2.5 / 0 under; empty = not finished (not used);
`nan` = missing, kept as NaN (XGBoost learns a default direction for it). The anchors are the margin-free
Pinnacle pre-match probabilities (or the market average's, where Pinnacle has no complete book) under each
margin method, computed by the TypeScript code the Worker runs.

The market is the prior. Each model is XGBoost with the anchor as its per-row base_margin (the log of the
1X2 probabilities, the logit of the over probability), so its trees learn a correction on top of the price,
and a model with no trees is the market exactly. The recipe (models/README.md):
  margin method  per market, the one whose anchor has the lowest log loss on the validation season
  train          every season before the validation season
  tuning         the grid and the number of trees: early stopping on the first half of the validation season
  evidence       the tuned trees are kept only if they beat the anchor on the second half of the validation
                 season by more than noise (the upper end of a paired bootstrap 95% interval below 0);
                 otherwise the market has not been beaten and the model has no trees
  refit          the kept recipe retrained on every season up to and including the validation season
  test           --test-season, if given, is scored once at the end for sanity figures; nothing is chosen on
                 it (the official evaluation is `npm run evaluate -- --rolling`, in TypeScript)
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

from anchored import base_margin, metrics, paired_bootstrap, probabilities, row_log_loss  # noqa: E402
from xgb_onnx import INPUT_NAME, OUTPUT_MARGIN, check_model_file, n_trees, reference_margins, to_onnx  # noqa: E402

FORMAT = 2
META_COLUMNS = ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25']
N_FEATURES = 72
MARKETS = ('1x2', 'ou25')
METHODS = ('multiplicative', 'shin', 'power')
ANCHOR_OUTCOMES = {'1x2': ['home', 'draw', 'away'], 'ou25': ['over']}
ANCHOR_COLUMNS = [c for m in MARKETS for c in
                  [f'anchor_{m}_source'] + [f'anchor_{m}_{k}_{o}' for k in METHODS for o in ANCHOR_OUTCOMES[m]]]
OUTPUTS = {'1x2': ['home', 'draw', 'away'], 'ou25': ['under', 'over']}
N_TARGETS = {'1x2': 3, 'ou25': 1}
FILES = {'1x2': 'model-1x2.onnx', 'ou25': 'model-ou25.onnx'}
PARITY_FILE = 'parity.json'
PARITY_ROWS = 200
CONVERSION_TOLERANCE = 1e-6  # ONNX margins (float32 tree walk) vs xgboost's, asserted here
SEED = 20240801
SEASON = re.compile(r'^\d{4}-\d{2}$')
RUN_ID = re.compile(r'^[a-z0-9][a-z0-9._-]{2,80}$')

# Few, strong features per market: where the sharp price and the rest of the market disagree, how much
# margin the books carry, and what the market may under-weight (league draw and goal rates, rating-based
# probabilities, recent scoring). A model sees only its own list; the bundle's input is their union.
MODEL_FEATURES = {
    '1x2': ['mkt_pin_p_home', 'mkt_pin_p_draw', 'mkt_pin_p_away', 'mkt_pin_avg_diff_home', 'mkt_pin_avg_diff_away',
            'mkt_pin_overround_1x2', 'mkt_max_overround_1x2', 'adv_elo_p_home', 'ctx_league_draw_rate',
            'ctx_league_home_win_rate'],
    'ou25': ['mkt_pin_p_over25', 'mkt_pin_avg_diff_over25', 'mkt_max_overround_ou25', 'form_home_over25_rate_10',
             'form_away_over25_rate_10', 'ctx_league_goals_pg', 'adv_home_xgp_for_10', 'adv_away_xgp_for_10',
             'adv_home_xgp_against_10', 'adv_away_xgp_against_10'],
}

# Regularised hard: shallow trees, leaves that need many matches' worth of curvature (min_child_weight is a
# sum of hessians, about 0.2 a match), strong L2 on leaf weights, a small learning rate.
COMMON_PARAMS = {'eta': 0.03, 'subsample': 0.8, 'colsample_bytree': 1.0, 'tree_method': 'hist', 'max_bin': 256}
GRID = [{'max_depth': d, 'min_child_weight': m, 'reg_lambda': lam}
        for d in (1, 2, 3) for m in (50, 200) for lam in (10, 100)]
MAX_ROUNDS, EARLY_STOPPING = 500, 50
SMOKE_GRID = [{'max_depth': 2, 'min_child_weight': 5, 'reg_lambda': 1}]
SMOKE_PARAMS = {**COMMON_PARAMS, 'eta': 0.3}
SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING, SMOKE_TRAIN_ROWS = 12, 4, 1500
EVIDENCE = {'confidence': 0.95, 'resamples': 2000}


def log(msg: str) -> None:
    print(f'[train] {msg}', file=sys.stderr, flush=True)


class Dataset:
    def __init__(self, path: str):
        with open(path, newline='', encoding='utf-8-sig') as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [r for r in reader if r]
        if header[:len(META_COLUMNS)] != META_COLUMNS:
            raise SystemExit(f'{path}: the first columns must be {",".join(META_COLUMNS)}, got {",".join(header[:8])}')
        if header[-len(ANCHOR_COLUMNS):] != ANCHOR_COLUMNS:
            raise SystemExit(f'{path}: the columns after the features must be the anchors {",".join(ANCHOR_COLUMNS)}; '
                             're-export with `npm run features:export`')
        self.feature_names = header[len(META_COLUMNS):-len(ANCHOR_COLUMNS)]
        if len(self.feature_names) != N_FEATURES or len(set(self.feature_names)) != N_FEATURES:
            raise SystemExit(f'{path}: expected {N_FEATURES} distinct feature columns, got {len(self.feature_names)}')
        missing = sorted({f for fs in MODEL_FEATURES.values() for f in fs} - set(self.feature_names))
        if missing:
            raise SystemExit(f'{path}: the models need features the export does not have: {missing}')
        bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
        if bad:
            raise SystemExit(f'{path}: row {bad[0] + 2} has {len(rows[bad[0]])} cells, the header {len(header)}')
        rows.sort(key=lambda r: (r[1], r[0]))  # kick-off order: the validation halves are blocks of time
        col = {name: i for i, name in enumerate(header)}
        self.match_id = [r[0] for r in rows]
        self.start_at = [r[1] for r in rows]
        self.season = np.array([r[2] for r in rows])
        self.labels = {
            '1x2': np.array([int(r[6]) if r[6] != '' else -1 for r in rows]),
            'ou25': np.array([int(r[7]) if r[7] != '' else -1 for r in rows]),
        }
        if not set(np.unique(self.labels['1x2'])) <= {-1, 0, 1, 2} or not set(np.unique(self.labels['ou25'])) <= {-1, 0, 1}:
            raise SystemExit(f'{path}: labels out of range')
        first = len(META_COLUMNS)
        self.X = np.array([[_cell(v) for v in r[first:first + N_FEATURES]] for r in rows], dtype=np.float32)
        if np.isinf(self.X).any():
            raise SystemExit(f'{path}: infinite feature values; missing must be nan')
        self.anchor_source = {m: np.array([r[col[f'anchor_{m}_source']] for r in rows]) for m in MARKETS}
        for m in MARKETS:
            if not set(np.unique(self.anchor_source[m])) <= {'', 'pinnacle', 'consensus'}:
                raise SystemExit(f'{path}: anchor_{m}_source must be pinnacle, consensus or empty')
        # anchors[market][method]: 1X2 [N, 3] (home, draw, away); O/U [N] (over); NaN where there is none
        self.anchors = {m: {k: np.array([[_cell(r[col[f'anchor_{m}_{k}_{o}']]) for o in ANCHOR_OUTCOMES[m]] for r in rows],
                                        dtype=np.float64).reshape(len(rows), -1) for k in METHODS} for m in MARKETS}
        for m in MARKETS:
            for k in METHODS:
                a = self.anchors[m][k]
                present = self.anchor_source[m] != ''
                if np.isnan(a[present]).any() or not np.isnan(a[~present]).all() or (a[present] <= 0).any() or (a[present] >= 1).any():
                    raise SystemExit(f'{path}: anchor_{m}_{k} must be a probability exactly where anchor_{m}_source is set')
            if m == 'ou25':
                self.anchors[m] = {k: v[:, 0] for k, v in self.anchors[m].items()}
        self.sha256 = _sha256_file(path)

    def model_columns(self, market: str) -> np.ndarray:
        return self.X[:, [self.feature_names.index(f) for f in MODEL_FEATURES[market]]]


def _cell(value: str) -> float:
    return math.nan if value in ('', 'nan', 'NaN', 'null') else float(value)


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def split_windows(data: Dataset, validation: str, test: str | None):
    # A row without a well-formed season cannot be placed in a window, so it is in none.
    dated = np.array([bool(SEASON.match(x)) for x in data.season], dtype=bool)
    finished = (data.labels['1x2'] >= 0) & (data.labels['ou25'] >= 0) & dated
    seasons = sorted(set(data.season[finished]))
    if validation not in seasons:
        raise SystemExit(f'no finished matches in the validation season {validation}; seasons present: {seasons}')
    train_seasons = [s for s in seasons if s < validation]
    if not train_seasons:
        raise SystemExit(f'no season before the validation season {validation}')
    last = validation
    idx = {
        'train': np.nonzero(finished & (data.season < validation))[0],
        'validation': np.nonzero(finished & (data.season == validation))[0],
        'refit': np.nonzero(finished & (data.season <= validation))[0],
        'test': np.array([], dtype=int),
    }
    if test is not None:
        if test not in seasons or not validation < test:
            raise SystemExit(f'need finished matches in the test season {test}, after the validation season {validation}')
        between = sorted(set(s for s in seasons if validation < s < test))
        if between:
            raise SystemExit(f'seasons between validation and test are not allowed: {between}')
        idx['test'] = np.nonzero(finished & (data.season == test))[0]
        last = test
    ignored = int(np.sum(finished & (data.season > last)))
    windows = {'train': [train_seasons[0], train_seasons[-1]], 'validation': validation,
               'refit': [train_seasons[0], validation], 'test': test}
    return windows, idx, ignored


def xgb_params(market: str, grid_point: dict, base: dict, threads: int) -> dict:
    params = {**base, **grid_point, 'nthread': threads, 'seed': SEED}
    if market == '1x2':
        params.update(objective='multi:softprob', num_class=3, eval_metric='mlogloss')
    else:
        params.update(objective='binary:logistic', eval_metric='logloss')
    return params


def dmatrix(market: str, X: np.ndarray, margin: np.ndarray, labels: np.ndarray | None = None) -> xgb.DMatrix:
    return xgb.DMatrix(X, label=labels, missing=np.nan, base_margin=margin.reshape(-1))


def predict(market: str, booster, X: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Probabilities in OUTPUTS order; with no trees, the anchor through the same link function."""
    if booster is None:
        return probabilities(market, margin)
    p = booster.predict(dmatrix(market, X, margin)).astype(np.float64)
    return p if market == '1x2' else np.stack([1.0 - p, p], axis=1)


def labels_of(market: str, data: Dataset, rows: np.ndarray) -> np.ndarray:
    return data.labels[market][rows]


def choose_margin_method(market: str, data: Dataset, rows: np.ndarray) -> tuple[str, dict]:
    """The method whose margin-free anchor has the lowest validation log loss, on the rows with a sharp price."""
    sharp = rows[data.anchor_source[market][rows] == 'pinnacle']
    on = sharp if len(sharp) else rows[data.anchor_source[market][rows] != '']
    y = labels_of(market, data, on)
    losses = {k: float(np.mean(row_log_loss(probabilities(market, base_margin(market, data.anchors[market][k][on])), y)))
              for k in METHODS}
    chosen = min(METHODS, key=lambda k: (losses[k], METHODS.index(k)))
    log(f'{market} margin method: {chosen} (validation log loss of the anchor, {len(on)} matches: '
        + ', '.join(f'{k} {v:.5f}' for k, v in losses.items()) + ')')
    return chosen, {'chosen': chosen, 'on': 'validation', 'rows': int(len(on)),
                    'anchorRows': 'pinnacle' if len(sharp) else 'any anchor', 'validationLogLoss': losses}


def tune(market, X, margin, y, tr, tu, grid, base, max_rounds, early, threads):
    """Each grid point trained on `tr`, early-stopped on `tu`; the lowest tuning log loss wins."""
    dtrain = dmatrix(market, X[tr], margin[tr], y[tr])
    dtune = dmatrix(market, X[tu], margin[tu], y[tu])
    results, best = [], None
    for point in grid:
        params = xgb_params(market, point, base, threads)
        started = time.time()
        booster = xgb.train(params, dtrain, num_boost_round=max_rounds, evals=[(dtune, 'tune')],
                            early_stopping_rounds=early, verbose_eval=False)
        rounds = booster.best_iteration + 1 if early else max_rounds
        booster = booster[:rounds]
        ll = metrics(predict(market, booster, X[tu], margin[tu]), y[tu])['logLoss']
        results.append({**point, 'rounds': rounds, 'tuningLogLoss': round(ll, 6), 'seconds': round(time.time() - started, 2)})
        if best is None or ll < best[0]:
            best = (ll, params, rounds, booster)
    return best, results


def fit_market(market: str, data: Dataset, idx: dict, args, grid, base, max_rounds, early) -> dict:
    method, method_evidence = choose_margin_method(market, data, idx['validation'])
    anchored = data.anchor_source[market] != ''
    X = data.model_columns(market)
    y_all = data.labels[market]
    margin = np.zeros((len(y_all), 3) if market == '1x2' else len(y_all))
    margin[anchored] = base_margin(market, data.anchors[market][method][anchored])

    tr = idx['train'][anchored[idx['train']]]
    if args.smoke:
        tr = tr[-SMOKE_TRAIN_ROWS:]
    va = idx['validation'][anchored[idx['validation']]]
    tu, confirm = va[:len(va) // 2], va[len(va) // 2:]
    anchor_tune = metrics(probabilities(market, margin[tu]), y_all[tu])['logLoss']
    # Forced trees (a smoke fixture that must exercise the tree path) are grown to max_rounds, not stopped early.
    stop = None if args.trees == 'force' else early
    (tune_ll, params, rounds, tuned), grid_results = tune(market, X, margin, y_all, tr, tu, grid, base, max_rounds, stop, args.threads)
    diff = (row_log_loss(predict(market, tuned, X[confirm], margin[confirm]), y_all[confirm])
            - row_log_loss(probabilities(market, margin[confirm]), y_all[confirm]))
    interval = paired_bootstrap(diff, resamples=EVIDENCE['resamples'], seed=SEED, confidence=EVIDENCE['confidence'])
    supported = tune_ll < anchor_tune and interval['upper'] < 0
    keep = {'auto': supported, 'force': True, 'none': False}[args.trees]
    evidence = {
        'rule': 'trees are kept only if they beat the anchor on the tuning half and the upper end of the paired '
                f'bootstrap {int(EVIDENCE["confidence"] * 100)}% interval of (model - anchor) log loss on the '
                'confirmation half of the validation season is below 0',
        'tuningRows': int(len(tu)), 'confirmationRows': int(len(confirm)),
        'tuningLogLoss': {'anchor': anchor_tune, 'model': tune_ll},
        'confirmation': interval, 'supported': bool(supported), 'trees': args.trees, 'kept': bool(keep),
    }
    log(f'{market} tuned {({k: params[k] for k in grid[0]})} rounds={rounds}: tuning log loss {tune_ll:.5f} vs anchor '
        f'{anchor_tune:.5f}; confirmation model - anchor {interval["estimate"]:+.5f} '
        f'[{interval["lower"]:+.5f}, {interval["upper"]:+.5f}] -> {"keep" if keep else "no trees"}')

    booster = None
    hyper = {k: v for k, v in params.items() if k != 'nthread'}
    hyper['n_estimators'] = 0
    if keep:
        refit = idx['refit'][anchored[idx['refit']]]
        if args.smoke:
            refit = refit[-SMOKE_TRAIN_ROWS:]
        booster = xgb.train(params, dmatrix(market, X[refit], margin[refit], y_all[refit]), num_boost_round=rounds)
        hyper['n_estimators'] = rounds
    return {'method': method, 'methodEvidence': method_evidence, 'margin': margin, 'X': X, 'booster': booster,
            'hyper': hyper, 'grid': grid_results, 'evidence': evidence, 'anchored': anchored, 'confirm': confirm}


def conversion_check(market, fit, model, union_X, rows) -> dict:
    """ONNX margins (read from the graph alone) against xgboost's trees-only margins, NaN-heavy rows included."""
    rng = np.random.default_rng(SEED)
    X_union = union_X[rows]
    masked = X_union[rng.choice(len(X_union), size=min(len(X_union), 400), replace=False)].copy()
    masked[rng.random(masked.shape) < 0.3] = np.nan
    X_union = np.concatenate([X_union, masked, np.full((1, union_X.shape[1]), np.nan, dtype=np.float32)])
    got = reference_margins(model, X_union).astype(np.float64)
    if fit['booster'] is None:
        expected = np.zeros_like(got)
    else:
        cols = [UNION.index(f) for f in MODEL_FEATURES[market]]
        zero = np.zeros((len(X_union), 3) if market == '1x2' else len(X_union))
        expected = fit['booster'].predict(dmatrix(market, X_union[:, cols], zero), output_margin=True).astype(np.float64)
        expected = expected.reshape(len(X_union), -1)
    diff = float(np.max(np.abs(got - expected)))
    if not diff <= CONVERSION_TOLERANCE:
        raise SystemExit(f'{market}: ONNX margins differ from xgboost by {diff:.3g} > {CONVERSION_TOLERANCE}')
    return {'rows': int(len(X_union)), 'rowsWithNaN': int(np.sum(np.isnan(X_union).any(axis=1))), 'maxAbsDiff': diff,
            'tolerance': CONVERSION_TOLERANCE}


def parity_rows(data: Dataset, rows: np.ndarray) -> np.ndarray:
    """~200 rows: evenly spread, plus those with the most missing values and any without an anchor."""
    if len(rows) <= PARITY_ROWS:
        return rows
    chosen = list(dict.fromkeys(rows[np.linspace(0, len(rows) - 1, PARITY_ROWS * 3 // 4).astype(int)].tolist()))
    unanchored = [i for i in rows.tolist() if any(data.anchor_source[m][i] == '' for m in MARKETS)]
    most_missing = rows[np.argsort(-np.isnan(data.X[rows]).sum(axis=1), kind='stable')].tolist()
    for i in unanchored[:10] + most_missing:
        if len(chosen) >= PARITY_ROWS:
            break
        if i not in chosen:
            chosen.append(i)
    return np.array(sorted(chosen))


def window_metrics(market, fit, data, rows) -> dict | None:
    """Model and anchor on the same rows of a window: those with a Pinnacle anchor (what the market baseline is)."""
    rows = rows[data.anchor_source[market][rows] == 'pinnacle']
    if len(rows) == 0:
        return None
    y = data.labels[market][rows]
    model = metrics(predict(market, fit['booster'], fit['X'][rows], fit['margin'][rows]), y)
    anchor = metrics(probabilities(market, fit['margin'][rows]), y)
    return {'rows': model.pop('rows'), 'model': model, 'anchor': {k: v for k, v in anchor.items() if k != 'rows'}}


def _json_float(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


UNION: list[str] = []


def main(argv=None) -> int:
    global UNION
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--features', required=True, help='CSV from the TypeScript feature export')
    ap.add_argument('--out', required=True, help='bundle directory; its name is the run id')
    ap.add_argument('--feature-version', default='v1')
    ap.add_argument('--validation-season', required=True, help='tuning and evidence; the refit includes it')
    ap.add_argument('--test-season', default=None, help='scored once at the end for sanity figures (optional)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--smoke', action='store_true', help='tiny model, seconds: for the test suite')
    ap.add_argument('--attach', action='append', default=[], metavar='FILE',
                    help='a file to ship in the bundle, listed with its sha256 (model:train attaches evaluation.json)')
    ap.add_argument('--trees', choices=('auto', 'force', 'none'), default='auto',
                    help='auto: keep trees only where the evidence rule supports them; force (smoke runs only): '
                         'keep them anyway; none: the market alone')
    args = ap.parse_args(argv)
    if args.trees == 'force' and not args.smoke:
        ap.error('--trees force is for --smoke runs only: a real bundle follows the evidence rule')
    started, cpu_started = time.time(), time.process_time()

    run_id = os.path.basename(os.path.normpath(args.out))
    if not RUN_ID.match(run_id):
        raise SystemExit(f'run id (the --out directory name) must match {RUN_ID.pattern}: {run_id!r}')
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f'{args.out} exists and is not empty; a bundle is never overwritten')

    data = Dataset(args.features)
    windows, idx, ignored = split_windows(data, args.validation_season, args.test_season)
    log(f'{len(data.match_id)} rows; train {windows["train"]} {len(idx["train"])}, validation {windows["validation"]} '
        f'{len(idx["validation"])}, refit {len(idx["refit"])}, test {windows["test"]} {len(idx["test"])}; '
        f'later seasons ignored: {ignored}')
    grid, base = (SMOKE_GRID, SMOKE_PARAMS) if args.smoke else (GRID, COMMON_PARAMS)
    max_rounds, early = (SMOKE_MAX_ROUNDS, SMOKE_EARLY_STOPPING) if args.smoke else (MAX_ROUNDS, EARLY_STOPPING)

    # --- everything until "frozen" sees the seasons up to the validation season only -----------------
    fits = {m: fit_market(m, data, idx, args, grid, base, max_rounds, early) for m in MARKETS}
    # --- frozen ---------------------------------------------------------------------------------------

    UNION = [f for f in data.feature_names if any(f in MODEL_FEATURES[m] for m in MARKETS)]
    union_X = data.X[:, [data.feature_names.index(f) for f in UNION]]
    os.makedirs(args.out, exist_ok=True)
    conversion = {}
    check_rows = np.concatenate([idx['validation'], idx['test']])
    for market in MARKETS:
        model = to_onnx(fits[market]['booster'], len(UNION), [UNION.index(f) for f in MODEL_FEATURES[market]],
                        N_TARGETS[market], name=f'senzu_{market}', metadata={
                            'market': market, 'outputs': json.dumps(OUTPUTS[market]), 'featureVersion': args.feature_version,
                            'featureNames': json.dumps(UNION), 'runId': run_id, 'marginMethod': fits[market]['method']})
        path = os.path.join(args.out, FILES[market])
        with open(path, 'wb') as fh:
            fh.write(model.SerializeToString())
        conversion[market] = conversion_check(market, fits[market], check_model_file(path), union_X, check_rows)
        log(f'{market} ONNX vs xgboost margins: max |diff| {conversion[market]["maxAbsDiff"]:.3g} over '
            f'{conversion[market]["rows"]} rows; {n_trees(fits[market]["booster"])} trees')

    parity_source = idx['test'] if len(idx['test']) else idx['validation']
    chosen = parity_rows(data, parity_source)
    out_rows = []
    for i in chosen.tolist():
        anchors, expected = {}, {}
        for market in MARKETS:
            fit = fits[market]
            if not fit['anchored'][i]:
                anchors[market] = expected[market] = None
                continue
            a = data.anchors[market][fit['method']][i]
            anchors[market] = [float(v) for v in a] if market == '1x2' else [float(a), float(1.0 - a)]
            p = predict(market, fit['booster'], fit['X'][[i]], fit['margin'][[i]])[0]
            expected[market] = [float(v) for v in p]
        out_rows.append({'matchId': data.match_id[i], 'startAt': data.start_at[i],
                         'features': [_json_float(v) for v in data.X[i]], 'anchors': anchors, 'expected': expected})
    parity = {
        'bundleId': run_id, 'featureNames': data.feature_names, 'outputs': OUTPUTS, 'tolerance': 1e-5,
        'note': 'features: the 72 of the feature version (null = NaN); anchors: margin-free market probabilities '
                '(1x2 home, draw, away; ou25 over, under; null = no anchor); expected: xgboost with the anchor as '
                'base_margin, in outputs order (null = no prediction)',
        'rows': out_rows,
    }
    with open(os.path.join(args.out, PARITY_FILE), 'w') as fh:
        json.dump(parity, fh, separators=(',', ':'))

    metrics_out = {'validationConfirmation': {m: window_metrics(m, fits[m], data, fits[m]['confirm']) for m in MARKETS}}
    if len(idx['test']):
        metrics_out['test'] = {m: window_metrics(m, fits[m], data, idx['test']) for m in MARKETS}
    for path in args.attach:
        name = os.path.basename(path)
        if name in (*FILES.values(), PARITY_FILE, 'bundle.json'):
            raise SystemExit(f'--attach {path}: {name} is a file the bundle writes itself')
        with open(path, 'rb') as src, open(os.path.join(args.out, name), 'wb') as dst:
            dst.write(src.read())
    attached = [os.path.basename(p) for p in args.attach]
    files = {name: _sha256_file(os.path.join(args.out, name)) for name in (FILES['1x2'], FILES['ou25'], PARITY_FILE, *attached)}
    bundle = {
        'id': run_id,
        'format': FORMAT,
        'createdAt': dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z'),
        'featureVersion': args.feature_version,
        'featureNames': UNION,
        'windows': windows,
        # The kick-off days of the first and last match the shipped trees were fitted on (the refit window).
        'trainedOn': {'from': data.start_at[int(idx['refit'].min())][:10], 'to': data.start_at[int(idx['refit'].max())][:10]},
        'anchor': {m: {'marginMethod': fits[m]['method'], 'sharp': 'pinnacle', 'fallback': 'consensus'} for m in MARKETS},
        'models': {m: {'file': FILES[m], 'input': INPUT_NAME, 'output': OUTPUT_MARGIN, 'outputs': OUTPUTS[m],
                       'features': MODEL_FEATURES[m], 'trees': n_trees(fits[m]['booster'])} for m in MARKETS},
        'hyperParameters': {m: fits[m]['hyper'] for m in MARKETS},
        'metrics': metrics_out,
        'files': files,
        'training': {
            'smoke': bool(args.smoke),
            'sourceSha256': data.sha256,
            'rows': {k: int(len(v)) for k, v in idx.items()},
            'laterSeasonRowsIgnored': ignored,
            'marginMethodSelection': {m: fits[m]['methodEvidence'] for m in MARKETS},
            'evidence': {m: fits[m]['evidence'] for m in MARKETS},
            'tuning': {m: fits[m]['grid'] for m in MARKETS},
            'onnxConversion': conversion,
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
    print(json.dumps({'id': run_id, 'out': args.out}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
