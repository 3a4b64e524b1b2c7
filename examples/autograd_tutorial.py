"""The autograd tutorial ("PyTorch Autograd Explained"), example by example, as a script.

Each example builds a small graph and prints what the tutorial draws: every tensor's data,
grad, grad_fn, is_leaf and requires_grad, the graph below the result (node names and the
output index on each edge), and then the gradients after backward.

    python -m tape.compare examples/autograd_tutorial.py
"""

import warnings

import torch


def show(**tensors):
    for name, t in tensors.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reading a non-leaf's .grad warns; the tutorial shows None
            grad = t.grad
        print(f"  {name}: data={t.data.tolist()} grad={None if grad is None else grad.tolist()} "
              f"grad_fn={t.grad_fn} is_leaf={t.is_leaf} requires_grad={t.requires_grad}")


def tree(node, indent="  ", edge=""):
    """The graph below `node`: one node a line, `[i]` the output index of each edge."""
    print(f"{indent}{edge}{None if node is None else type(node).__name__}")
    for child, index in () if node is None else node.next_functions:
        tree(child, indent + "    ", f"[{index}] ")


print("1. a single multiply")
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0)
c = a * b
show(a=a, b=b, c=c)
tree(c.grad_fn)
print("  next_functions[0] holds a:", c.grad_fn.next_functions[0][0].variable is a)
c.backward()
show(a=a, b=b)

print("2. a deeper graph")
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b
d = torch.tensor(4.0, requires_grad=True)
e = c * d
tree(e.grad_fn)
print("  e's first edge is c's node:", e.grad_fn.next_functions[0][0] is c.grad_fn)
e.backward()
show(a=a, b=b, c=c, d=d, e=e)

print("3. backward from an intermediate tensor, then from the output")
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b
e = c * torch.tensor(4.0)
c.backward(retain_graph=True)
print("  after c.backward():", a.grad, b.grad)
e.backward()
print("  after e.backward():", a.grad, b.grad, "(accumulated)")

print("4. an in-place change of a saved tensor")
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b
d = torch.tensor(4.0, requires_grad=True)
e = c * d
print("  c._version before:", c._version)
c += 1
print("  c._version after += 1:", c._version)
try:
    e.backward()
except RuntimeError as err:
    print("  backward raised:", "modified by an inplace operation" in str(err))

print("5. add saves nothing, so the same change is harmless")
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b
d = torch.tensor(4.0, requires_grad=True)
e = c + d
c += 1
e.backward()
show(a=a, b=b, d=d)

print("6. unbind: one node, several outputs")
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b, c, d = a.unbind()
print("  one node:", b.grad_fn is c.grad_fn is d.grad_fn, type(b.grad_fn).__name__)
e = b * c * d
tree(e.grad_fn)
e.backward()
print("  a.grad:", a.grad)

print("7. the big example")
a, b = torch.tensor(2.0), torch.tensor(2.0)
c = a * b
c.requires_grad = True
d = torch.tensor(2.0)
e = c * d
f = torch.tensor(2.0)
g = e * f
h = torch.tensor(2.0, requires_grad=True)
i = g / h
j = i + h
k = j * i
i.retain_grad()
tree(k.grad_fn)
k.backward(retain_graph=True)
show(a=a, c=c, e=e, h=h, i=i, k=k)
print("  h's AccumulateGrad is shared:",
      k.grad_fn.next_functions[0][0].next_functions[1][0]
      is k.grad_fn.next_functions[1][0].next_functions[1][0])
k.backward()
print("  after a second backward (graph retained):", c.grad, h.grad)
try:
    k.backward()
except RuntimeError as err:
    print("  a third backward:", "second time" in str(err))

print("8. detach shares data and leaves the graph")
m = k.detach()
m.add_(1.0)
show(k=k, m=m)

print("9. getting values out")
print("  item:", k.item(), type(k.item()).__name__)
try:
    k.numpy()
except RuntimeError as err:
    print("  numpy() refuses:", err)
print("  detached numpy:", k.detach().numpy(), repr(k.detach().numpy().dtype))
print("  tolist:", torch.tensor([[1, 2], [3, 4]]).tolist())

print("10. n-dimensional tensors with broadcasting")
w = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
v = torch.tensor([10.0, 20.0], requires_grad=True)
y = (w * v).sum()
y.backward()
print("  w.grad:", w.grad)
print("  v.grad:", v.grad)
tree(y.grad_fn)
