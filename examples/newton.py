"""Newton's method with gradients and Hessians from autograd.

Minimises Rosenbrock's function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1). The
gradient comes from torch.autograd.grad with create_graph=True, so that each of its
components can be differentiated again for a row of the Hessian. The 2x2 Newton system is
solved in closed form. Then a second problem: a smooth convex function of five variables
whose Hessian is checked against its formula.

    python -m tape.compare examples/newton.py
"""

import numpy as np
import torch


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def gradient_and_hessian(f, p):
    value = f(p)
    (g,) = torch.autograd.grad(value, p, create_graph=True)
    rows = [torch.autograd.grad(g[i], p, retain_graph=True)[0] for i in range(p.shape[0])]
    return value, g.detach(), torch.stack(rows)


p = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
for it in range(8):
    value, g, H = gradient_and_hessian(rosenbrock, p)
    det = H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]
    step = torch.stack([H[1, 1] * g[0] - H[0, 1] * g[1], H[0, 0] * g[1] - H[1, 0] * g[0]]) / det
    with torch.no_grad():
        p -= step
    grad_norm = (g * g).sum().sqrt().item()
    print(f"iter {it}  f = {value.item():.6e}  |grad| = {grad_norm:.3e}  p = {p.tolist()}")

minimum = p.detach().clone()
print("minimum:", minimum)
print("Hessian there:", H)

# a convex function of five variables: f(z) = sum(exp(A z)) + 0.5 |z|^2 (A fixed)
A = torch.tensor(np.cos(np.arange(15.0)).reshape(3, 5) / 2)


def smooth(z):
    return (A @ z).exp().sum() + 0.5 * (z * z).sum()


z = torch.tensor(np.linspace(-0.5, 0.5, 5), requires_grad=True)
value, g, H = gradient_and_hessian(smooth, z)
e = (A @ z).exp().detach()
H_formula = A.t() @ (A * e.unsqueeze(1)) + torch.eye(5, dtype=torch.float64)
print("f(z) =", round(value.item(), 10))
print("Hessian matches its formula:", (H - H_formula).abs().sum().item() < 1e-10)
print("symmetric:", (H - H.t()).abs().sum().item() < 1e-10)
hessian = H
