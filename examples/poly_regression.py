"""Polynomial regression (degree 3) with smooth_l1_loss and a Linear layer on x, x^2, x^3."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
x = torch.rand(100, 1) * 4 - 2
y = 0.5 * x ** 3 - x ** 2 + 2 * x + 1 + 0.1 * torch.randn(100, 1)
features = torch.cat([x, x ** 2, x ** 3], dim=1)

model = nn.Linear(3, 1)
lr = 0.02
for step in range(200):
    loss = F.smooth_l1_loss(model(features), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        model.weight -= lr * model.weight.grad
        model.bias -= lr * model.bias.grad
    if step % 25 == 0 or step == 199:
        print(f"step {step} loss {loss.item():.6f}")
print("weight", " ".join(f"{v:.5f}" for v in model.weight.detach().flatten().tolist()))
print(f"bias {model.bias.item():.5f}")
