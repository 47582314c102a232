"""XGBoost (1.7 JSON model) -> one `ai.onnx.ml` TreeEnsembleRegressor node giving the trees' margins.

Why our own converter: Debian ships xgboost, sklearn and onnx but neither onnxmltools nor skl2onnx, and the
mapping is small enough to own and to verify row by row (see `reference_margins`, which evaluates the ONNX
node's attributes in numpy the way onnxruntime does, so the check does not depend on the xgboost code path).

The models are trained on top of the market (XGBoost's per-row `base_margin`): the prediction is
softmax(log p_market + trees) for 1X2 and sigmoid(logit p_market + trees) for over/under. The graph holds the
trees only and outputs their summed margin, float32 [N, K] (K = 3 for 1X2, 1 for a binary model); the shared
TypeScript runtime adds the market's margin and applies the link function. XGBoost ignores `base_score` when
a `base_margin` is given, so the graph's base values are 0.

Mapping (xgboost's `fvalue < split_condition` goes to the left child; a missing value follows default_left):
  split  -> mode BRANCH_LT, threshold split_conditions[n], feature feature_map[split_indices[n]],
            true -> left child, false -> right child, nodes_missing_value_tracks_true = default_left[n]
  leaf   -> left_children[n] == -1, weight split_conditions[n] on target tree_info[t] (0 for binary)
A market's model is trained on its own columns; `feature_map` places them in the bundle's shared input, so
both markets' graphs take the same input and are served as one merged graph.
A model with no trees (the market alone was not beaten) is written as one zero leaf per target: onnxruntime
needs at least one tree, and a zero leaf adds exactly 0.
"""
from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper

OPSET_DEFAULT = 15
OPSET_ML = 3
IR_VERSION = 8
INPUT_NAME = 'features'
OUTPUT_MARGIN = 'margin'


def _booster_json(booster) -> dict:
    raw = booster.save_raw('json')
    return json.loads(bytes(raw).decode('utf-8'))


def n_trees(booster) -> int:
    return len(_booster_json(booster)['learner']['gradient_booster']['model']['trees']) if booster is not None else 0


def tree_ensemble_attributes(booster, n_targets: int, feature_map: list[int]) -> dict:
    """The TreeEnsembleRegressor attributes of a gbtree booster (binary:logistic or multi:softprob), or of
    an empty model (booster None): one zero leaf per target."""
    attrs = {k: [] for k in (
        'nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_values', 'nodes_modes',
        'nodes_truenodeids', 'nodes_falsenodeids', 'nodes_missing_value_tracks_true',
        'target_treeids', 'target_nodeids', 'target_ids', 'target_weights')}

    def leaf(t, n, target, weight):
        for key, value in (('nodes_treeids', t), ('nodes_nodeids', n), ('nodes_featureids', 0), ('nodes_values', 0.0),
                           ('nodes_modes', 'LEAF'), ('nodes_truenodeids', 0), ('nodes_falsenodeids', 0),
                           ('nodes_missing_value_tracks_true', 0)):
            attrs[key].append(value)
        attrs['target_treeids'].append(t)
        attrs['target_nodeids'].append(n)
        attrs['target_ids'].append(target)
        attrs['target_weights'].append(weight)

    trees, tree_info = [], []
    if booster is not None:
        model = _booster_json(booster)
        learner = model['learner']
        objective = learner['objective']['name']
        if learner['gradient_booster']['name'] != 'gbtree':
            raise ValueError(f"only gbtree boosters convert, got {learner['gradient_booster']['name']}")
        expected = {'multi:softprob': n_targets if n_targets > 1 else None, 'binary:logistic': 1}.get(objective)
        if expected != n_targets:
            raise ValueError(f'objective {objective} does not give {n_targets} margin(s)')
        trees = learner['gradient_booster']['model']['trees']
        tree_info = learner['gradient_booster']['model']['tree_info']
    for t, tree in enumerate(trees):
        if any(st != 0 for st in tree.get('split_type', [])):
            raise ValueError('categorical splits are not supported')
        left, right = tree['left_children'], tree['right_children']
        cond, feat, dleft = tree['split_conditions'], tree['split_indices'], tree['default_left']
        for n in range(len(left)):
            if left[n] == -1:
                leaf(t, n, int(tree_info[t]) if n_targets > 1 else 0, float(np.float32(cond[n])))
                continue
            attrs['nodes_treeids'].append(t)
            attrs['nodes_nodeids'].append(n)
            attrs['nodes_featureids'].append(int(feature_map[int(feat[n])]))
            attrs['nodes_values'].append(float(np.float32(cond[n])))
            attrs['nodes_modes'].append('BRANCH_LT')
            attrs['nodes_truenodeids'].append(int(left[n]))
            attrs['nodes_falsenodeids'].append(int(right[n]))
            attrs['nodes_missing_value_tracks_true'].append(int(dleft[n]))
    if not trees:
        for target in range(n_targets):
            leaf(target, 0, target, 0.0)
    attrs['n_targets'] = n_targets
    attrs['aggregate_function'] = 'SUM'
    attrs['post_transform'] = 'NONE'
    attrs['base_values'] = [0.0] * n_targets
    return attrs


def to_onnx(booster, n_inputs: int, feature_map: list[int], n_targets: int, *, name: str,
            metadata: dict[str, str] | None = None) -> onnx.ModelProto:
    """The trees' margins as a graph: input float32 [N, n_inputs] `features`, output float32 [N, n_targets] `margin`."""
    if len(set(feature_map)) != len(feature_map) or any(not 0 <= i < n_inputs for i in feature_map):
        raise ValueError(f'feature_map must place each model column at a distinct input of {n_inputs}')
    attrs = tree_ensemble_attributes(booster, n_targets, feature_map)
    node = helper.make_node('TreeEnsembleRegressor', [INPUT_NAME], [OUTPUT_MARGIN], domain='ai.onnx.ml',
                            name=f'{name}_trees', **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_inputs])],
        [helper.make_tensor_value_info(OUTPUT_MARGIN, TensorProto.FLOAT, [None, n_targets])])
    model = helper.make_model(
        graph, producer_name='senzu-models', producer_version='2',
        opset_imports=[helper.make_opsetid('', OPSET_DEFAULT), helper.make_opsetid('ai.onnx.ml', OPSET_ML)])
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return model


def _node_attributes(model: onnx.ModelProto) -> dict:
    (node,) = model.graph.node
    if node.op_type != 'TreeEnsembleRegressor' or node.domain != 'ai.onnx.ml':
        raise ValueError(f'expected one ai.onnx.ml TreeEnsembleRegressor, got {node.domain}:{node.op_type}')
    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        out[a.name] = [v.decode() if isinstance(v, bytes) else v for v in value] if isinstance(value, list) else (
            value.decode() if isinstance(value, bytes) else value)
    return out


def reference_margins(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    """The node's output, evaluated from its attributes alone, as onnxruntime computes it.

    Float32 thresholds and comparisons, float32 accumulation of leaf weights in tree order, plus the base
    values. Independent of xgboost: it reads only the ONNX graph.
    """
    a = _node_attributes(model)
    X = np.asarray(X, dtype=np.float32)
    n_rows = X.shape[0]
    n_targets = int(a['n_targets'])
    tree_ids = np.asarray(a['nodes_treeids'])
    node_ids = np.asarray(a['nodes_nodeids'])
    leaf_weight = {(t, n): (c, np.float32(w)) for t, n, c, w in
                   zip(a['target_treeids'], a['target_nodeids'], a['target_ids'], a['target_weights'])}
    scores = np.zeros((n_rows, n_targets), dtype=np.float32)
    for t in np.unique(tree_ids):
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
            target, weight = leaf_weight[(int(t), int(leaf))]
            scores[at == leaf, target] += weight
    return scores + np.asarray(a['base_values'], dtype=np.float32)


def check_model_file(path: str) -> onnx.ModelProto:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets != {'': OPSET_DEFAULT, 'ai.onnx.ml': OPSET_ML} or model.ir_version != IR_VERSION:
        raise ValueError(f'unexpected opsets {opsets} / ir_version {model.ir_version}')
    return model
