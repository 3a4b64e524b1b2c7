"""A two-layer network learns XOR: matmul, tanh, sigmoid and a hand-written SGD step.

The initial weights come from a fixed formula (no random numbers), so runs are repeatable.

    python -m tape.compare examples/xor_mlp.py
"""

import numpy as np
import torch

inputs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
targets = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

hidden = 4
W1 = torch.tensor(np.sin(np.arange(1, 2 * hidden + 1)).reshape(2, hidden), dtype=torch.float32,
                  requires_grad=True)
b1 = torch.zeros(hidden, requires_grad=True)
W2 = torch.tensor(np.cos(np.arange(1, hidden + 1)).reshape(hidden, 1), dtype=torch.float32,
                  requires_grad=True)
b2 = torch.zeros(1, requires_grad=True)
parameters = [W1, b1, W2, b2]


def forward(x):
    h = torch.tanh(x @ W1 + b1)
    return torch.sigmoid(h @ W2 + b2)


learning_rate = 1.0
losses = []
for step in range(1500):
    out = forward(inputs)
    loss = ((out - targets) ** 2).mean()
    losses.append(loss.item())
    for p in parameters:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in parameters:
            p.sub_(learning_rate * p.grad)
    if step % 300 == 0:
        print(f"step {step:4d}  loss {loss.item():.6f}")

with torch.no_grad():
    predictions = forward(inputs)
print("predictions:", predictions.squeeze(1))
print("rounded:", (predictions > 0.5).squeeze(1).tolist())
print("graph of the last loss:", loss.grad_fn.name())
final_loss = losses[-1]
