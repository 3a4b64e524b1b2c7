"""A custom autograd.Function in a training loop: PyTorch's Legendre-polynomial example.

y = a + b * P3(c + d * x) is fitted to sin(x), where P3(t) = (5t^3 - 3t) / 2 is a custom
`torch.autograd.Function` with its own forward and backward (from "Learning PyTorch with
Examples: Defining new autograd functions"). The weights are updated by hand.

    python -m tape.compare examples/custom_function.py
"""

import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    """P3(t) = (5t^3 - 3t) / 2, with P3'(t) = 1.5 (5t^2 - 1)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# the tutorial's starting point, chosen so the fit converges
a = torch.full((), 0.0, requires_grad=True)
b = torch.full((), -1.0, requires_grad=True)
c = torch.full((), 0.0, requires_grad=True)
d = torch.full((), 0.3, requires_grad=True)

learning_rate = 5e-6
P3 = LegendrePolynomial3.apply
for t in range(500):
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, f"{loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        for w in (a, b, c, d):
            w -= learning_rate * w.grad
            w.grad = None

print("node:", type(y_pred.grad_fn).__name__, "<-",
      [type(n).__name__ for n, _ in y_pred.grad_fn.next_functions])
inner = y_pred.grad_fn.next_functions[1][0].next_functions[1][0]
print("custom node:", type(inner).__name__, inner.next_functions[0][0].name())
print(f"Result: y = {a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} + {d.item():.4f} x)")
final_loss = loss.item()
