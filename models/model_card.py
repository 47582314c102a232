#!/usr/bin/python3
"""Writes the model card docs/models/<run-id>.md from a market-anchored bundle (bundle.json, evaluation.json).

    /usr/bin/python3 models/model_card.py models/bundles/<run-id> docs/models/<run-id>.md

The figures against the market are the TypeScript rolling-origin evaluation the bundle carries
(evaluation.json, written by `npm run model:train`); the training evidence is train.py's.
"""
import json
import os
import sys


def f4(x):
    return 'n/a' if x is None else f'{x:.4f}'


def signed(x):
    return f'{x:+.4f}'


def season_rows(market, label, trees, method, report):
    m = report['markets'].get(market)
    if not m or not m.get('metrics') or not m.get('logLossDifference'):
        return f'| {label} | | | | no rows with both baselines | | | | |'
    met, d = m['metrics'], m['logLossDifference']
    return (f'| {label} | {m["rows"]["evaluated"]} | {trees} | {method} | {f4(met["model"]["logLoss"])} | {f4(met["pinnacle"]["logLoss"])} | '
            f'{f4(met["marketAverage"]["logLoss"])} | {signed(d["estimate"])} [{signed(d["lower"])}, {signed(d["upper"])}] | '
            f'{f4(met["model"]["ece"])} / {f4(met["pinnacle"]["ece"])} |')


def main(bundle_dir, out):
    with open(os.path.join(bundle_dir, 'bundle.json')) as fh:
        b = json.load(fh)
    with open(os.path.join(bundle_dir, 'evaluation.json')) as fh:
        e = json.load(fh)
    t, w = b['training'], b['windows']
    lines = [
        f'# Model card: `{b["id"]}`',
        '',
        f'- Created: {b["createdAt"]}; feature version `{b["featureVersion"]}`; bundle format {b["format"]} (market-anchored)',
        '- Markets: 1X2 and over/under 2.5 goals, each XGBoost on top of the margin-free Pinnacle pre-match price '
        '(the anchor is the per-match `base_margin`: the log of the 1X2 probabilities, the logit of the over probability)',
        '- Data: football-data.co.uk, top five European leagues (`data/football-data/`), features from the TypeScript builder',
        f'- Trained on {b["trainedOn"]["from"]} to {b["trainedOn"]["to"]} (seasons {w["refit"][0]} to {w["refit"][1]}, '
        f'{t["rows"]["refit"]} matches); tuned on {w["validation"]}',
        f'- Training time: {t["seconds"]} s on 2 cores (xgboost {t["software"]["xgboost"]})',
        '',
        '## Against the market: rolling-origin evaluation',
        '',
        f'{e["recipe"]}. Pinnacle is margin-free by the method that season\'s model chose on its own validation season; '
        'Δ is the mean per-match log loss of the model minus Pinnacle\'s, with a paired bootstrap 95% interval '
        '(matches resampled). ECE is classwise, 10 bins.',
        '',
    ]
    for market in ('1x2', 'ou25'):
        lines += [f'### {market}', '',
                  '| season | matches | trees | margin method | model | Pinnacle | market average | Δ model − Pinnacle [95%] | ECE model / Pinnacle |',
                  '|---|---|---|---|---|---|---|---|---|']
        for s in e['seasons']:
            lines.append(season_rows(market, s['season'], s['model']['trees'][market], s['model']['marginMethods'][market], s['report']))
        lines.append(season_rows(market, 'pooled', '', "each season's", e['pooled']['report']))
        lines.append('')
    decision = e['decision']
    lines += [f'Activation gate: **{"passes" if decision["passes"] else "refuses"}**' +
              ('' if decision['passes'] else ': ' + '; '.join(decision['reasons'])), '']
    ahead = [m for m in ('1x2', 'ou25') if (e['pooled']['report']['markets'][m] or {}).get('logLossDifference', {}).get('upper', 0) < 0]
    lines += [
        ('**The model beats Pinnacle beyond noise on ' + ', '.join(ahead) + '.**') if ahead else
        '**The model does not beat Pinnacle.** Where the data supported no correction its trees were dropped, so it '
        'serves Pinnacle\'s margin-free price; it is never worse than that price by more than the table shows.',
        '',
        '## How the shipped model was made',
        '',
    ]
    for market in ('1x2', 'ou25'):
        ev, sel = t['evidence'][market], t['marginMethodSelection'][market]
        c = ev['confirmation']
        losses = ', '.join(f'{k} {v:.5f}' for k, v in sel['validationLogLoss'].items())
        lines += [
            f'- **{market}**: margin method `{sel["chosen"]}` (validation log loss of the anchor over {sel["rows"]} matches: {losses}). '
            f'Features: {", ".join("`" + f + "`" for f in b["models"][market]["features"])}.',
            f'  Tuned on the first half of {w["validation"]} ({ev["tuningRows"]} matches): log loss {ev["tuningLogLoss"]["model"]:.5f} vs the '
            f'anchor\'s {ev["tuningLogLoss"]["anchor"]:.5f}. On the second half ({ev["confirmationRows"]} matches) the tuned trees were '
            f'{signed(c["estimate"])} [{signed(c["lower"])}, {signed(c["upper"])}] against the anchor: '
            f'{"kept" if ev["kept"] else "not supported, so the model has no trees"}. Trees shipped: {b["models"][market]["trees"]}.',
        ]
    lines += ['', '## ONNX conversion check', '',
              'Each ONNX file was evaluated from its own attributes (a numpy walk of the tree ensemble) against xgboost\'s margins:', '']
    for m, c in t['onnxConversion'].items():
        lines.append(f'- {m}: max |difference| {c["maxAbsDiff"]:.2g} over {c["rows"]} rows ({c["rowsWithNaN"]} with missing values), tolerance {c["tolerance"]:g}')
    lines += ['', '## Limits', '',
              '- Historical pre-match prices were collected days before kick-off (Fridays/Tuesdays); the live path anchors on the '
              'latest price before the request. `npm run evaluate -- --live` measures the live path (docs/evaluation.md).',
              '- Five leagues, ten seasons; over/under for the 2.5 line only.', '']
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as fh:
        fh.write('\n'.join(lines))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
