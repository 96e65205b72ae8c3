/// Reads files written by PyTorch's `torch.save` without PyTorch and without running any code from them.
///
/// Both serialisation formats are handled:
/// - the zip format (PyTorch ≥ 1.6): `<name>/data.pkl` (the object graph), `<name>/data/<key>` (one entry per
///   storage), `<name>/byteorder`, `<name>/version`;
/// - the legacy format (`_use_new_zipfile_serialization=False`, and every file from before 1.6): five
///   concatenated pickles — the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, the sys-info
///   dict, the object graph, the list of storage keys — followed by each storage as an int64 element count and
///   its raw bytes.
///
/// The object graph is read by `Unpickler`, which allows only plain containers and tensors. Storages are
/// shared between tensors exactly as in the file.
public enum TorchFile {
    /// The legacy format's magic number, as the little-endian bytes of its pickle LONG1.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// The two serialisation formats of `torch.save`.
    public enum Format: String, Sendable {
        /// PyTorch ≥ 1.6: a zip archive.
        case zip
        /// `_use_new_zipfile_serialization=False` and older files: concatenated pickles and raw storages.
        case legacy
    }

    /// The format `path` starts like, or nil when it looks like neither (a safetensors file, whose JSON header
    /// begins at byte 8, is never taken for one), so callers can dispatch on content rather than on the name.
    public static func format(of path: String) -> Format? {
        guard let file = try? MappedFile(path: path), let base = file.bytes, file.count >= 2 else { return nil }
        let b = base.assumingMemoryBound(to: UInt8.self)
        if file.count > 8 && b[8] == UInt8(ascii: "{") { return nil }
        if file.count >= 4 && b[0] == 0x50 && b[1] == 0x4B && b[2] == 0x03 && b[3] == 0x04 { return .zip }
        if b[0] == 0x80 && b[1] >= 2 && b[1] <= 5 { return .legacy }
        return nil
    }

    /// The object saved in the file at `path`.
    public static func load(contentsOf path: String) throws -> TorchValue {
        let file = try MappedFile(path: path)
        guard let base = file.bytes else { throw TorchFileError.malformed(path: path, reason: "the file is empty") }
        return try load(bytes: UnsafeRawBufferPointer(start: base, count: file.count), path: path)
    }

    /// The object saved in `bytes`; `path` names the source in errors.
    public static func load(bytes: UnsafeRawBufferPointer, path: String) throws(TorchFileError) -> TorchValue {
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 {
            return try loadZip(bytes, path: path)
        }
        if bytes.count > 262, String(decoding: UnsafeRawBufferPointer(rebasing: bytes[257..<262]), as: UTF8.self) == "ustar" {
            throw .unsupported(path: path, reason: "the tar format of PyTorch before 0.1.10")
        }
        return try loadLegacy(bytes, path: path)
    }

    // MARK: Zip format

    private static func loadZip(_ bytes: UnsafeRawBufferPointer, path: String) throws(TorchFileError) -> TorchValue {
        let zip = try ZipArchive(bytes: bytes, path: path)
        guard let pickle = zip.entries.first(where: { $0.name.hasSuffix("/data.pkl") && !$0.name.dropLast(9).contains("/") }) else {
            throw .malformed(path: path, reason: "zip archive without <name>/data.pkl (not written by torch.save?)")
        }
        let prefix = String(pickle.name.dropLast(8))
        var bigEndian = false
        if let order = zip.entry(prefix + "byteorder") {
            let text = String(decoding: try zip.contents(of: order), as: UTF8.self)
            guard text == "little" || text == "big" else { throw .malformed(path: path, reason: "byteorder record '\(text.prefix(20))'") }
            bigEndian = text == "big"
        }
        var storages: [String: TorchStorage] = [:]
        let unpickler = Unpickler(path: path) { (pid) throws(TorchFileError) -> Unpickler.Item in
            let (dtype, key, count) = try storageID(pid, path: path)
            if let s = storages[key] {
                guard s.dtype == dtype else { throw .malformed(path: path, reason: "storage '\(key)' used as \(s.dtype) and \(dtype)") }
                return .storage(.init(storage: s, offset: 0, count: s.count))
            }
            guard let entry = zip.entry(prefix + "data/" + key) else {
                throw .malformed(path: path, reason: "storage '\(key)' has no record \(prefix)data/\(key)")
            }
            let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, entry.size == expected else {
                throw .malformed(path: path, reason: "storage '\(key)' of \(count) \(dtype) elements has a \(entry.size)-byte record")
            }
            var data = try zip.contents(of: entry)
            if bigEndian { swapBytes(&data, width: dtype.size) }
            let s = TorchStorage(dtype: dtype, count: count, bytes: data)
            storages[key] = s
            return .storage(.init(storage: s, offset: 0, count: count))
        }
        let data = try zip.contents(of: pickle)
        let result = data.withUnsafeBytes { (raw) -> Result<TorchValue, TorchFileError> in
            var c = ByteCursor(raw, path: path, what: pickle.name)
            do throws(TorchFileError) { return .success(try unpickler.load(&c)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Legacy format

    private static func loadLegacy(_ bytes: UnsafeRawBufferPointer, path: String) throws(TorchFileError) -> TorchValue {
        var c = ByteCursor(bytes, path: path, what: "legacy torch.save stream")
        let plain = Unpickler(path: path) { (_) throws(TorchFileError) -> Unpickler.Item in
            throw .malformed(path: path, reason: "storage reference in a header pickle")
        }
        let magic: TorchValue
        do { magic = try plain.load(&c) } catch {
            if case .refusedGlobal = error { throw error }
            throw .malformed(path: path, reason: "neither a zip archive nor a legacy torch.save stream (\(error))")
        }
        guard case .bigInt(let m) = magic, m == legacyMagic else {
            throw .malformed(path: path, reason: "a pickle, but not a torch.save file (no magic number)")
        }
        guard let protocolVersion = try plain.load(&c).int, protocolVersion == 1001 else {
            throw .unsupported(path: path, reason: "legacy protocol version is not 1001")
        }
        let sysInfo = try plain.load(&c)
        if case .bool(false)? = sysInfo["little_endian"] {
            throw .unsupported(path: path, reason: "a legacy file written on a big-endian machine")
        }
        var storages: [String: TorchStorage] = [:]
        var order: [String] = []
        let unpickler = Unpickler(path: path) { (pid) throws(TorchFileError) -> Unpickler.Item in
            let (dtype, key, count) = try storageID(pid, path: path)
            let root: TorchStorage
            if let s = storages[key] {
                guard s.dtype == dtype else { throw .malformed(path: path, reason: "storage '\(key)' used as \(s.dtype) and \(dtype)") }
                root = s
            } else {
                root = TorchStorage(dtype: dtype, pendingCount: count)
                storages[key] = root
                order.append(key)
            }
            // Old files may reference a view of a root storage: (view_key, offset, size) in elements.
            if case .tuple(let t) = pid, t.count >= 6, case .tuple(let view) = t[5], view.count == 3,
               case .value(.int(let o)) = view[1], case .value(.int(let n)) = view[2] {
                guard let off = Int(exactly: o), let len = Int(exactly: n), off >= 0, len >= 0, off <= root.count,
                      len <= root.count - off else {
                    throw .malformed(path: path, reason: "storage view (\(o), \(n)) outside storage '\(key)' of \(root.count) elements")
                }
                return .storage(.init(storage: root, offset: off, count: len))
            }
            return .storage(.init(storage: root, offset: 0, count: root.count))
        }
        let result = try unpickler.load(&c)
        guard case .list(let keys) = try plain.load(&c) else {
            throw .malformed(path: path, reason: "the storage key list is not a list")
        }
        for k in keys {
            guard let key = k.string, let s = storages[key] else {
                throw .malformed(path: path, reason: "storage key \(k.summary) was not referenced by the data")
            }
            let declared = try c.littleEndian(Int64.self)
            guard declared == Int64(s.count) else {
                throw .malformed(path: path, reason: "storage '\(key)' holds \(declared) elements, the data expects \(s.count)")
            }
            let n = try c.length(declared, unit: s.dtype.size)
            s.fill([UInt8](try c.take(n * s.dtype.size)))
        }
        if let missing = order.first(where: { !storages[$0]!.isFilled }) {
            throw .malformed(path: path, reason: "storage '\(missing)' has no data (truncated?)")
        }
        return result
    }

    // MARK: Helpers

    /// (dtype, key, element count) from a persistent id `('storage', torch.XStorage, key, location, numel, …)`.
    private static func storageID(_ pid: Unpickler.Item, path: String) throws(TorchFileError) -> (TorchDType, String, Int) {
        guard case .tuple(let t) = pid, t.count >= 5, case .value(.string("storage")) = t[0] else {
            throw .malformed(path: path, reason: "persistent id is not ('storage', type, key, location, size)")
        }
        guard case .global(let module, let name) = t[1], module == "torch", let dtype = TorchDType(storageClassName: name) else {
            throw .unsupported(path: path, reason: "storage type in persistent id")
        }
        guard case .value(.string(let key)) = t[2], case .value(.int(let n)) = t[4], n >= 0, let count = Int(exactly: n) else {
            throw .malformed(path: path, reason: "storage key or size in persistent id")
        }
        return (dtype, key, count)
    }

    private static func swapBytes(_ data: inout [UInt8], width: Int) {
        guard width > 1 else { return }
        for i in stride(from: 0, to: data.count, by: width) { data[i..<(i + width)].reverse() }
    }
}
