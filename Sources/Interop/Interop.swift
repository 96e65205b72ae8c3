/// NumPy .npy, safetensors, PyTorch .pth and TensorBoard event files (DESIGN.md §2).
public enum InteropModule {}
