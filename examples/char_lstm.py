"""Char-level LSTM language model: Embedding -> LSTM (2 layers, batch_first) -> Linear, a few SGD steps."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(3)
text = "hello world, hello torch, hello engine. "
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = torch.tensor([index[c] for c in text])
inputs, targets = data[:-1].unsqueeze(0), data[1:].unsqueeze(0)


class CharModel(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.head(out)


model = CharModel(len(chars), 16)
lr = 0.5
for step in range(10):
    logits = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1))
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    print(f"step {step} loss {loss.item():.6f}")
print(f"lstm weight_hh_l1 {model.lstm.weight_hh_l1.sum().item():.6f}")
