"""`torch.special`: ops register themselves here through engine._registry."""
