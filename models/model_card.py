#!/usr/bin/python3
"""Writes the model card docs/models/<run-id>.md from a bundle's bundle.json.

    /usr/bin/python3 models/model_card.py models/bundles/<run-id> docs/models/<run-id>.md

The figures are the Python-side ones recorded at training time. The official evaluation against the market
(margin removal, ECE, bootstrap interval, betting) is the TypeScript one (`npm run evaluate`), whose report
is stored with the registered model; its section below is filled in from that report, not from here.
"""
import json
import os
import sys


def f4(x):
    return f'{x:.4f}'


def metric_rows(label, m):
    return f'| {label} | {m["rows"] if "rows" in m else ""} | {f4(m["logLoss"])} | {f4(m["brier"])} | {m["accuracy"]:.3f} |'


def main(bundle_dir, out):
    with open(os.path.join(bundle_dir, 'bundle.json')) as fh:
        b = json.load(fh)
    t = b['training']
    w = b['windows']
    lines = [
        f'# Model card: `{b["id"]}`',
        '',
        f'- Created: {b["createdAt"]}; feature version `{b["featureVersion"]}` ({len(b["featureNames"])} features)',
        f'- Markets: 1X2 (3-class XGBoost, `multi:softprob`) and over/under 2.5 goals (binary XGBoost, `binary:logistic`)',
        f'- Data: football-data.co.uk, top five European leagues (`data/football-data/`), features from the TypeScript builder',
        f'- Windows (walk-forward): train {w["train"][0]} to {w["train"][1]} ({t["rows"]["train"]} matches), '
        f'validation {w["validation"]} ({t["rows"]["validation"]}), test {w["test"]} ({t["rows"]["test"]})',
        f'- Training time: {t["seconds"]} s on 2 cores (xgboost {t["software"]["xgboost"]})',
        '',
        '## How it was made',
        '',
        '- The hyper-parameter grid and the number of trees (early stopping) were chosen on the validation season '
        'with models trained on the train window. The shipped models are those models: there is no refit on '
        'train + validation, so the calibration belongs to the model it is applied to.',
        '- Calibration candidates (1X2: temperature, O/U: Platt) were fitted on the validation season and kept only '
        'if they lowered the validation log loss out of sample (5 contiguous blocks of the season, each calibrated '
        'by a map fitted on the other four).',
        '- The test season was scored once, after all of that was frozen. Nothing was chosen by looking at it.',
        '',
        '## Chosen hyper-parameters',
        '',
        '| market | max_depth | min_child_weight | colsample_bytree | eta | trees |',
        '|---|---|---|---|---|---|',
    ]
    for m, h in b['hyperParameters'].items():
        lines.append(f'| {m} | {h["max_depth"]} | {h["min_child_weight"]} | {h["colsample_bytree"]} | {h["eta"]} | {h["n_estimators"]} |')
    lines += ['', '## Calibration', '', '| market | candidate | fitted parameters | validation log loss: uncalibrated | cross-fitted | kept |',
              '|---|---|---|---|---|---|']
    for m, e in t['calibrationSelection'].items():
        params = ', '.join(f'{k} = {v:.4f}' for k, v in e['candidateParameters'].items())
        lines.append(f'| {m} | {e["candidate"]} | {params} | {f4(e["validationLogLossUncalibrated"])} | '
                     f'{f4(e["validationLogLossCrossFitted"])} | {"yes" if e["kept"] else "no"} |')
    lines += ['', f'Shipped calibration: `{json.dumps(b["calibration"])}`', '',
              '## Python-side figures (shipped model, calibration applied)', '',
              'Brier is the multi-class one: the sum over the outcomes of (p − y)², averaged over matches.', '',
              '| window, market | matches | log loss | Brier | accuracy |', '|---|---|---|---|---|']
    for window in ('validation', 'test'):
        for m, met in b['metrics'][window].items():
            lines.append(metric_rows(f'{window}, {m}', met))
    ref = t.get('marketReference') or {}
    if any(ref.get(wn) for wn in ('validation', 'test')):
        lines += ['', '### Against Pinnacle pre-match (margin removed multiplicatively: the mkt_pin_p_* features), same matches', '',
                  'A quick Python-side reference from the feature columns; the official comparison (margin-removal '
                  'methods, ECE, bootstrap interval, betting) is the TypeScript evaluation.', '',
                  '| window, market | matches | model log loss | Pinnacle log loss | model Brier | Pinnacle Brier |',
                  '|---|---|---|---|---|---|']
        for window in ('validation', 'test'):
            for m, r in (ref.get(window) or {}).items():
                lines.append(f'| {window}, {m} | {r["rows"]} | {f4(r["model"]["logLoss"])} | {f4(r["pinnacle"]["logLoss"])} | '
                             f'{f4(r["model"]["brier"])} | {f4(r["pinnacle"]["brier"])} |')
        lines.append('')
        for m, r in (ref.get('test') or {}).items():
            d = r['model']['logLoss'] - r['pinnacle']['logLoss']
            verdict = 'worse than' if d > 0 else 'better than or equal to'
            lines.append(f'- Test season, {m}: the model\'s log loss is {verdict} Pinnacle\'s by {abs(d):.4f} '
                         f'({f4(r["model"]["logLoss"])} vs {f4(r["pinnacle"]["logLoss"])}).')
    lines += ['', '## Most used features (share of total gain)', '']
    for m, feats in t['topFeatures'].items():
        lines.append(f'- {m}: ' + ', '.join(f'`{x["feature"]}` {x["gainShare"]:.1%}' for x in feats[:8]))
    lines += ['', '## ONNX conversion check', '',
              'Each ONNX file was evaluated from its own attributes (a numpy walk of the tree ensemble) against xgboost:', '']
    for m, c in t['onnxConversion'].items():
        lines.append(f'- {m}: max |difference| {c["maxAbsDiff"]:.2g} over {c["rows"]} rows ({c["rowsWithNaN"]} with missing values), tolerance {c["tolerance"]:g}')
    lines += ['', '## Evaluation against the market (TypeScript)', '',
              'To be filled from `npm run evaluate` on the test season: Pinnacle and market-average baselines with '
              'the margin removed, classwise ECE, reliability, the log-loss difference with its bootstrap interval, and '
              'the betting figures.', '',
              '## Limits', '',
              '- Pre-match odds in the historical data were collected days before kick-off (Fridays/Tuesdays); the live '
              'provider has later prices, so live inputs differ from training inputs in timing.',
              '- Five leagues, ten seasons; no promoted-team history from lower divisions.',
              '- Over/under is fitted for the 2.5 line only.', '']
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as fh:
        fh.write('\n'.join(lines))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
