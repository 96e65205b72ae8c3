/// Writes a `TorchValue` as a protocol-2 pickle in the form `torch.save` produces: dicts as
/// `collections.OrderedDict`, tensors through `torch._utils._rebuild_tensor_v2` with a persistent id
/// `('storage', torch.<Type>Storage, key, 'cpu', numel)` per distinct storage. Everything it emits is
/// accepted by `torch.load(..., weights_only=True)`.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 2]
    /// Storages in first-use order, with their keys ("0", "1", …).
    private(set) var storages: [(key: String, storage: TorchStorage)] = []
    private var keys: [ObjectIdentifier: String] = [:]

    private mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    private mutating func int(_ v: Int64) {
        if v >= 0 && v < 256 { bytes += [0x4B, UInt8(v)] }
        else if let w = Int32(exactly: v) { bytes.append(0x4A); for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * Int32(i)))) } }
        else { bytes += [0x8A, 8]; for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * Int64(i)))) } }
    }

    private mutating func string(_ s: String) {
        let u = Array(s.utf8)
        bytes.append(0x58)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: u.count >> (8 * i))) }
        bytes += u
    }

    private mutating func intTuple(_ values: [Int]) {
        bytes.append(0x28)
        for v in values { int(Int64(v)) }
        bytes.append(0x74)
    }

    /// Appends `value`.
    mutating func write(_ value: TorchValue) throws(TorchFileError) {
        switch value {
        case .none: bytes.append(0x4E)
        case .bool(let b): bytes.append(b ? 0x88 : 0x89)
        case .int(let v): int(v)
        case .bigInt(let b):
            guard b.count < 256 else { throw .unsupported(path: "<pickle>", reason: "integer of \(b.count) bytes") }
            bytes += [0x8A, UInt8(b.count)] + b
        case .float(let d):
            bytes.append(0x47)
            let bits = d.bitPattern
            for i in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
        case .string(let s): string(s)
        case .bytes(let b):
            bytes.append(0x42)
            for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: b.count >> (8 * i))) }
            bytes += b
        case .list(let items):
            bytes += [0x5D, 0x28]
            for x in items { try write(x) }
            bytes.append(0x65)
        case .tuple(let items):
            bytes.append(0x28)
            for x in items { try write(x) }
            bytes.append(0x74)
        case .dict(let items):
            global("collections", "OrderedDict")
            bytes += [0x29, 0x52, 0x28]
            for (k, v) in items { try write(k); try write(v) }
            bytes.append(0x75)
        case .tensor(let t):
            global("torch._utils", "_rebuild_tensor_v2")
            bytes += [0x28, 0x28]
            string("storage")
            global("torch", t.storage.dtype.storageClassName)
            let id = ObjectIdentifier(t.storage)
            let key = keys[id] ?? {
                let k = String(storages.count)
                keys[id] = k
                storages.append((k, t.storage))
                return k
            }()
            string(key)
            string("cpu")
            int(Int64(t.storage.count))
            bytes += [0x74, 0x51]  // TUPLE, BINPERSID
            int(Int64(t.offset))
            intTuple(t.shape)
            intTuple(t.strides)
            bytes.append(0x89)  // requires_grad False
            global("collections", "OrderedDict")
            bytes += [0x29, 0x52, 0x74, 0x52]  // (), REDUCE → hooks; TUPLE; REDUCE
        }
    }

    /// Ends the pickle.
    mutating func finish() { bytes.append(0x2E) }
}
