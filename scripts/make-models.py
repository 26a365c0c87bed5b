#!/usr/bin/python3
"""Makes the committed ONNX fixtures of models/fixtures/ and their independent references.

Run with Debian's python (python3-torch, python3-onnx, python3-sklearn), from the repository root:

    /usr/bin/python3 scripts/make-models.py

Deterministic: fixed seeds, one torch thread, deterministic algorithms; rerunning it rewrites the same
weights (the .onnx bytes may differ only if the Debian packages change version).

Writes, into models/fixtures/:
- mlp.onnx: a PyTorch MLP 6 -> 16 (tanh) -> 16 (relu) -> 1 exported with torch.onnx.export, dynamic
  batch axis; the input standardisation is folded into the first layer's weights so the graph is
  Gemm/Tanh/Relu only. Output `alpha_bps`: the expected 5-minute forward return, basis points.
- trees.onnx: a scikit-learn GradientBoostingRegressor (20 trees, depth 3) on the same data, written
  by hand as one ai.onnx.ml TreeEnsembleRegressor (skl2onnx is not packaged by Debian); the learning
  rate is folded into the leaf weights and the initial estimate is the base value.
- mlp.weights.json, trees.weights.json: the same weights as plain arrays (float32 values), for the
  TypeScript test's independent evaluation.
- reference.json: input rows and the outputs numpy (MLP, float64 from the float32 weights) and
  scikit-learn (`predict`) compute for them.
- nan.onnx (y = Log(x), 6 columns: NaN for x < 0, -Inf for x = 0), throw.onnx (a Reshape to [4, -1]
  that fails at run time for one row of 6), int-input.onnx (an int64 input), two-inputs.onnx (a second
  input), fixed-batch.onnx (y = 2x with shape [1, 6], no batch axis): fixtures for the error and
  shape tests.

The training data is synthetic, with features named after Lockstep factor columns at plausible
scales; the target is a made-up forward return with a little non-linearity and noise. The models are
meant to be small and real (trained by the real trainers), not to be good alphas.
"""
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from sklearn.ensemble import GradientBoostingRegressor

SEED = 17
FEATURES = ['return_1m', 'rsi_14', 'macd_hist', 'rv_20m', 'quote_imbalance', 'volume_power_1m']
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'models', 'fixtures')
ONNX_OPSET = 13
ML_OPSET = 3


def synthetic(n, rng):
    """Rows of FEATURES at the factors' scales and a forward return in basis points."""
    ret = rng.normal(0.0, 0.001, n)
    rsi = rng.uniform(10.0, 90.0, n)
    macd = rng.normal(0.0, 0.05, n)
    rv = rng.lognormal(np.log(0.01), 0.4, n)
    qi = rng.uniform(-1.0, 1.0, n)
    vp = rng.uniform(0.0, 1.0, n)
    x = np.stack([ret, rsi, macd, rv, qi, vp], axis=1)
    # momentum, RSI mean reversion, quote pressure stronger when volume is one-sided, vol scaling
    y = 3000.0 * ret - 0.08 * (rsi - 50.0) + 20.0 * macd + 4.0 * qi * (2.0 * vp - 1.0) * (rv / 0.01)
    y = y + rng.normal(0.0, 1.0, n)
    return x.astype(np.float32), y.astype(np.float32)


def f32list(a):
    """float32 values as JSON numbers: float() of a float32 is exact, repr is the shortest round trip."""
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def make_mlp(x, y, rows):
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    xs = torch.from_numpy((x - mean) / std)
    yt = torch.from_numpy(y).reshape(-1, 1)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
    )
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(400):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(xs), yt)
        loss.backward()
        opt.step()
    print(f'mlp: train mse {loss.item():.3f} (target variance {float(y.var()):.3f})')
    # fold the standardisation into the first layer: W (x - m) / s + b = (W / s) x + (b - W m / s)
    with torch.no_grad():
        w1 = net[0].weight.double().numpy()
        b1 = net[0].bias.double().numpy()
        w1f = (w1 / std.astype(np.float64)).astype(np.float32)
        b1f = (b1 - w1 @ (mean.astype(np.float64) / std.astype(np.float64))).astype(np.float32)
        net[0].weight.copy_(torch.from_numpy(w1f))
        net[0].bias.copy_(torch.from_numpy(b1f))
    net.eval()
    path = os.path.join(OUT, 'mlp.onnx')
    torch.onnx.export(
        net, torch.zeros(1, 6), path, input_names=['x'], output_names=['alpha_bps'],
        dynamic_axes={'x': {0: 'batch'}, 'alpha_bps': {0: 'batch'}}, opset_version=ONNX_OPSET, do_constant_folding=True,
    )
    layers = []
    for i, act in ((0, 'tanh'), (2, 'relu'), (4, 'none')):
        lin = net[i]
        layers.append({
            'in': lin.in_features, 'out': lin.out_features, 'activation': act,
            # row-major [out][in]: y[o] = act(sum_i W[o][i] x[i] + b[o])
            'weight': f32list(lin.weight.detach().numpy()), 'bias': f32list(lin.bias.detach().numpy()),
        })
    write_json('mlp.weights.json', {'features': FEATURES, 'output': 'alpha_bps', 'layers': layers})
    # numpy reference in float64 from the float32 weights and the float32 inputs
    h = rows.astype(np.float64)
    for layer in layers:
        w = np.array(layer['weight'], dtype=np.float64).reshape(layer['out'], layer['in'])
        h = h @ w.T + np.array(layer['bias'], dtype=np.float64)
        if layer['activation'] == 'tanh':
            h = np.tanh(h)
        elif layer['activation'] == 'relu':
            h = np.maximum(h, 0.0)
    with torch.no_grad():
        torch_out = net(torch.from_numpy(rows)).numpy()
    return [float(v) for v in h[:, 0]], f32list(torch_out[:, 0])


def make_trees(x, y, rows):
    gbr = GradientBoostingRegressor(n_estimators=20, max_depth=3, learning_rate=0.1, random_state=SEED)
    gbr.fit(x, y)
    print(f'trees: train mse {float(np.mean((gbr.predict(x) - y) ** 2)):.3f}')
    lr = gbr.learning_rate
    base = np.float32(gbr.init_.constant_.ravel()[0])
    a = {k: [] for k in ('treeids', 'nodeids', 'featureids', 'modes', 'values', 'true', 'false')}
    t_tree, t_node, t_weight = [], [], []
    trees = []
    for t, est in enumerate(gbr.estimators_[:, 0]):
        tr = est.tree_
        thr = np.asarray(tr.threshold, dtype=np.float32)
        leafw = np.asarray(lr * tr.value[:, 0, 0], dtype=np.float32)
        tree = {'feature': [], 'threshold': [], 'left': [], 'right': [], 'leaf': [], 'weight': []}
        for n in range(tr.node_count):
            leaf = bool(tr.children_left[n] == -1)
            a['treeids'].append(t)
            a['nodeids'].append(n)
            a['featureids'].append(0 if leaf else int(tr.feature[n]))
            a['modes'].append('LEAF' if leaf else 'BRANCH_LEQ')
            a['values'].append(0.0 if leaf else float(thr[n]))
            a['true'].append(0 if leaf else int(tr.children_left[n]))
            a['false'].append(0 if leaf else int(tr.children_right[n]))
            if leaf:
                t_tree.append(t)
                t_node.append(n)
                t_weight.append(float(leafw[n]))
            tree['feature'].append(-1 if leaf else int(tr.feature[n]))
            tree['threshold'].append(0.0 if leaf else float(thr[n]))
            tree['left'].append(-1 if leaf else int(tr.children_left[n]))
            tree['right'].append(-1 if leaf else int(tr.children_right[n]))
            tree['leaf'].append(leaf)
            tree['weight'].append(float(leafw[n]) if leaf else 0.0)
        trees.append(tree)
    node = helper.make_node(
        'TreeEnsembleRegressor', ['x'], ['alpha_bps'], domain='ai.onnx.ml', n_targets=1,
        nodes_treeids=a['treeids'], nodes_nodeids=a['nodeids'], nodes_featureids=a['featureids'],
        nodes_modes=a['modes'], nodes_values=a['values'], nodes_truenodeids=a['true'], nodes_falsenodeids=a['false'],
        nodes_missing_value_tracks_true=[0] * len(a['nodeids']),
        target_treeids=t_tree, target_nodeids=t_node, target_ids=[0] * len(t_node), target_weights=t_weight,
        base_values=[float(base)], aggregate_function='SUM', post_transform='NONE',
    )
    graph = helper.make_graph(
        [node], 'gbr_trees',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 6])],
        [helper.make_tensor_value_info('alpha_bps', TensorProto.FLOAT, ['batch', 1])],
    )
    save(graph, 'trees.onnx', ml=True)
    write_json('trees.weights.json', {'features': FEATURES, 'output': 'alpha_bps', 'base': float(base), 'trees': trees})
    return [float(v) for v in gbr.predict(rows)]


def save(graph, name, ml=False):
    opsets = [helper.make_opsetid('', ONNX_OPSET)] + ([helper.make_opsetid('ai.onnx.ml', ML_OPSET)] if ml else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name='lockstep scripts/make-models.py')
    # IR 8 (ONNX 1.10+) is read by every onnxruntime since 1.10, whatever this onnx package defaults to
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name))


def make_error_fixtures():
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 6])
    # NaN for x < 0 and -Inf for x = 0, per column: a model that returns non-finite values at run time
    save(helper.make_graph([helper.make_node('Log', ['x'], ['y'])], 'nan_on_negative', [x],
                           [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 6])]), 'nan.onnx')
    # loads fine (the batch is symbolic) but one row of 6 values cannot be reshaped to [4, -1]
    shape = helper.make_tensor('shape', TensorProto.INT64, [2], [4, -1])
    save(helper.make_graph([helper.make_node('Reshape', ['x', 'shape'], ['y'])], 'throws_at_run_time', [x],
                           [helper.make_tensor_value_info('y', TensorProto.FLOAT, [4, 'rest'])], initializer=[shape]),
         'throw.onnx')
    xi = helper.make_tensor_value_info('x', TensorProto.INT64, ['batch', 6])
    save(helper.make_graph([helper.make_node('Cast', ['x'], ['y'], to=TensorProto.FLOAT)], 'int64_input', [xi],
                           [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 6])]), 'int-input.onnx')
    # a second graph input the fold cannot feed
    mask = helper.make_tensor_value_info('mask', TensorProto.FLOAT, ['batch', 6])
    save(helper.make_graph([helper.make_node('Mul', ['x', 'mask'], ['y'])], 'two_inputs', [x, mask],
                           [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 6])]), 'two-inputs.onnx')
    # a graph exported with a fixed batch of 1 (no dynamic axis): y = x * 2, one row per run
    x1 = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 6])
    two = helper.make_tensor('two', TensorProto.FLOAT, [], [2.0])
    save(helper.make_graph([helper.make_node('Mul', ['x', 'two'], ['y'])], 'fixed_batch', [x1],
                           [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 6])], initializer=[two]), 'fixed-batch.onnx')


def write_json(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(SEED)
    x, y = synthetic(4000, rng)
    rows, _ = synthetic(12, np.random.RandomState(SEED + 1))
    mlp_numpy, mlp_torch = make_mlp(x, y, rows)
    trees_sklearn = make_trees(x, y, rows)
    make_error_fixtures()
    write_json('reference.json', {
        'features': FEATURES,
        'note': 'rows are float32 values; mlp: numpy float64 from the float32 weights (and torch float32); trees: sklearn predict',
        'rows': [f32list(r) for r in rows],
        'mlp': {'output': 'alpha_bps', 'numpy': mlp_numpy, 'torch': mlp_torch},
        'trees': {'output': 'alpha_bps', 'sklearn': trees_sklearn},
    })
    for name in sorted(os.listdir(OUT)):
        print(f'  {name}: {os.path.getsize(os.path.join(OUT, name)):,} bytes')


if __name__ == '__main__':
    main()
