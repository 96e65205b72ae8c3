extension TorchTensor {
    /// A contiguous float32 tensor holding `values` (row-major) with `shape`.
    public init(float32 values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "TorchTensor: \(values.count) values for shape \(shape)")
        var data = [UInt8](repeating: 0, count: values.count * 4)
        data.withUnsafeMutableBytes { d in
            for (i, v) in values.enumerated() { d.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        self.init(contiguous: TorchStorage(dtype: .float32, count: values.count, bytes: data), shape: shape)
    }

    /// A contiguous int64 tensor holding `values` (row-major) with `shape`.
    public init(int64 values: [Int64], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "TorchTensor: \(values.count) values for shape \(shape)")
        var data = [UInt8](repeating: 0, count: values.count * 8)
        data.withUnsafeMutableBytes { d in
            for (i, v) in values.enumerated() { d.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: Int64.self) }
        }
        self.init(contiguous: TorchStorage(dtype: .int64, count: values.count, bytes: data), shape: shape)
    }

    private init(contiguous storage: TorchStorage, shape: [Int]) {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() { strides[axis] = step; step *= max(shape[axis], 1) }
        // A contiguous view of its own storage always passes the bounds check.
        try! self.init(storage: storage, offset: 0, shape: shape, strides: strides, path: "<memory>")
    }
}

extension TorchFile {
    /// `value` serialised in the zip format of `torch.save` (PyTorch ≥ 1.6): `archive/data.pkl`,
    /// `archive/byteorder`, `archive/data/<key>` per storage, `archive/version`. `torch.load(path,
    /// weights_only=True)` opens it.
    public static func serialized(_ value: TorchValue, path: String = "<memory>") throws(TorchFileError) -> [UInt8] {
        var pickle = PickleWriter()
        try pickle.write(value)
        pickle.finish()
        var zip = ZipWriter(path: path)
        try zip.add("archive/data.pkl", pickle.bytes)
        try zip.add("archive/byteorder", Array("little".utf8))
        for (key, storage) in pickle.storages { try zip.add("archive/data/\(key)", storage.bytes) }
        try zip.add("archive/version", Array("3\n".utf8))
        try zip.add("archive/.data/version", Array("3\n".utf8))
        return try zip.finish()
    }

    /// Writes `value` to `path` atomically in the zip format (see `serialized(_:path:)`).
    public static func write(_ value: TorchValue, to path: String) throws {
        try AtomicFile.write(to: path, bytes: try serialized(value, path: path))
    }
}
