"""Train, torch.save the state_dict, torch.load it into a fresh model, continue training."""
import io

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(4)
x = torch.randn(48, 5)
y = (x[:, 0] * 2 - x[:, 1] + 0.5 * x[:, 2]).unsqueeze(1)


def make():
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 1))


def train(model, steps, tag):
    for step in range(steps):
        loss = F.mse_loss(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
        print(f"{tag} step {step} loss {loss.item():.6f}")


model = make()
train(model, 5, "before")
buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
restored = make()
print(restored.load_state_dict(torch.load(buffer, weights_only=True)))
train(restored, 5, "after")
for name, p in restored.named_parameters():
    print(f"param {name} {p.sum().item():.6f}")
