"""Softmax regression on scikit-learn's handwritten digits, trained with cross_entropy.

8x8 images (64 features scaled to [0, 1]) of the digits 0-9, shipped with scikit-learn (no
download). A linear model `X @ W + b` is trained by full-batch gradient descent on
F.cross_entropy, with the update written by hand under torch.no_grad(); then tested on
the images it has not seen.

    python -m tape.compare examples/digits_softmax.py
"""

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
labels = torch.tensor(digits.target)
print("data:", X.shape, X.dtype, "labels:", labels.shape, labels.dtype)

n_train = 1500
X_train, y_train = X[:n_train], labels[:n_train]
X_test, y_test = X[n_train:], labels[n_train:]

W = torch.zeros(64, 10, requires_grad=True)
b = torch.zeros(10, requires_grad=True)
learning_rate = 0.5

for epoch in range(101):
    logits = X_train @ W + b
    loss = F.cross_entropy(logits, y_train)
    loss.backward()
    with torch.no_grad():
        W -= learning_rate * W.grad
        b -= learning_rate * b.grad
        W.grad.zero_()
        b.grad.zero_()
    if epoch % 20 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.5f}")

print("graph of the loss:", loss.grad_fn.name(), "<-",
      [type(n).__name__ for n, _ in loss.grad_fn.next_functions if n is not None])

with torch.no_grad():
    test_logits = X_test @ W + b
    predicted = test_logits.argmax(dim=1)
    accuracy = (predicted == y_test).float().mean().item()
    probabilities = F.softmax(test_logits[:3], dim=1)

print(f"test accuracy: {accuracy:.4f}")
print("first predictions:", predicted[:10].tolist(), "labels:", y_test[:10].tolist())
print("probabilities of the first test image:", probabilities[0])
