"""`torch.linalg`: ops register themselves here through engine._registry."""
