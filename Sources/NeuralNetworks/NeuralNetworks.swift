/// Layers, models, optimisers and schedules (DESIGN.md §2).
public enum NeuralNetworksModule {}
