"""Fit a cubic to samples of a fixed curve by plain gradient descent.

autograd computes the gradient of the loss; the update itself runs under torch.no_grad(),
written by hand, and the gradient is zeroed after each step (the classic warm-up from
PyTorch's "Learning PyTorch with Examples").

    python examples/polyfit.py                    # with torch
    python -m tape.compare examples/polyfit.py    # with torch and with tape, compared
"""

import numpy as np
import torch

# data: a fixed curve sampled on a grid (no random numbers, so both runs see the same data)
x_np = np.linspace(-1.0, 1.0, 64)
y_np = np.sin(2.5 * x_np) + 0.3 * x_np**2

x = torch.tensor(x_np, dtype=torch.float32)
y = torch.tensor(y_np, dtype=torch.float32)
features = torch.stack([x**k for k in range(4)], dim=1)  # 1, x, x^2, x^3: shape (64, 4)
print("features:", features.shape, features.dtype)

coeffs = torch.zeros(4, requires_grad=True)
learning_rate = 0.5

for step in range(301):
    prediction = features @ coeffs
    loss = ((prediction - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        coeffs -= learning_rate * coeffs.grad
        coeffs.grad.zero_()
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.6f}")

print("coefficients:", coeffs)
print("leaf:", coeffs.is_leaf, " requires_grad:", coeffs.requires_grad, " grad:", coeffs.grad)
final_loss = loss.item()
residual = (features @ coeffs - y).detach()
