"""`torch.nn.functional`: ops register themselves here through engine._registry."""
