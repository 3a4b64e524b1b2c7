"""The workloads of benchmarks/suite.py, written once per backend.

A *runner* is a no-argument callable doing one forward + one backward (gradients reset
first) and returning the gradients, backend-native; `to_numpy` turns them into arrays for
the agreement check. tape, torch and MyGrad share one body per workload (`m` is the module);
HIPS autograd runs the same body on `autograd.numpy`; the numpy floor is hand-written: the
forward keeping what the backward needs, and the hand-derived backward.

torch is imported only inside the torch builders, so a process that never asks for the
torch backend never imports it (see the no-torch worker in suite.py).
"""

from __future__ import annotations

import importlib.util

import numpy as np

import tape

BACKENDS = ("tape", "tape.compile", "numpy", "torch", "autograd", "mygrad")
LABELS = {
    "tape": "tape eager",
    "tape.compile": "tape.compile",
    "numpy": "numpy (hand-written floor)",
    "torch": "torch eager (1 thread)",
    "autograd": "HIPS autograd",
    "mygrad": "MyGrad",
}

# Sizes. "quick" and "full" run the sizes (they differ only in rounds and time per
# round); "smoke" is the smallest configuration, for tests/test_benchmarks.py.
SIZES = {
    "full": {"w1_iters": 50, "w2_batch": 64, "w2_dims": (784, 256, 128, 10), "w3_n": 4_000_000,
             "w4_terms": 2500, "w5_steps": (100, 2000), "deep_ops": 100_000},
    "smoke": {"w1_iters": 5, "w2_batch": 8, "w2_dims": (32, 16, 8, 10), "w3_n": 4096,
              "w4_terms": 40, "w5_steps": (5, 20), "deep_ops": 2_000},
}
SIZES["quick"] = SIZES["full"]


def missing(backend: str) -> str | None:
    """Why `backend` cannot run here (None when it can)."""
    if backend == "tape.compile" and not hasattr(tape, "compile"):
        return "tape has no `compile` yet"
    module = {"torch": "torch", "autograd": "autograd", "mygrad": "mygrad"}.get(backend)
    if module and importlib.util.find_spec(module) is None:
        return f"`{module}` is not installed (pip install {module})"
    return None


def to_numpy(g) -> np.ndarray:
    if hasattr(g, "detach"):  # tape and torch tensors
        g = g.detach().numpy()
    elif hasattr(g, "data") and not isinstance(g, np.ndarray):  # a MyGrad tensor
        g = g.data
    return np.asarray(g)


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def _tape_fn(backend, fn):
    """`fn` as tape runs it: eagerly, or through tape.compile (the same code, compiled)."""
    return tape.compile(fn) if backend == "tape.compile" else fn


def _reset(params):
    for p in params:
        p.grad = None


# ---------------------------------------------------------------------------------------
# W1: a 200-op chain on 0-d float64:  y = x; 50 × y = tanh(sin(y * a + x))

W1_X, W1_A = 0.3, 0.7


def w1_chain(m, x, a, iters):
    y = x
    for _ in range(iters):
        y = m.tanh(m.sin(y * a + x))
    return y


def w1_numpy(x, a, iters):
    ys, vs, ts = [], [], []
    y = x
    for _ in range(iters):
        v = y * a + x
        t = np.tanh(np.sin(v))
        ys.append(y)
        vs.append(v)
        ts.append(t)
        y = t
    g = np.float64(1.0)
    gx = ga = np.float64(0.0)
    for i in range(iters - 1, -1, -1):
        t = ts[i]
        gv = g * (1.0 - t * t) * np.cos(vs[i])  # tanh' = 1 - tanh^2, sin' = cos
        gx = gx + gv
        ga = ga + gv * ys[i]
        g = gv * a
    return gx + g, ga


def w1(backend: str, size: dict):
    iters = size["w1_iters"]
    if backend == "numpy":
        x, a = np.float64(W1_X), np.float64(W1_A)
        return lambda: w1_numpy(x, a, iters)
    if backend == "autograd":
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda p: w1_chain(anp, p[0], p[1], iters))
        p = (np.float64(W1_X), np.float64(W1_A))
        return lambda: g(p)
    if backend == "mygrad":
        import mygrad as mg

        x, a = mg.tensor(W1_X), mg.tensor(W1_A)

        def run_mygrad():
            w1_chain(mg, x, a, iters).backward()
            return x.grad, a.grad

        return run_mygrad
    m = _torch() if backend == "torch" else tape
    x = m.tensor(W1_X, dtype=m.float64, requires_grad=True)
    a = m.tensor(W1_A, dtype=m.float64, requires_grad=True)
    f = _tape_fn(backend, lambda x, a: w1_chain(m, x, a, iters))

    def run():
        x.grad = None
        a.grad = None
        f(x, a).backward()
        return x.grad, a.grad

    return run


# ---------------------------------------------------------------------------------------
# W2: MLP 784-256-128-10, batch 64, relu, softmax cross-entropy (mean), float32


def w2_data(size: dict, seed: int = 0):
    """(X, labels, [W1, b1, W2, b2, W3, b3]) as float32 numpy arrays (W is in x out)."""
    rng = np.random.default_rng(seed)
    dims, n = size["w2_dims"], size["w2_batch"]
    x = rng.standard_normal((n, dims[0])).astype(np.float32)
    labels = rng.integers(0, dims[-1], n)
    params = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = 1.0 / np.sqrt(fan_in)  # torch.nn.Linear's default initialisation range
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return x, labels, params


def w2_mlp(relu, x, params):
    w1, b1, w2, b2, w3, b3 = params
    h = relu(x @ w1 + b1)
    h = relu(h @ w2 + b2)
    return h @ w3 + b3


def tape_relu():
    """tape's relu, or one composed from the ops tape has: (function, description)."""
    import tape.nn.functional as F

    if hasattr(F, "relu"):
        return F.relu, "tape.nn.functional.relu"
    if hasattr(tape, "relu"):
        return tape.relu, "tape.relu"
    if hasattr(tape, "clamp"):
        return (lambda z: tape.clamp(z, min=0.0)), "composed: clamp(z, min=0)"
    return (lambda z: z * (z > 0).to(z.dtype)), "composed: z * (z > 0)"


def tape_cross_entropy(n_classes: int):
    """tape's mean softmax cross-entropy, or one composed from the ops tape has:
    (function(logits, labels_long, onehot), description)."""
    import tape.nn.functional as F

    if hasattr(F, "cross_entropy"):
        return (lambda z, y, onehot: F.cross_entropy(z, y)), "tape.nn.functional.cross_entropy"
    if hasattr(F, "log_softmax"):
        lsm, how = (lambda z: F.log_softmax(z, dim=1)), "F.log_softmax"
    elif hasattr(tape, "log_softmax"):
        lsm, how = (lambda z: tape.log_softmax(z, dim=1)), "tape.log_softmax"
    elif hasattr(tape, "logsumexp"):
        lsm, how = (lambda z: z - tape.logsumexp(z, dim=1, keepdim=True)), "z - logsumexp(z)"
    else:
        # no max shift: fine for this benchmark's logits (|z| stays far below exp's float32
        # overflow at 88), and it keeps every value on the tape, so tape.compile can replay it
        lsm, how = (lambda z: z - z.exp().sum(dim=1, keepdim=True).log()), \
            "z - log(sum(exp(z))) (no max shift)"
    return ((lambda z, y, onehot: -(lsm(z) * onehot).sum() / z.shape[0]),
            f"composed: -mean(sum(onehot * {how}))")


def w2_numpy_step(x, labels, params, grads):
    """Forward + hand-derived backward of W2; fills `grads` (a list of 6 arrays or None)."""
    w1, b1, w2, b2, w3, b3 = params
    n = x.shape[0]
    z1 = x @ w1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ w2 + b2
    h2 = np.maximum(z2, 0)
    z3 = h2 @ w3 + b3
    m = z3.max(axis=1, keepdims=True)
    e = np.exp(z3 - m)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) + m[:, 0] - z3[np.arange(n), labels])
    dz3 = e / s  # softmax
    dz3[np.arange(n), labels] -= 1
    dz3 *= np.float32(1.0 / n)
    dh2 = dz3 @ w3.T
    dz2 = dh2 * (z2 > 0)
    dh1 = dz2 @ w2.T
    dz1 = dh1 * (z1 > 0)
    grads[:] = [x.T @ dz1, dz1.sum(axis=0), h1.T @ dz2, dz2.sum(axis=0), h2.T @ dz3, dz3.sum(axis=0)]
    return loss


class W2:
    """One backend's W2: `.step()` is forward + backward (returns the gradients), `.sgd(lr)`
    the parameter update W5 adds. `.notes` says which tape ops were composed."""

    def __init__(self, backend: str, size: dict):
        x, labels, params = w2_data(size)
        n_classes = size["w2_dims"][-1]
        onehot = np.eye(n_classes, dtype=np.float32)[labels]
        self.notes = ""
        if backend == "numpy":
            self.params, grads = params, [None] * 6

            def step():
                w2_numpy_step(x, labels, params, grads)
                return grads

            def sgd(lr):
                for p, g in zip(params, grads):
                    p -= np.float32(lr) * g

        elif backend == "autograd":
            import autograd
            import autograd.numpy as anp
            from autograd.scipy.special import logsumexp

            def loss(ps):
                z = w2_mlp(lambda v: anp.maximum(v, 0.0), x, ps)
                return -anp.sum((z - logsumexp(z, axis=1, keepdims=True)) * onehot) / z.shape[0]

            g = autograd.grad(loss)
            self.params, grads = params, [None] * 6

            def step():
                grads[:] = g(params)
                return grads

            def sgd(lr):
                for p, gr in zip(params, grads):
                    p -= np.float32(lr) * gr

        elif backend == "mygrad":
            import mygrad as mg
            from mygrad.nnet.activations import relu
            from mygrad.nnet.losses import softmax_crossentropy

            ps = [mg.tensor(p) for p in params]
            self.params = ps

            def step():
                softmax_crossentropy(w2_mlp(relu, x, ps), labels).backward()
                return [p.grad for p in ps]

            def sgd(lr):
                for p in ps:
                    p.data[...] -= np.float32(lr) * p.grad

        else:
            if backend == "torch":
                m = _torch()
                import torch.nn.functional as F

                relu, ce = m.relu, (lambda z, y, oh: F.cross_entropy(z, y))
            else:
                m = tape
                relu, relu_how = tape_relu()
                ce, ce_how = tape_cross_entropy(n_classes)
                self.notes = f"relu: {relu_how}; loss: {ce_how}"
            tx, ty, toh = m.tensor(x), m.tensor(labels, dtype=m.int64), m.tensor(onehot)
            ps = [m.tensor(p, requires_grad=True) for p in params]
            self.params = ps
            f = _tape_fn(backend, lambda x_, y_, oh_, *ps_: ce(w2_mlp(relu, x_, ps_), y_, oh_))

            def step():
                _reset(ps)
                f(tx, ty, toh, *ps).backward()
                return [p.grad for p in ps]

            def sgd(lr):
                with m.no_grad():
                    for p in ps:
                        p -= lr * p.grad
                        p.grad = None

        self.step, self.sgd = step, sgd


def w2(backend: str, size: dict):
    return W2(backend, size).step


# ---------------------------------------------------------------------------------------
# W3: a 10-op elementwise chain on 4M float32 (x, w: leaves)


def w3_chain(m, x, w):
    y1 = x * w
    y2 = m.sin(y1)
    y3 = y2 + x
    y4 = y3 * 0.5
    y5 = m.exp(y4)
    y6 = y5 * y2
    y7 = m.cos(y6)
    y8 = y7 - y3
    y9 = m.tanh(y8)
    return m.sum(y9)


def w3_numpy(x, w):
    y1 = x * w
    y2 = np.sin(y1)
    y3 = y2 + x
    y4 = y3 * np.float32(0.5)
    y5 = np.exp(y4)
    y6 = y5 * y2
    y7 = np.cos(y6)
    y8 = y7 - y3
    y9 = np.tanh(y8)
    y9.sum()
    g8 = 1 - y9 * y9  # d sum = 1; tanh' = 1 - tanh^2
    g6 = -np.sin(y6) * g8
    g3 = -g8 + (g6 * y2) * y5 * np.float32(0.5)  # through y8 = y7 - y3 and y5 = exp(y3 / 2)
    g1 = np.cos(y1) * (g6 * y5 + g3)  # y2 feeds y6 and y3
    return g3 + g1 * w, g1 * x


def w3_data(size: dict, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = size["w3_n"]
    return (rng.uniform(-1, 1, n).astype(np.float32), rng.uniform(-1, 1, n).astype(np.float32))


def w3(backend: str, size: dict):
    x, w = w3_data(size)
    if backend == "numpy":
        return lambda: w3_numpy(x, w)
    if backend == "autograd":
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda p: w3_chain(anp, p[0], p[1]))
        return lambda: g((x, w))
    if backend == "mygrad":
        import mygrad as mg

        tx, tw = mg.tensor(x), mg.tensor(w)

        def run_mygrad():
            w3_chain(mg, tx, tw).backward()
            return tx.grad, tw.grad

        return run_mygrad
    m = _torch() if backend == "torch" else tape
    tx = m.tensor(x, requires_grad=True)
    tw = m.tensor(w, requires_grad=True)
    f = _tape_fn(backend, lambda a, b: w3_chain(m, a, b))

    def run():
        tx.grad = None
        tw.grad = None
        f(tx, tw).backward()
        return tx.grad, tw.grad

    return run


# ---------------------------------------------------------------------------------------
# W4: one wide graph of ~10,000 tiny ops: sum over 2,500 terms (w_a * w_b).sum() * s_k,
# added as a balanced tree (3 ops a term, + 2,499 adds = 9,999 ops; depth ~14)

W4_W, W4_S, W4_LEN = 100, 50, 4


def w4_ops(size: dict) -> int:
    return 4 * size["w4_terms"] - 1


def w4_sizes(size: dict) -> tuple[int, int]:
    """How many vector leaves and 0-d leaves (every one of them is used)."""
    return min(W4_W, size["w4_terms"]), min(W4_S, size["w4_terms"])


def w4_pairs(size: dict):
    nw, ns = w4_sizes(size)
    return [(i % nw, (7 * i + 3) % nw, i % ns) for i in range(size["w4_terms"])]


def w4_graph(m, ws, ss, pairs):
    terms = [m.sum(ws[a] * ws[b]) * ss[k] for a, b, k in pairs]
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def w4_numpy(ws, ss, pairs):
    qs = []
    terms = []
    for a, b, k in pairs:
        q = np.sum(ws[a] * ws[b])
        qs.append(q)
        terms.append(q * ss[k])
    while len(terms) > 1:  # the same tree of adds as the other backends
        paired = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    # backward: d out / d term = 1, so d s_k = sum of its q's, d w_a = s_k * w_b (and back)
    gw = [np.zeros(W4_LEN) for _ in ws]
    gs = [np.float64(0.0) for _ in ss]
    for (a, b, k), q in zip(pairs, qs):
        gs[k] = gs[k] + q
        s = ss[k]
        gw[a] += s * ws[b]
        gw[b] += s * ws[a]
    return gw + gs


def w4_data(size: dict, seed: int = 2):
    rng = np.random.default_rng(seed)
    nw, ns = w4_sizes(size)
    return ([rng.standard_normal(W4_LEN) for _ in range(nw)],
            [np.float64(v) for v in rng.standard_normal(ns)])


def w4(backend: str, size: dict):
    ws, ss = w4_data(size)
    pairs = w4_pairs(size)
    nw = len(ws)
    if backend == "numpy":
        return lambda: w4_numpy(ws, ss, pairs)
    if backend == "autograd":
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda p: w4_graph(anp, p[0], p[1], pairs))

        def run_autograd():
            gw, gs = g((ws, ss))
            return list(gw) + list(gs)

        return run_autograd
    if backend == "mygrad":
        import mygrad as mg

        tws, tss = [mg.tensor(v) for v in ws], [mg.tensor(v) for v in ss]

        def run_mygrad():
            w4_graph(mg, tws, tss, pairs).backward()
            return [t.grad for t in tws + tss]

        return run_mygrad
    m = _torch() if backend == "torch" else tape
    tws = [m.tensor(v, requires_grad=True) for v in ws]
    tss = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in ss]
    leaves = tws + tss
    f = _tape_fn(backend, lambda *ls: w4_graph(m, ls[:nw], ls[nw:], pairs))

    def run():
        _reset(leaves)
        f(*leaves).backward()
        return [t.grad for t in leaves]

    return run


# ---------------------------------------------------------------------------------------
# The table the suite iterates over

WORKLOADS = {
    # key: (builder, title, unit, per-call seconds -> unit, rtol, atol relative to max|grad|)
    "W1": (w1, "200-op chain on 0-d float64", "µs/op",
           lambda s, size: s / (4 * size["w1_iters"]) * 1e6, 1e-10, 1e-12),
    "W2": (w2, "MLP 784-256-128-10, batch 64, float32", "ms/step",
           lambda s, size: s * 1e3, 1e-3, 1e-4),
    "W3": (w3, "10-op elementwise chain on 4M float32", "ms",
           lambda s, size: s * 1e3, 1e-4, 1e-5),
    "W4": (w4, "one wide graph of 9,999 tiny ops", "ms",
           lambda s, size: s * 1e3, 1e-10, 1e-12),
}


def compare(ref: list, got: list, rtol: float, atol_rel: float) -> float:
    """Largest |got - ref| / (atol + rtol |ref|) over all gradients (agreement: <= 1);
    raises ValueError on a count or shape mismatch."""
    if len(ref) != len(got):
        raise ValueError(f"{len(got)} gradients, expected {len(ref)}")
    worst = 0.0
    for r, g in zip(ref, got):
        r, g = to_numpy(r).astype(np.float64), to_numpy(g).astype(np.float64)
        if r.shape != g.shape:
            raise ValueError(f"gradient of shape {g.shape}, expected {r.shape}")
        atol = atol_rel * max(float(np.max(np.abs(r))) if r.size else 0.0, 1e-30)
        err = np.abs(g - r) / (atol + rtol * np.abs(r))
        worst = max(worst, float(np.max(err)) if err.size else 0.0)
        if not np.all(np.isfinite(g)):
            return float("inf")
    return worst
