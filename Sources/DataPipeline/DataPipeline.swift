/// Datasets, decoding, transforms and the prefetching loader (DESIGN.md §2).
public enum DataPipelineModule {}
