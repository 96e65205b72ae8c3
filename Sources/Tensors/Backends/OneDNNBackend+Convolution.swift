import CDNNL

/// Convolution forward (bias fused), backward-data and backward-weights+bias with oneDNN's direct algorithm.
/// Activations and weights use the layouts oneDNN picks (`format_tag_any`); weights arrive as public
/// (O, C, KH, KW) tensors and are reordered into a cached per-primitive buffer on every call (they change
/// every step).
extension OneDNNBackend {
    /// Geometry arrays for oneDNN: strides, left/top padding and right/bottom padding such that oneDNN's
    /// output size equals PyTorch's floor-mode size.
    static func convNumbers(input: [Int], weight: [Int], output: [Int], _ g: Conv2dGeometry)
        -> (strides: [Int64], padL: [Int64], padR: [Int64]) {
        let padRH = (output[2] - 1) * g.strideH + weight[2] - input[2] - g.paddingH
        let padRW = (output[3] - 1) * g.strideW + weight[3] - input[3] - g.paddingW
        return ([Int64(g.strideH), Int64(g.strideW)], [Int64(g.paddingH), Int64(g.paddingW)],
                [Int64(padRH), Int64(padRW)])
    }

    /// Forward primitive, cached per shapes, geometry, bias presence and kind: training propagation (`relu`
    /// nil), or no-grad evaluation (`dnnl_forward_inference`) with ReLU as an eltwise post-op when `relu` is
    /// true (applied to the output in registers: no separate pass over it).
    func convForwardPrimitive(input: [Int], weight: [Int], hasBias: Bool, _ g: Conv2dGeometry,
                              inference relu: Bool? = nil) -> OneDNNPrimitive? {
        let output = g.outputShape(input: input, weight: weight)
        let label = relu == nil ? "conv.fwd" : relu! ? "conv.inf.relu" : "conv.inf"
        let key = PrimitiveKey(op: label, shapes: [input, weight],
                               numbers: [g.strideH, g.strideW, g.paddingH, g.paddingW, hasBias ? 1 : 0])
        return primitive(key) {
            let (s, pl, pr) = OneDNNBackend.convNumbers(input: input, weight: weight, output: output, g)
            var src = OneDNNBackend.anyDesc(input), w = OneDNNBackend.anyDesc(weight)
            var b = OneDNNBackend.plainDesc([weight[0]]), dst = OneDNNBackend.anyDesc(output)
            var d = dnnl_convolution_desc_t()
            let kind = relu == nil ? dnnl_forward_training : dnnl_forward_inference
            let status = withUnsafePointer(to: &b) { bp in
                dnnl_convolution_forward_desc_init(&d, kind, dnnl_convolution_direct, &src, &w,
                                                   hasBias ? bp : nil, &dst, s, pl, pr)
            }
            guard status == dnnl_success else { return nil }
            guard relu == true else { return OneDNNPrimitive.make(&d, engine: engine, label: label) }
            var attr: dnnl_primitive_attr_t? = nil, ops: dnnl_post_ops_t? = nil
            guard dnnl_primitive_attr_create(&attr) == dnnl_success, let attr else { return nil }
            defer { dnnl_primitive_attr_destroy(attr) }
            guard dnnl_post_ops_create(&ops) == dnnl_success, let ops else { return nil }
            defer { dnnl_post_ops_destroy(ops) }
            guard dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: label, attr: attr)
        }
    }

    public func conv2dForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?,
                              geometry: Conv2dGeometry) -> KernelTensor? {
        convForward(input, weight: weight, bias: bias, geometry: geometry, inference: nil)
    }

    public func conv2dInference(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                                relu: Bool) -> KernelTensor? {
        convForward(input, weight: weight, bias: bias, geometry: geometry, inference: relu)
    }

    /// The training forward (`inference` nil) or the inference one with (true) or without (false) ReLU.
    private func convForward(_ input: KernelTensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry,
                             inference relu: Bool?) -> KernelTensor? {
        let inShape = input.shape, wShape = weight.shape
        let outShape = geometry.outputShape(input: inShape, weight: wShape)
        if let bias { precondition(bias.shape == [wShape[0]], "conv2d: bias \(bias.shape) for \(wShape[0]) output channels") }
        if outShape.reduce(1, *) == 0 || inShape.reduce(1, *) == 0 { return nil }
        return lock.locked { () -> KernelTensor? in
            guard let p = convForwardPrimitive(input: inShape, weight: wShape, hasBias: bias != nil, geometry,
                                               inference: relu) else { return nil }
            let src = converted(memory(of: input), to: p.md(dnnl_query_src_md))
            let w = weightsMemory(weight, desc: p.md(dnnl_query_weights_md), primitive: p, role: "w")
            let dst = newTensor(desc: p.md(dnnl_query_dst_md), shape: outShape)
            var args: [(Int32, OneDNNMemory)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, w),
                                                 (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: dst.desc, tensor: dst))]
            if let bias { args.append((DNNL_ARG_BIAS, memory(of: bias))) }
            execute(p, args)
            return .native(dst)
        }
    }

    public func conv2dBackwardData(_ gradOutput: KernelTensor, weight: Tensor, inputShape: [Int],
                                   geometry: Conv2dGeometry) -> KernelTensor? {
        let wShape = weight.shape
        let outShape = geometry.outputShape(input: inputShape, weight: wShape)
        precondition(gradOutput.shape == outShape, "conv2d backward: gradOutput \(gradOutput.shape), expected \(outShape)")
        if outShape.reduce(1, *) == 0 || inputShape.reduce(1, *) == 0 { return nil }
        return lock.locked { () -> KernelTensor? in
            let key = PrimitiveKey(op: "conv.bwd_data", shapes: [inputShape, wShape],
                                   numbers: [geometry.strideH, geometry.strideW, geometry.paddingH, geometry.paddingW])
            let p = primitive(key) {
                guard let hint = convForwardPrimitive(input: inputShape, weight: wShape, hasBias: false, geometry) else {
                    return nil
                }
                let (s, pl, pr) = OneDNNBackend.convNumbers(input: inputShape, weight: wShape, output: outShape, geometry)
                var dsrc = OneDNNBackend.anyDesc(inputShape), w = OneDNNBackend.anyDesc(wShape)
                var ddst = OneDNNBackend.anyDesc(outShape)
                var d = dnnl_convolution_desc_t()
                guard dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &dsrc, &w, &ddst,
                                                               s, pl, pr) == dnnl_success else { return nil }
                return OneDNNPrimitive.make(&d, engine: engine, label: "conv.bwd_data", hint: hint)
            }
            guard let p else { return nil }
            let gy = converted(memory(of: gradOutput), to: p.md(dnnl_query_diff_dst_md))
            let w = weightsMemory(weight, desc: p.md(dnnl_query_weights_md), primitive: p, role: "w")
            let dx = newTensor(desc: p.md(dnnl_query_diff_src_md), shape: inputShape)
            execute(p, [(DNNL_ARG_DIFF_DST, gy), (DNNL_ARG_WEIGHTS, w),
                        (DNNL_ARG_DIFF_SRC, OneDNNMemory(engine: engine, desc: dx.desc, tensor: dx))])
            return .native(dx)
        }
    }

    public func conv2dBackwardWeights(_ gradOutput: KernelTensor, input: KernelTensor, weightShape: [Int],
                                      includeBias: Bool, geometry: Conv2dGeometry) -> (weight: Tensor, bias: Tensor?)? {
        let inShape = input.shape
        let outShape = geometry.outputShape(input: inShape, weight: weightShape)
        precondition(gradOutput.shape == outShape, "conv2d backward: gradOutput \(gradOutput.shape), expected \(outShape)")
        if outShape.reduce(1, *) == 0 || inShape.reduce(1, *) == 0 { return nil }
        return lock.locked { () -> (weight: Tensor, bias: Tensor?)? in
            let key = PrimitiveKey(op: "conv.bwd_weights", shapes: [inShape, weightShape],
                                   numbers: [geometry.strideH, geometry.strideW, geometry.paddingH, geometry.paddingW,
                                             includeBias ? 1 : 0])
            let p = primitive(key) {
                guard let hint = convForwardPrimitive(input: inShape, weight: weightShape, hasBias: includeBias,
                                                      geometry) else { return nil }
                let (s, pl, pr) = OneDNNBackend.convNumbers(input: inShape, weight: weightShape, output: outShape, geometry)
                var src = OneDNNBackend.anyDesc(inShape), dw = OneDNNBackend.anyDesc(weightShape)
                var db = OneDNNBackend.plainDesc([weightShape[0]]), ddst = OneDNNBackend.anyDesc(outShape)
                var d = dnnl_convolution_desc_t()
                let status = withUnsafePointer(to: &db) { bp in
                    dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &src, &dw,
                                                                includeBias ? bp : nil, &ddst, s, pl, pr)
                }
                guard status == dnnl_success else { return nil }
                return OneDNNPrimitive.make(&d, engine: engine, label: "conv.bwd_weights", hint: hint)
            }
            guard let p else { return nil }
            let x = converted(memory(of: input), to: p.md(dnnl_query_src_md))
            let gy = converted(memory(of: gradOutput), to: p.md(dnnl_query_diff_dst_md))
            let dwDesc = p.md(dnnl_query_diff_weights_md)
            let plainW = OneDNNBackend.plainDesc(weightShape)
            var gw = pooledDenseTensor(shape: weightShape)
            var gb = includeBias ? Tensor(uninitializedShape: [weightShape[0]]) : nil
            // Write the weight gradient straight into the result when oneDNN chose the plain layout.
            let direct = OneDNNBackend.equal(dwDesc, plainW)
            let dwMemory: OneDNNMemory
            if direct {
                dwMemory = gw.withUnsafeMutableBufferPointer {
                    OneDNNMemory(engine: engine, desc: dwDesc, pointer: UnsafeMutableRawPointer($0.baseAddress!),
                                 shape: weightShape, owner: nil)
                }
            } else {
                dwMemory = OneDNNMemory(engine: engine, desc: dwDesc,
                                        buffer: scratchBuffer(ScratchKey(primitive: key, role: "dw"), desc: dwDesc),
                                        shape: weightShape)
            }
            var args: [(Int32, OneDNNMemory)] = [(DNNL_ARG_SRC, x), (DNNL_ARG_DIFF_DST, gy), (DNNL_ARG_DIFF_WEIGHTS, dwMemory)]
            if gb != nil {
                let m = gb!.withUnsafeMutableBufferPointer {
                    OneDNNMemory(engine: engine, desc: OneDNNBackend.plainDesc([weightShape[0]]),
                                 pointer: UnsafeMutableRawPointer($0.baseAddress!), shape: [weightShape[0]], owner: nil)
                }
                args.append((DNNL_ARG_DIFF_BIAS, m))
            }
            execute(p, args)
            if !direct { gw = denseTensor(from: dwMemory) }
            withExtendedLifetime(gb) {}
            return (gw, gb)
        }
    }

    /// Public-layout weights reordered into the primitive's layout, in a buffer cached per primitive and role
    /// (the dense tensor itself when the layouts agree).
    func weightsMemory(_ weight: Tensor, desc: dnnl_memory_desc_t, primitive p: OneDNNPrimitive,
                       role: String) -> OneDNNMemory {
        let plain = memory(of: weight)
        if OneDNNBackend.equal(plain.desc, desc) { return plain }
        let key = ScratchKey(primitive: PrimitiveKey(op: p.label, shapes: [weight.shape], layouts: [LayoutKey(desc)]),
                             role: role)
        let m = OneDNNMemory(engine: engine, desc: desc, buffer: scratchBuffer(key, desc: desc), shape: weight.shape)
        reorder(plain, into: m)
        return m
    }
}
