/// kNN, linear probes, clustering metrics and galleries (docs/ARCHITECTURE.md).
public enum EvaluationModule {}
