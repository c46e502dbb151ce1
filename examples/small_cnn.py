"""Small CNN (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Dropout, Linear) on synthetic 8x8 images."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(2)
n = 32
images = torch.randn(n, 1, 8, 8)
labels = (images[:, 0, :4, :].mean(dim=(1, 2)) > images[:, 0, 4:, :].mean(dim=(1, 2))).long()

model = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)),
    nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 2),
)
lr = 0.05
for step in range(15):
    model.train()
    loss = F.cross_entropy(model(images), labels)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    print(f"step {step} loss {loss.item():.6f}")
model.eval()
with torch.no_grad():
    eval_loss = F.cross_entropy(model(images), labels)
print(f"eval loss {eval_loss.item():.6f}")
print(f"running_mean {model[1].running_mean.sum().item():.6f} running_var {model[1].running_var.sum().item():.6f}")
