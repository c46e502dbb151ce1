"""MLP classifier on synthetic 3-class data (cross_entropy, plain SGD)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
n, d, k = 64, 4, 3
centers = torch.randn(k, d) * 2.0
labels = torch.randint(0, k, (n,))
x = centers[labels] + torch.randn(n, d) * 0.5

model = nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, k))
lr = 0.1
for step in range(30):
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    if step % 5 == 0 or step == 29:
        print(f"step {step} loss {loss.item():.6f}")
accuracy = (model(x).argmax(dim=1) == labels).float().mean()
print(f"accuracy {accuracy.item():.6f}")
for name, p in model.named_parameters():
    print(f"param {name} {p.sum().item():.6f}")
