extension Kernels {
    /// The kernel choices a user can name (`--backend`), stored by name in settings and checkpoints.
    public enum Name: String, CaseIterable, Codable, Sendable {
        /// oneDNN first (`OneDNNBackend`), the reference backend for every op it declines.
        case cpu
        /// The plain reference backend only (Swift loops and OpenBLAS).
        case reference
    }

    /// The kernels `name` stands for.
    public init(named name: Name) {
        switch name {
        case .cpu: self = OneDNNBackend.kernels
        case .reference: self = .reference
        }
    }
}
