import Tensors

extension SafetensorsArchive {
    /// An archive of float32 tensors in the given order (a model's `state_dict`, for example).
    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.init(entries: tensors.map { SafetensorsEntry(name: $0.name, tensor: $0.tensor) }, metadata: metadata)
    }

    /// Every entry as a float32 `Tensor`, in file order.
    /// - Throws: `SafetensorsError.wrongDType` naming the first entry that is not F32.
    public func tensors() throws -> [(name: String, tensor: Tensor)] {
        try entries.map { ($0.name, try $0.tensor()) }
    }
}
