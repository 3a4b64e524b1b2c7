"""Looking inside autograd: node names, next_functions, hooks, retain_grad, version counters,
saved tensors, and the error an in-place change of a saved tensor causes.

    python -m tape.compare examples/graph_inspection.py
"""

import torch


def walk(node, depth=0, seen=None):
    """Print the backward graph below `node`, one node a line, with output indices."""
    seen = set() if seen is None else seen
    print("  " * depth + node.name(), "(seen before)" if node in seen else "")
    if node in seen:
        return
    seen.add(node)
    for i, (child, _) in enumerate(node.next_functions):
        if child is None:
            print("  " * (depth + 1) + f"None (input {i} needs no gradient)")
        else:
            walk(child, depth + 1, seen)


a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
scale = torch.tensor(0.5)

c = a * b
d = c.sin() * scale + c
e = d.sum()

print("e:", e)
print("e.grad_fn:", e.grad_fn, "name:", e.grad_fn.name())
walk(e.grad_fn)

# identity: the graph's edges point at the very nodes the tensors carry
mul_node = c.grad_fn
add_node = d.grad_fn
print("edge to c's node:", add_node.next_functions[1][0] is mul_node)
acc_a = mul_node.next_functions[0][0]
print("AccumulateGrad of a:", type(acc_a).__name__, acc_a.variable is a)

# what the nodes saved for backward
print("saved self:", mul_node._saved_self)
print("saved other:", mul_node._saved_other)

# hooks: on a tensor, on a node (before and after it runs), and retain_grad
seen_grads = []
c.register_hook(lambda grad: seen_grads.append(("hook on c", grad.clone())))
d.grad_fn.register_prehook(lambda grad_outputs: seen_grads.append(("prehook on AddBackward0",
                                                                  grad_outputs[0].clone())))
mul_node.register_hook(lambda grad_inputs, grad_outputs: seen_grads.append(
    ("hook on MulBackward0", grad_inputs[0].clone())))
c.retain_grad()
a.register_hook(lambda grad: grad * 2)  # a leaf's hook may change the gradient it receives

e.backward()
for label, grad in seen_grads:
    print(label, grad)
print("a.grad (doubled by its hook):", a.grad)
print("b.grad:", b.grad)
print("c.grad (retained):", c.grad, "c.retains_grad:", c.retains_grad)
print("d.grad (not retained):", d.grad if d.is_leaf else "non-leaf, not read")

# version counters: every in-place op bumps the counter shared by a tensor and its views
v = torch.ones(4)
print("version:", v._version)
v.add_(1)
v[0] = 5.0
view = v[1:]
view.mul_(3)
print("versions:", v._version, view._version, "values:", v)

# the in-place error: exp saves its result, so changing that result breaks the backward
p = torch.tensor([0.5, -0.5], requires_grad=True)
q = p.exp()
r = (q * 2).sum()
q.add_(1)
try:
    r.backward()
except RuntimeError as err:
    print("RuntimeError:", str(err).split(":")[0])

# add saves nothing: the same change is harmless there
s = p * 2
t = (s + 1).sum()
s.add_(1)
t.backward()
print("after harmless in-place change:", p.grad)

# and a leaf that requires grad refuses in-place ops
try:
    p.add_(1)
except RuntimeError as err:
    print("RuntimeError:", err)

grads_seen = len(seen_grads)
final_version = v._version
