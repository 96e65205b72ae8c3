/// NumPy .npy, safetensors, PyTorch .pth and TensorBoard event files (docs/ARCHITECTURE.md).
public enum InteropModule {}
