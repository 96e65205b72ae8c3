/// kNN, linear probes, clustering metrics and galleries (DESIGN.md §2).
public enum EvaluationModule {}
