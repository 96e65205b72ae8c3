import CDNNL

/// ReLU (eltwise forward; backward from the output with `dnnl_eltwise_relu_use_dst_for_bwd`) and same-shape
/// addition (binary add), in the layout of the first oneDNN-native operand. Both decline when no operand is a
/// `OneDNNTensor`: on plain dense values the reference loops are as fast and keep the value dense.
extension OneDNNBackend {
    /// Eltwise forward primitive for a layout.
    func reluForwardPrimitive(layout: dnnl_memory_desc_t, shape: [Int]) -> (OneDNNPrimitive, PrimitiveKey)? {
        let key = PrimitiveKey(op: "relu.fwd", shapes: [shape], layouts: [LayoutKey(layout)])
        let p = primitive(key) {
            var data = layout
            var d = dnnl_eltwise_desc_t()
            guard dnnl_eltwise_forward_desc_init(&d, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd,
                                                 &data, 0, 0) == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: "relu.fwd")
        }
        return p.map { ($0, key) }
    }

    public func relu(_ input: KernelTensor) -> KernelTensor? {
        guard OneDNNBackend.isOurs(input), input.shape.reduce(1, *) > 0 else { return nil }
        return lock.locked { () -> KernelTensor? in
            let x = memory(of: input)
            guard let (p, _) = reluForwardPrimitive(layout: x.desc, shape: x.shape) else { return nil }
            let y = newTensor(desc: x.desc, shape: x.shape)
            execute(p, [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: y.desc, tensor: y))])
            return .native(y)
        }
    }

    public func reluBackward(_ gradOutput: KernelTensor, output: KernelTensor) -> KernelTensor? {
        guard OneDNNBackend.isOurs(output) || OneDNNBackend.isOurs(gradOutput),
              output.shape.reduce(1, *) > 0 else { return nil }
        precondition(gradOutput.shape == output.shape, "reluBackward: gradOutput \(gradOutput.shape) vs output \(output.shape)")
        return lock.locked { () -> KernelTensor? in
            let y = memory(of: output)
            guard let (f, fkey) = reluForwardPrimitive(layout: y.desc, shape: y.shape) else { return nil }
            var key = fkey
            key.op = "relu.bwd"
            let p = primitive(key) {
                var data = y.desc, diff = y.desc
                var d = dnnl_eltwise_desc_t()
                guard dnnl_eltwise_backward_desc_init(&d, dnnl_eltwise_relu_use_dst_for_bwd, &diff, &data, 0, 0)
                    == dnnl_success else { return nil }
                return OneDNNPrimitive.make(&d, engine: engine, label: "relu.bwd", hint: f)
            }
            guard let p else { return nil }
            let gy = converted(memory(of: gradOutput), to: p.md(dnnl_query_diff_dst_md))
            let dx = newTensor(desc: p.md(dnnl_query_diff_src_md), shape: y.shape)
            execute(p, [(DNNL_ARG_DST, y), (DNNL_ARG_DIFF_DST, gy),
                        (DNNL_ARG_DIFF_SRC, OneDNNMemory(engine: engine, desc: dx.desc, tensor: dx))])
            return .native(dx)
        }
    }

    public func add(_ a: KernelTensor, _ b: KernelTensor) -> KernelTensor? {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
        guard OneDNNBackend.isOurs(a) || OneDNNBackend.isOurs(b), a.shape.reduce(1, *) > 0 else { return nil }
        return lock.locked { () -> KernelTensor? in
            let (first, second) = OneDNNBackend.isOurs(a) ? (a, b) : (b, a)
            let x0 = memory(of: first)
            let x1 = converted(memory(of: second), to: x0.desc)
            let key = PrimitiveKey(op: "add", shapes: [x0.shape], layouts: [LayoutKey(x0.desc)])
            let p = primitive(key) {
                var s0 = x0.desc, s1 = x0.desc, dst = x0.desc
                var d = dnnl_binary_desc_t()
                guard dnnl_binary_desc_init(&d, dnnl_binary_add, &s0, &s1, &dst) == dnnl_success else { return nil }
                return OneDNNPrimitive.make(&d, engine: engine, label: "add")
            }
            guard let p else { return nil }
            let y = newTensor(desc: x0.desc, shape: x0.shape)
            execute(p, [(DNNL_ARG_SRC_0, x0), (DNNL_ARG_SRC_1, x1),
                        (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: y.desc, tensor: y))])
            return .native(y)
        }
    }
}
