/// Reverse-mode automatic differentiation on a tape (DESIGN.md §2).
public enum AutogradModule {}
