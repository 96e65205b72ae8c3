/// How the pseudo-label pass runs the network over the training set before each label optimisation
/// (`--pl-mode`).
public enum PseudoLabelPassMode: String, Codable, Sendable, CaseIterable {
    /// The official `main.py`/`cifar.py` pass (`cpu_sk`/`gpu_sk` over `self.pseudo_loader`, which is the
    /// training loader): the network stays in training mode — batch normalisation with batch statistics and
    /// its running statistics updated, dropout on — over the augmented training transform (`--augs`) in
    /// shuffled order; each output is stored at its sample's index.
    case official
    /// SelfLabel's default: evaluation mode (running statistics, no dropout), the pseudo-label transform
    /// (`--paugs`, default unaugmented), data order. The labels then follow the network, not one random view.
    case eval
}
