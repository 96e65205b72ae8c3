/// The SeLa algorithm: Sinkhorn-Knopp, schedules, pseudo-label pass, trainer (docs/ARCHITECTURE.md).
public enum SelfLabellingModule {}
