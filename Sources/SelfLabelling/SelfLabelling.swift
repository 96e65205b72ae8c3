/// The SeLa algorithm: Sinkhorn-Knopp, schedules, pseudo-label pass, trainer (DESIGN.md §2).
public enum SelfLabellingModule {}
