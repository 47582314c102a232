"""XGBoost (1.7 JSON model) -> one `ai.onnx.ml` TreeEnsembleClassifier node, without onnxmltools.

Why our own converter: Debian ships xgboost, sklearn and onnx but neither onnxmltools nor skl2onnx, and the
mapping is small enough to own and to verify row by row (see `reference_predict`, which evaluates the ONNX
node's attributes in numpy the way onnxruntime does, so the check does not depend on the xgboost code path).

Mapping (xgboost's `fvalue < split_condition` goes to the left child; a missing value follows default_left):
  split  -> mode BRANCH_LT, threshold split_conditions[n], feature split_indices[n],
            true -> left child, false -> right child, nodes_missing_value_tracks_true = default_left[n]
  leaf   -> left_children[n] == -1, value split_conditions[n], class tree_info[t] (0 for binary)
  1X2    -> post_transform SOFTMAX, base_values = [base_score] * num_class (softmax ignores a common shift,
            kept for exactness of the margins)
  binary -> post_transform LOGISTIC with a single base value logit(base_score): xgboost 1.7 stores
            base_score in probability space for binary:logistic. onnxruntime's binary path writes
            [sigmoid(-m), sigmoid(m)] = [p_under, p_over]. Its classifier also has a separate branch for
            ensembles whose leaf weights are all positive (`weights_are_all_positive_`); onnxruntime-web 1.30
            gives the right probabilities there too (measured), but `_ensure_mixed_sign_weights` keeps every
            model off that rarely exercised branch (only a tiny model could land on it).
"""
from __future__ import annotations

import json
import math

import numpy as np
import onnx
from onnx import TensorProto, helper

OPSET_DEFAULT = 15
OPSET_ML = 3
IR_VERSION = 8
INPUT_NAME = 'features'
OUTPUT_LABEL = 'label'
OUTPUT_PROBABILITIES = 'probabilities'


def _booster_json(booster) -> dict:
    raw = booster.save_raw('json')
    return json.loads(bytes(raw).decode('utf-8'))


def tree_ensemble_attributes(booster) -> dict:
    """The TreeEnsembleClassifier attributes for a gbtree booster (binary:logistic or multi:softprob)."""
    model = _booster_json(booster)
    learner = model['learner']
    objective = learner['objective']['name']
    if learner['gradient_booster']['name'] != 'gbtree':
        raise ValueError(f"only gbtree boosters convert, got {learner['gradient_booster']['name']}")
    params = learner['learner_model_param']
    base_score = float(params['base_score'])
    num_class = int(params['num_class'])
    trees = learner['gradient_booster']['model']['trees']
    tree_info = learner['gradient_booster']['model']['tree_info']

    attrs = {k: [] for k in (
        'nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_values', 'nodes_modes',
        'nodes_truenodeids', 'nodes_falsenodeids', 'nodes_missing_value_tracks_true',
        'class_treeids', 'class_nodeids', 'class_ids', 'class_weights')}
    for t, tree in enumerate(trees):
        if any(st != 0 for st in tree.get('split_type', [])):
            raise ValueError('categorical splits are not supported')
        left, right = tree['left_children'], tree['right_children']
        cond, feat, dleft = tree['split_conditions'], tree['split_indices'], tree['default_left']
        for n in range(len(left)):
            attrs['nodes_treeids'].append(t)
            attrs['nodes_nodeids'].append(n)
            if left[n] == -1:
                attrs['nodes_featureids'].append(0)
                attrs['nodes_values'].append(0.0)
                attrs['nodes_modes'].append('LEAF')
                attrs['nodes_truenodeids'].append(0)
                attrs['nodes_falsenodeids'].append(0)
                attrs['nodes_missing_value_tracks_true'].append(0)
                attrs['class_treeids'].append(t)
                attrs['class_nodeids'].append(n)
                attrs['class_ids'].append(int(tree_info[t]) if objective == 'multi:softprob' else 0)
                attrs['class_weights'].append(float(np.float32(cond[n])))
            else:
                attrs['nodes_featureids'].append(int(feat[n]))
                attrs['nodes_values'].append(float(np.float32(cond[n])))
                attrs['nodes_modes'].append('BRANCH_LT')
                attrs['nodes_truenodeids'].append(int(left[n]))
                attrs['nodes_falsenodeids'].append(int(right[n]))
                attrs['nodes_missing_value_tracks_true'].append(int(dleft[n]))

    if objective == 'multi:softprob':
        attrs['classlabels_int64s'] = list(range(num_class))
        attrs['post_transform'] = 'SOFTMAX'
        attrs['base_values'] = [base_score] * num_class
    elif objective == 'binary:logistic':
        if not 0.0 < base_score < 1.0:
            raise ValueError(f'binary base_score must be a probability, got {base_score}')
        attrs['classlabels_int64s'] = [0, 1]
        attrs['post_transform'] = 'LOGISTIC'
        attrs['base_values'] = [math.log(base_score / (1.0 - base_score))]
        _ensure_mixed_sign_weights(attrs, len(trees))
    else:
        raise ValueError(f'unsupported objective {objective}')
    return attrs


def _ensure_mixed_sign_weights(attrs: dict, n_trees: int) -> None:
    """Keeps a binary model off onnxruntime's all-positive-weights branch (see the module docstring).

    A real model always has both signs; a tiny one might not. Then add a one-leaf tree of weight -1 and
    raise the base by 1: the margin is unchanged (up to float32 rounding of the base).
    """
    if any(w < 0 for w in attrs['class_weights']):
        return
    t = n_trees
    for key, value in (('nodes_treeids', t), ('nodes_nodeids', 0), ('nodes_featureids', 0), ('nodes_values', 0.0),
                       ('nodes_modes', 'LEAF'), ('nodes_truenodeids', 0), ('nodes_falsenodeids', 0),
                       ('nodes_missing_value_tracks_true', 0)):
        attrs[key].append(value)
    for key, value in (('class_treeids', t), ('class_nodeids', 0), ('class_ids', 0), ('class_weights', -1.0)):
        attrs[key].append(value)
    attrs['base_values'] = [attrs['base_values'][0] + 1.0]


def to_onnx(booster, n_features: int, *, name: str, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
    attrs = tree_ensemble_attributes(booster)
    n_classes = len(attrs['classlabels_int64s'])
    node = helper.make_node(
        'TreeEnsembleClassifier', [INPUT_NAME], [OUTPUT_LABEL, OUTPUT_PROBABILITIES],
        domain='ai.onnx.ml', name=f'{name}_trees', **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT_LABEL, TensorProto.INT64, [None]),
         helper.make_tensor_value_info(OUTPUT_PROBABILITIES, TensorProto.FLOAT, [None, n_classes])])
    model = helper.make_model(
        graph, producer_name='senzu-models', producer_version='1',
        opset_imports=[helper.make_opsetid('', OPSET_DEFAULT), helper.make_opsetid('ai.onnx.ml', OPSET_ML)])
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return model


def _node_attributes(model: onnx.ModelProto) -> dict:
    (node,) = model.graph.node
    if node.op_type != 'TreeEnsembleClassifier' or node.domain != 'ai.onnx.ml':
        raise ValueError(f'expected one ai.onnx.ml TreeEnsembleClassifier, got {node.domain}:{node.op_type}')
    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        out[a.name] = [v.decode() if isinstance(v, bytes) else v for v in value] if isinstance(value, list) else (
            value.decode() if isinstance(value, bytes) else value)
    return out


def reference_predict(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    """Probabilities of the ONNX node, evaluated from its attributes alone, as onnxruntime computes them.

    Float32 thresholds and comparisons, float32 accumulation of leaf weights in tree order, then the
    post transform. Independent of xgboost: it reads only the ONNX graph.
    """
    a = _node_attributes(model)
    X = np.asarray(X, dtype=np.float32)
    n_rows = X.shape[0]
    labels = a['classlabels_int64s']
    tree_ids = np.asarray(a['nodes_treeids'])
    node_ids = np.asarray(a['nodes_nodeids'])
    order = np.unique(tree_ids)
    leaf_weight = {(t, n): (c, np.float32(w)) for t, n, c, w in
                   zip(a['class_treeids'], a['class_nodeids'], a['class_ids'], a['class_weights'])}
    n_slots = len(labels) if a['post_transform'] == 'SOFTMAX' else 1
    scores = np.zeros((n_rows, n_slots), dtype=np.float32)
    for t in order:
        sel = np.nonzero(tree_ids == t)[0]
        local = {int(node_ids[i]): i for i in sel}
        size = max(local) + 1
        feature = np.zeros(size, dtype=np.int64)
        threshold = np.zeros(size, dtype=np.float32)
        is_leaf = np.zeros(size, dtype=bool)
        true_id = np.zeros(size, dtype=np.int64)
        false_id = np.zeros(size, dtype=np.int64)
        missing_true = np.zeros(size, dtype=bool)
        for n, i in local.items():
            if a['nodes_modes'][i] == 'LEAF':
                is_leaf[n] = True
            elif a['nodes_modes'][i] == 'BRANCH_LT':
                feature[n] = a['nodes_featureids'][i]
                threshold[n] = np.float32(a['nodes_values'][i])
                true_id[n] = a['nodes_truenodeids'][i]
                false_id[n] = a['nodes_falsenodeids'][i]
                missing_true[n] = bool(a['nodes_missing_value_tracks_true'][i])
            else:
                raise ValueError(f"unexpected node mode {a['nodes_modes'][i]}")
        at = np.zeros(n_rows, dtype=np.int64)
        rows = np.arange(n_rows)
        for _ in range(size):
            active = ~is_leaf[at]
            if not active.any():
                break
            x = X[rows, feature[at]]
            go_true = np.where(np.isnan(x), missing_true[at], x < threshold[at])
            at = np.where(active, np.where(go_true, true_id[at], false_id[at]), at)
        for leaf in np.unique(at):
            cls, weight = leaf_weight[(int(t), int(leaf))]
            scores[at == leaf, cls if n_slots > 1 else 0] += weight
    base = np.asarray(a.get('base_values', [0.0] * n_slots), dtype=np.float32)
    if a['post_transform'] == 'SOFTMAX':
        margin = scores + base
        margin = margin - margin.max(axis=1, keepdims=True)
        e = np.exp(margin)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    if a['post_transform'] == 'LOGISTIC' and len(labels) == 2:
        margin = (scores[:, 0] + base[0]).astype(np.float64)
        p1 = 1.0 / (1.0 + np.exp(-margin))
        p0 = 1.0 / (1.0 + np.exp(margin))
        return np.stack([p0, p1], axis=1).astype(np.float32)
    raise ValueError(f"unsupported post_transform {a['post_transform']}")


def check_model_file(path: str) -> onnx.ModelProto:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets != {'': OPSET_DEFAULT, 'ai.onnx.ml': OPSET_ML} or model.ir_version != IR_VERSION:
        raise ValueError(f'unexpected opsets {opsets} / ir_version {model.ir_version}')
    return model
