import CDNNL
import CTensorKernels

/// Max pooling (training propagation, with oneDNN's workspace of argmax positions) and average pooling with
/// padding counted in the divisor (`dnnl_pooling_avg_include_padding`, PyTorch's `count_include_pad=True`).
/// Pooling works in the layout of its input; the output layout is oneDNN's choice (the same blocking).
///
/// 2×2 max pooling with stride 2 and no padding (convnet_tiny's, VGG's) on plain NCHW, `nChw8c` or `nChw16c`
/// input runs our own kernel (`ctk_maxpool2x2_*`, CTensorKernels) instead: oneDNN 2.6's training primitive
/// took 7.5 ms forward and 5.1 ms backward per 128 × 32 × 32 × 32 batch on an AVX2 EPYC, three times its
/// inference primitive, because it writes and reads an argmax workspace. The kernel keeps no workspace: the
/// backward chooses each window's winner again from the forward's input, by the same rule.
extension OneDNNBackend {
    /// What the direct 2×2 kernel's backward needs: the forward's input (kept alive) and its lanes per pixel.
    final class DirectMaxPoolWorkspace: @unchecked Sendable {
        let input: OneDNNMemory
        let lanes: Int
        init(input: OneDNNMemory, lanes: Int) {
            self.input = input
            self.lanes = lanes
        }
    }

    /// The layouts the direct 2×2 kernel reads, as (lanes per pixel, tag): plain NCHW, nChw8c, nChw16c.
    static let directPoolLayouts: [(lanes: Int, tag: dnnl_format_tag_t)] =
        [(1, dnnl_abcd), (8, dnnl_aBcd8b), (16, dnnl_aBcd16b)]

    /// Lanes per pixel when `desc` (of a value of `shape`) is one of `directPoolLayouts` exactly (f32, no
    /// offset, dense); nil otherwise.
    static func directPoolLanes(_ desc: dnnl_memory_desc_t, shape: [Int]) -> Int? {
        guard shape.count == 4, desc.ndims == 4, desc.data_type == dnnl_f32 else { return nil }
        return directPoolLayouts.first { equal(desc, OneDNNBackend.desc(shape, tag: $0.tag)) }?.lanes
    }

    /// The same layout (lanes per pixel) for another shape.
    static func directPoolDesc(_ shape: [Int], lanes: Int) -> dnnl_memory_desc_t {
        OneDNNBackend.desc(shape, tag: directPoolLayouts.first { $0.lanes == lanes }!.tag)
    }

    /// (planes, H, W) as `ctk_maxpool2x2_*` count them: N × C planes, or N × ⌈C/lanes⌉ blocks.
    static func directPoolPlanes(_ shape: [Int], lanes: Int) -> Int {
        shape[0] * ((shape[1] + lanes - 1) / lanes)
    }

    /// Max pooling by the direct kernel, or nil when the geometry or layout is not its own (or it is off).
    private func maxPoolDirect(_ x: OneDNNMemory, _ g: Pool2dGeometry,
                               inference: Bool) -> (output: KernelTensor, workspace: DirectMaxPoolWorkspace?)? {
        guard directMaxPool, g.kernelH == 2, g.kernelW == 2, g.strideH == 2, g.strideW == 2, g.paddingH == 0,
              g.paddingW == 0, let lanes = OneDNNBackend.directPoolLanes(x.desc, shape: x.shape) else { return nil }
        let s = x.shape, out = g.outputShape(input: s)
        let y = newTensor(desc: OneDNNBackend.directPoolDesc(out, lanes: lanes), shape: out)
        ctk_maxpool2x2_forward(x.pointer.assumingMemoryBound(to: Float.self),
                               y.buffer.pointer.assumingMemoryBound(to: Float.self),
                               OneDNNBackend.directPoolPlanes(s, lanes: lanes), s[2], s[3], lanes,
                               Int32(ComputeThreads.count))
        return (.native(y), inference ? nil : DirectMaxPoolWorkspace(input: x, lanes: lanes))
    }

    /// The forward state a max-pool backward needs: the forward primitive (for the hint and the layouts) and
    /// its workspace.
    final class MaxPoolWorkspace: @unchecked Sendable {
        let forward: OneDNNPrimitive
        let workspace: OneDNNBuffer
        let key: PrimitiveKey
        init(forward: OneDNNPrimitive, workspace: OneDNNBuffer, key: PrimitiveKey) {
            self.forward = forward
            self.workspace = workspace
            self.key = key
        }
    }

    /// Forward primitive for an input layout; `nil` when oneDNN cannot express the geometry. `inference`:
    /// `dnnl_forward_inference`, no workspace (max pooling without a backward: 3-5x faster than the training
    /// primitive at 28x28 on AVX2, which writes the argmax positions).
    func poolForwardPrimitive(_ alg: dnnl_alg_kind_t, input: [Int], layout: dnnl_memory_desc_t,
                              _ g: Pool2dGeometry, inference: Bool = false) -> (OneDNNPrimitive, PrimitiveKey)? {
        let output = g.outputShape(input: input)
        let key = PrimitiveKey(op: inference ? "pool.inf" : "pool.fwd", shapes: [input],
                               numbers: [Int(alg.rawValue), g.kernelH, g.kernelW, g.strideH, g.strideW, g.paddingH, g.paddingW],
                               layouts: [LayoutKey(layout)])
        let p = primitive(key) {
            var src = layout, dst = OneDNNBackend.anyDesc(output)
            let (s, k, pl, pr) = OneDNNBackend.poolNumbers(input: input, output: output, g)
            var d = dnnl_pooling_desc_t()
            guard dnnl_pooling_forward_desc_init(&d, inference ? dnnl_forward_inference : dnnl_forward_training,
                                                 alg, &src, &dst, s, k, pl, pr)
                == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: inference ? "pool.inf" : "pool.fwd")
        }
        return p.map { ($0, key) }
    }

    /// Strides, kernel, left and right padding (right padding chosen so that oneDNN's size is the floor size).
    static func poolNumbers(input: [Int], output: [Int], _ g: Pool2dGeometry)
        -> (strides: [Int64], kernel: [Int64], padL: [Int64], padR: [Int64]) {
        let prH = (output[2] - 1) * g.strideH + g.kernelH - input[2] - g.paddingH
        let prW = (output[3] - 1) * g.strideW + g.kernelW - input[3] - g.paddingW
        return ([Int64(g.strideH), Int64(g.strideW)], [Int64(g.kernelH), Int64(g.kernelW)],
                [Int64(g.paddingH), Int64(g.paddingW)], [Int64(prH), Int64(prW)])
    }

    /// Backward primitive for a forward primitive.
    func poolBackwardPrimitive(_ alg: dnnl_alg_kind_t, forward: OneDNNPrimitive, forwardKey: PrimitiveKey,
                               input: [Int], _ g: Pool2dGeometry) -> OneDNNPrimitive? {
        var key = forwardKey
        key.op = "pool.bwd"
        return primitive(key) {
            let output = g.outputShape(input: input)
            var dsrc = forward.md(dnnl_query_src_md), ddst = forward.md(dnnl_query_dst_md)
            let (s, k, pl, pr) = OneDNNBackend.poolNumbers(input: input, output: output, g)
            var d = dnnl_pooling_desc_t()
            guard dnnl_pooling_backward_desc_init(&d, alg, &dsrc, &ddst, s, k, pl, pr) == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: "pool.bwd", hint: forward)
        }
    }

    public func maxPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> PoolingForwardResult? {
        maxPool(input, geometry, inference: false).map { PoolingForwardResult(output: $0.output, workspace: $0.workspace!) }
    }

    public func maxPool2dInference(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? {
        maxPool(input, geometry, inference: true)?.output
    }

    /// Max pooling by the direct 2×2 kernel, else by the training primitive (with its argmax workspace, for
    /// the backward) or, `inference`, by the inference primitive (no workspace); `nil` when declined.
    private func maxPool(_ input: KernelTensor, _ geometry: Pool2dGeometry,
                         inference: Bool) -> (output: KernelTensor, workspace: (any Sendable)?)? {
        let inShape = input.shape
        let outShape = geometry.outputShape(input: inShape)
        if outShape.reduce(1, *) == 0 { return nil }
        return lock.locked { () -> (output: KernelTensor, workspace: (any Sendable)?)? in
            let x = memory(of: input)
            if let direct = maxPoolDirect(x, geometry, inference: inference) { return (direct.output, direct.workspace) }
            guard let (p, key) = poolForwardPrimitive(dnnl_pooling_max, input: inShape, layout: x.desc, geometry,
                                                      inference: inference) else { return nil }
            let y = newTensor(desc: p.md(dnnl_query_dst_md), shape: outShape)
            var args = [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: y.desc, tensor: y))]
            var workspace: MaxPoolWorkspace? = nil
            if !inference {
                var wsDesc = p.md(dnnl_query_workspace_md)
                let ws = pool.take(bytes: dnnl_memory_desc_get_size(&wsDesc))
                args.append((DNNL_ARG_WORKSPACE, OneDNNMemory(engine: engine, desc: wsDesc, buffer: ws, shape: outShape)))
                workspace = MaxPoolWorkspace(forward: p, workspace: ws, key: key)
            }
            execute(p, args)
            return (.native(y), workspace)
        }
    }

    public func maxPool2dBackward(_ gradOutput: KernelTensor, workspace: any Sendable, inputShape: [Int],
                                  geometry: Pool2dGeometry) -> KernelTensor? {
        if let direct = workspace as? DirectMaxPoolWorkspace {
            return lock.locked { () -> KernelTensor? in
                let lanes = direct.lanes, outShape = geometry.outputShape(input: inputShape)
                let gy = converted(memory(of: gradOutput), to: OneDNNBackend.directPoolDesc(outShape, lanes: lanes))
                let dx = newTensor(desc: direct.input.desc, shape: inputShape)
                ctk_maxpool2x2_backward(direct.input.pointer.assumingMemoryBound(to: Float.self),
                                        gy.pointer.assumingMemoryBound(to: Float.self),
                                        dx.buffer.pointer.assumingMemoryBound(to: Float.self),
                                        OneDNNBackend.directPoolPlanes(inputShape, lanes: lanes), inputShape[2],
                                        inputShape[3], lanes, Int32(ComputeThreads.count))
                return .native(dx)
            }
        }
        guard let ws = workspace as? MaxPoolWorkspace else {
            preconditionFailure("OneDNNBackend.maxPool2dBackward: workspace \(type(of: workspace)) is not ours")
        }
        return lock.locked { () -> KernelTensor? in
            guard let p = poolBackwardPrimitive(dnnl_pooling_max, forward: ws.forward, forwardKey: ws.key,
                                                input: inputShape, geometry) else {
                preconditionFailure("OneDNNBackend.maxPool2dBackward: no backward primitive for \(inputShape), \(geometry)")
            }
            let gy = converted(memory(of: gradOutput), to: p.md(dnnl_query_diff_dst_md))
            let dx = newTensor(desc: p.md(dnnl_query_diff_src_md), shape: inputShape)
            let wsDesc = ws.forward.md(dnnl_query_workspace_md)
            execute(p, [(DNNL_ARG_DIFF_DST, gy),
                        (DNNL_ARG_WORKSPACE, OneDNNMemory(engine: engine, desc: wsDesc, buffer: ws.workspace, shape: gy.shape)),
                        (DNNL_ARG_DIFF_SRC, OneDNNMemory(engine: engine, desc: dx.desc, tensor: dx))])
            return .native(dx)
        }
    }

    public func avgPool2dForward(_ input: KernelTensor, geometry: Pool2dGeometry) -> KernelTensor? {
        let inShape = input.shape
        let outShape = geometry.outputShape(input: inShape)
        if outShape.reduce(1, *) == 0 { return nil }
        return lock.locked { () -> KernelTensor? in
            let x = memory(of: input)
            guard let (p, _) = poolForwardPrimitive(dnnl_pooling_avg_include_padding, input: inShape, layout: x.desc,
                                                    geometry) else { return nil }
            avgPoolInputLayouts[AvgPoolKey(inputShape: inShape, geometry: geometry)] = x.desc
            let y = newTensor(desc: p.md(dnnl_query_dst_md), shape: outShape)
            execute(p, [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: y.desc, tensor: y))])
            return .native(y)
        }
    }

    /// The gradient comes back in the layout of the last forward input with this shape and geometry (plain
    /// NCHW when there was none).
    public func avgPool2dBackward(_ gradOutput: KernelTensor, inputShape: [Int],
                                  geometry: Pool2dGeometry) -> KernelTensor? {
        let outShape = geometry.outputShape(input: inputShape)
        precondition(gradOutput.shape == outShape, "avgPool2dBackward: gradOutput \(gradOutput.shape), expected \(outShape)")
        if outShape.reduce(1, *) == 0 { return nil }
        return lock.locked { () -> KernelTensor? in
            let layout = avgPoolInputLayouts[AvgPoolKey(inputShape: inputShape, geometry: geometry)]
                ?? OneDNNBackend.plainDesc(inputShape)
            guard let (f, key) = poolForwardPrimitive(dnnl_pooling_avg_include_padding, input: inputShape,
                                                      layout: layout, geometry),
                  let p = poolBackwardPrimitive(dnnl_pooling_avg_include_padding, forward: f, forwardKey: key,
                                                input: inputShape, geometry) else { return nil }
            let gy = converted(memory(of: gradOutput), to: p.md(dnnl_query_diff_dst_md))
            let dx = newTensor(desc: p.md(dnnl_query_diff_src_md), shape: inputShape)
            execute(p, [(DNNL_ARG_DIFF_DST, gy), (DNNL_ARG_DIFF_SRC, OneDNNMemory(engine: engine, desc: dx.desc, tensor: dx))])
            return .native(dx)
        }
    }
}
