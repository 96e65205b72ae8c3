/// A restricted Python unpickler (protocols 2–5, and the text opcodes of 0–1 that PyTorch files can hold) that
/// never executes code: it builds only plain values, containers, storages and tensors, and refuses every global
/// outside a short allow-list (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `_rebuild_parameter`, `_rebuild_parameter_with_state` and the storage classes of `TorchDType`), naming it —
/// the same policy as PyTorch's `torch.load(..., weights_only=True)`.
///
/// Memo references and shared containers are kept as shared references while unpickling; the result is
/// converted to `TorchValue` with a depth limit and a node budget, so cyclic or exponentially shared pickles
/// give an error instead of exhausting the stack or memory.
struct Unpickler {
    /// A storage (or, in the legacy format, a view of one: `offset` and `count` in elements).
    struct StorageView {
        var storage: TorchStorage
        var offset: Int
        var count: Int
    }

    final class ListBox { var items: [Item] = [] }
    final class DictBox { var items: [(Item, Item)] = [] }

    /// An object on the unpickler's stack.
    enum Item {
        case value(TorchValue)
        case tuple([Item])
        case list(ListBox)
        case dict(DictBox)
        case global(module: String, name: String)
        case storage(StorageView)
    }

    static let allowedGlobals: Set<String> = {
        var s: Set<String> = ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                              "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"]
        for t in TorchDType.allCases { s.insert("torch.\(t.storageClassName)") }
        return s
    }()

    let path: String
    /// Resolves a persistent id (PyTorch: `('storage', StorageClass, key, location, numel[, view])`).
    let persistentLoad: (Item) throws(TorchFileError) -> Item

    init(path: String, persistentLoad: @escaping (Item) throws(TorchFileError) -> Item) {
        self.path = path
        self.persistentLoad = persistentLoad
    }

    /// Unpickles one pickle starting at `cursor.position`; leaves the cursor after its STOP opcode.
    func load(_ cursor: inout ByteCursor) throws(TorchFileError) -> TorchValue {
        let item = try run(&cursor)
        var budget = max(1_000_000, cursor.bytes.count)
        return try convert(item, depth: 0, budget: &budget)
    }

    // MARK: The opcode loop

    private func run(_ c: inout ByteCursor) throws(TorchFileError) -> Item {
        var stack: [Item] = []
        var marks: [Int] = []
        var memo: [Int: Item] = [:]

        func fail(_ reason: String) -> TorchFileError { c.fail(reason) }
        func pop() throws(TorchFileError) -> Item {
            guard let top = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("stack underflow") }
            return top
        }
        func popMark() throws(TorchFileError) -> [Item] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK on the stack") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func string(_ raw: UnsafeRawBufferPointer) -> Item { .value(.string(String(decoding: raw, as: UTF8.self))) }
        func put(_ key: Int) throws(TorchFileError) {
            guard let top = stack.last else { throw fail("memo store from an empty stack") }
            memo[key] = top
        }
        func get(_ key: Int) throws(TorchFileError) {
            guard let v = memo[key] else { throw fail("memo key \(key) was never stored") }
            stack.append(v)
        }
        func setItems(_ pairs: [Item], into target: Item) throws(TorchFileError) {
            guard case .dict(let box) = target else { throw fail("SETITEM(S) on a non-dict") }
            guard pairs.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
            for i in stride(from: 0, to: pairs.count, by: 2) { box.items.append((pairs[i], pairs[i + 1])) }
        }
        func append(_ values: [Item], to target: Item) throws(TorchFileError) {
            guard case .list(let box) = target else { throw fail("APPEND(S) on a non-list") }
            box.items.append(contentsOf: values)
        }

        while true {
            let op = try c.u8()
            switch op {
            case 0x80:  // PROTO
                let v = try c.u8()
                guard v <= 5 else { throw .unsupported(path: path, reason: "pickle protocol \(v)") }
            case 0x95: _ = try c.littleEndian(UInt64.self)  // FRAME: only a length hint
            case 0x2E:  // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail("STOP with \(stack.count) items on the stack") }
                return stack[0]
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32:  // DUP
                guard let top = stack.last else { throw fail("DUP on an empty stack") }
                stack.append(top)
            case 0x4E: stack.append(.value(.none))
            case 0x88: stack.append(.value(.bool(true)))
            case 0x89: stack.append(.value(.bool(false)))
            case 0x4A: stack.append(.value(.int(Int64(try c.littleEndian(Int32.self)))))  // BININT
            case 0x4B: stack.append(.value(.int(Int64(try c.u8()))))  // BININT1
            case 0x4D: stack.append(.value(.int(Int64(try c.littleEndian(UInt16.self)))))  // BININT2
            case 0x8A, 0x8B:  // LONG1, LONG4
                let n = op == 0x8A ? Int(try c.u8()) : try c.length(try c.littleEndian(Int32.self))
                stack.append(.value(Self.integer(littleEndian: [UInt8](try c.take(n)))))
            case 0x49, 0x4C:  // INT, LONG (text)
                var text = try c.line()
                if op == 0x4C, text.hasSuffix("L") { text.removeLast() }
                if op == 0x49, text == "01" { stack.append(.value(.bool(true))) }
                else if op == 0x49, text == "00" { stack.append(.value(.bool(false))) }
                else if let v = Int64(text) { stack.append(.value(.int(v))) }
                else { throw fail("bad integer literal '\(text.prefix(40))'") }
            case 0x47:  // BINFLOAT (big-endian)
                stack.append(.value(.float(Double(bitPattern: try c.bigEndian(UInt64.self)))))
            case 0x46:  // FLOAT (text)
                let text = try c.line()
                guard let v = Double(text) else { throw fail("bad float literal '\(text.prefix(40))'") }
                stack.append(.value(.float(v)))
            case 0x58: stack.append(string(try c.take(try c.length(try c.littleEndian(UInt32.self)))))  // BINUNICODE
            case 0x8C, 0x55: stack.append(string(try c.take(Int(try c.u8()))))  // SHORT_BINUNICODE, SHORT_BINSTRING
            case 0x8D: stack.append(string(try c.take(try c.length(try c.littleEndian(UInt64.self)))))  // BINUNICODE8
            case 0x54: stack.append(string(try c.take(try c.length(try c.littleEndian(Int32.self)))))  // BINSTRING
            case 0x43: stack.append(.value(.bytes([UInt8](try c.take(Int(try c.u8()))))))  // SHORT_BINBYTES
            case 0x42: stack.append(.value(.bytes([UInt8](try c.take(try c.length(try c.littleEndian(UInt32.self)))))))
            case 0x8E, 0x96:  // BINBYTES8, BYTEARRAY8
                stack.append(.value(.bytes([UInt8](try c.take(try c.length(try c.littleEndian(UInt64.self)))))))
            case 0x5D: stack.append(.list(ListBox()))  // EMPTY_LIST
            case 0x61:  // APPEND
                let v = try pop()
                guard let target = stack.last else { throw fail("APPEND without a list") }
                try append([v], to: target)
            case 0x65:  // APPENDS
                let values = try popMark()
                guard let target = stack.last else { throw fail("APPENDS without a list") }
                try append(values, to: target)
            case 0x6C:  // LIST
                let box = ListBox()
                box.items = try popMark()
                stack.append(.list(box))
            case 0x29: stack.append(.tuple([]))
            case 0x74: stack.append(.tuple(try popMark()))
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(); let a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let z = try pop(); let b = try pop(); let a = try pop(); stack.append(.tuple([a, b, z]))
            case 0x7D: stack.append(.dict(DictBox()))  // EMPTY_DICT
            case 0x64:  // DICT
                let box = DictBox()
                try setItems(try popMark(), into: .dict(box))
                stack.append(.dict(box))
            case 0x73:  // SETITEM
                let v = try pop(); let k = try pop()
                guard let target = stack.last else { throw fail("SETITEM without a dict") }
                try setItems([k, v], into: target)
            case 0x75:  // SETITEMS
                let pairs = try popMark()
                guard let target = stack.last else { throw fail("SETITEMS without a dict") }
                try setItems(pairs, into: target)
            case 0x71: try put(Int(try c.u8()))  // BINPUT
            case 0x72: try put(Int(try c.littleEndian(UInt32.self)))  // LONG_BINPUT
            case 0x94: try put(memo.count)  // MEMOIZE
            case 0x70:  // PUT (text)
                let text = try c.line()
                guard let k = Int(text) else { throw fail("bad memo key '\(text.prefix(40))'") }
                try put(k)
            case 0x68: try get(Int(try c.u8()))  // BINGET
            case 0x6A: try get(Int(try c.littleEndian(UInt32.self)))  // LONG_BINGET
            case 0x67:  // GET (text)
                let text = try c.line()
                guard let k = Int(text) else { throw fail("bad memo key '\(text.prefix(40))'") }
                try get(k)
            case 0x63:  // GLOBAL
                let module = try c.line(), name = try c.line()
                stack.append(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case .value(.string(let name)) = n, case .value(.string(let module)) = m else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(try global(module, name))
            case 0x51: stack.append(try persistentLoad(try pop()))  // BINPERSID
            case 0x50: stack.append(try persistentLoad(.value(.string(try c.line()))))  // PERSID
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x62:  // BUILD: state of OrderedDict (its `_metadata`) is dropped; nothing else may be built.
                _ = try pop()
                guard let target = stack.last, case .dict = target else {
                    throw fail("BUILD on an object other than a dict")
                }
            default:
                throw .unsupported(path: path, reason: "pickle opcode 0x\(String(op, radix: 16)) at offset \(c.position - 1) (it could construct arbitrary objects, or is not used by torch.save)")
            }
        }
    }

    private func global(_ module: String, _ name: String) throws(TorchFileError) -> Item {
        guard Self.allowedGlobals.contains("\(module).\(name)") else {
            throw .refusedGlobal(path: path, module: module, name: name)
        }
        return .global(module: module, name: name)
    }

    private func reduce(_ callable: Item, _ args: Item) throws(TorchFileError) -> Item {
        guard case .global(let module, let name) = callable, case .tuple(let a) = args else {
            throw .malformed(path: path, reason: "REDUCE needs an allowed global and an argument tuple")
        }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            let box = DictBox()
            if let first = a.first {
                guard case .list(let pairs) = first else { throw .malformed(path: path, reason: "OrderedDict(...) with a non-list argument") }
                for p in pairs.items {
                    guard case .tuple(let kv) = p, kv.count == 2 else { throw .malformed(path: path, reason: "OrderedDict item is not a pair") }
                    box.items.append((kv[0], kv[1]))
                }
            }
            return .dict(box)
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let view) = a[0], case .value(.int(let offset)) = a[1],
                  let shape = ints(a[2]), let strides = ints(a[3]), let o = Int(exactly: offset) else {
                throw .malformed(path: path, reason: "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, …)")
            }
            // Check the view inside the (legacy) storage view, then address the root storage.
            try TorchTensor.checkView(storageCount: view.count, offset: o, shape: shape, strides: strides, path: path)
            return .value(.tensor(try TorchTensor(storage: view.storage, offset: view.offset + o, shape: shape,
                                                  strides: strides, path: path)))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = a.first, case .value(.tensor) = first else {
                throw .malformed(path: path, reason: "\(name) without a tensor")
            }
            return first
        default:
            throw .refusedGlobal(path: path, module: module, name: name)
        }
    }

    private func ints(_ item: Item) -> [Int]? {
        guard case .tuple(let values) = item else { return nil }
        var out: [Int] = []
        for v in values {
            guard case .value(.int(let i)) = v, let n = Int(exactly: i) else { return nil }
            out.append(n)
        }
        return out
    }

    /// A pickle LONG: little-endian two's complement; `.int` when it fits in 64 bits.
    static func integer(littleEndian b: [UInt8]) -> TorchValue {
        if b.isEmpty { return .int(0) }
        let negative = b.last! & 0x80 != 0
        if b.count <= 8 {
            var v: UInt64 = negative ? ~0 : 0
            for (i, byte) in b.enumerated() {
                v &= ~(UInt64(0xFF) << (8 * UInt64(i)))
                v |= UInt64(byte) << (8 * UInt64(i))
            }
            return .int(Int64(bitPattern: v))
        }
        return .bigInt(b)
    }

    // MARK: Conversion to TorchValue

    private func convert(_ item: Item, depth: Int, budget: inout Int) throws(TorchFileError) -> TorchValue {
        guard depth < 200 else { throw .malformed(path: path, reason: "containers nested more than 200 deep (or cyclic)") }
        budget -= 1
        guard budget >= 0 else { throw .malformed(path: path, reason: "more objects than the file could hold (shared references multiplied)") }
        switch item {
        case .value(let v): return v
        case .tuple(let t):
            var out: [TorchValue] = []
            for x in t { out.append(try convert(x, depth: depth + 1, budget: &budget)) }
            return .tuple(out)
        case .list(let box):
            var out: [TorchValue] = []
            for x in box.items { out.append(try convert(x, depth: depth + 1, budget: &budget)) }
            return .list(out)
        case .dict(let box):
            var out: [(key: TorchValue, value: TorchValue)] = []
            for (k, v) in box.items {
                out.append((try convert(k, depth: depth + 1, budget: &budget), try convert(v, depth: depth + 1, budget: &budget)))
            }
            return .dict(out)
        case .global(let m, let n): throw .malformed(path: path, reason: "a bare reference to \(m).\(n) in the data")
        case .storage: throw .malformed(path: path, reason: "a storage outside a tensor")
        }
    }
}
