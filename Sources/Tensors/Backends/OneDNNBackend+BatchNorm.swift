import CDNNL

/// Batch normalisation through oneDNN (`dnnl_use_scale | dnnl_use_shift`, oneDNN ≥ 2.3), in the layout of
/// its input; statistics are plain (C) tensors. Training mode computes the batch mean and the biased variance
/// (as PyTorch); inference mode uses given statistics (`dnnl_use_global_stats`). The training op fused with a
/// following ReLU uses `dnnl_fuse_norm_relu`: the primitive applies the ReLU and keeps a bit mask of the
/// positive outputs in a workspace, which its backward uses to gate the incoming gradient.
extension OneDNNBackend {
    /// Forward state of a training-mode batch norm: the forward primitive (hint for the backward), the batch
    /// statistics and the input layout.
    final class BatchNormWorkspace: @unchecked Sendable {
        let forward: OneDNNPrimitive
        let key: PrimitiveKey
        let mean: Tensor
        let variance: Tensor
        let epsilon: Float
        /// The ReLU mask of a fused forward (`nil` without ReLU).
        let reluMask: OneDNNMemory?
        init(forward: OneDNNPrimitive, key: PrimitiveKey, mean: Tensor, variance: Tensor, epsilon: Float,
             reluMask: OneDNNMemory? = nil) {
            self.forward = forward
            self.key = key
            self.mean = mean
            self.variance = variance
            self.epsilon = epsilon
            self.reluMask = reluMask
        }
    }

    static let scaleShiftFlags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue

    /// Forward primitive for a data layout, `globalStats` selecting inference mode.
    func batchNormForwardPrimitive(shape: [Int], layout: dnnl_memory_desc_t, epsilon: Float,
                                   globalStats: Bool, fuseReLU: Bool = false) -> (OneDNNPrimitive, PrimitiveKey)? {
        let flags = OneDNNBackend.scaleShiftFlags | (globalStats ? dnnl_use_global_stats.rawValue : 0)
            | (fuseReLU ? dnnl_fuse_norm_relu.rawValue : 0)
        let key = PrimitiveKey(op: "bn.fwd", shapes: [shape], numbers: [Int(epsilon.bitPattern), Int(flags)],
                               layouts: [LayoutKey(layout)])
        let p = primitive(key) {
            var data = layout
            var d = dnnl_batch_normalization_desc_t()
            guard dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_training, &data, epsilon, flags)
                == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: "bn.fwd")
        }
        return p.map { ($0, key) }
    }

    /// Backward primitive (`dnnl_backward`: data, scale and shift gradients) for a forward primitive.
    func batchNormBackwardPrimitive(forward: OneDNNPrimitive, forwardKey: PrimitiveKey, epsilon: Float,
                                    globalStats: Bool) -> OneDNNPrimitive? {
        var key = forwardKey
        key.op = "bn.bwd"
        return primitive(key) {
            let flags = UInt32(forwardKey.numbers[1])  // the forward's flags (scale/shift, global stats, ReLU)
            var data = forward.md(dnnl_query_src_md), diff = data
            var d = dnnl_batch_normalization_desc_t()
            guard dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &diff, &data, epsilon, flags)
                == dnnl_success else { return nil }
            return OneDNNPrimitive.make(&d, engine: engine, label: "bn.bwd", hint: forward)
        }
    }

    public func batchNormTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                         epsilon: Float) -> BatchNormTrainingResult? {
        batchNormTrainingForward(input, scale: scale, shift: shift, epsilon: epsilon, fuseReLU: false)
    }

    public func batchNormReLUTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor,
                                             epsilon: Float) -> BatchNormTrainingResult? {
        batchNormTrainingForward(input, scale: scale, shift: shift, epsilon: epsilon, fuseReLU: true)
    }

    public func batchNormReLUTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                              workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        batchNormTrainingBackward(gradOutput, input: input, scale: scale, workspace: workspace)
    }

    func batchNormTrainingForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, epsilon: Float,
                                  fuseReLU: Bool) -> BatchNormTrainingResult? {
        let shape = input.shape
        guard shape.count == 4 || shape.count == 2, shape.reduce(1, *) > 0 else { return nil }
        let c = shape[1]
        precondition(scale.shape == [c] && shift.shape == [c], "batch norm: scale \(scale.shape), shift \(shift.shape) for \(c) channels")
        return lock.locked { () -> BatchNormTrainingResult? in
            let x = memory(of: input)
            guard let (p, key) = batchNormForwardPrimitive(shape: shape, layout: x.desc, epsilon: epsilon,
                                                           globalStats: false, fuseReLU: fuseReLU) else { return nil }
            let y = newTensor(desc: x.desc, shape: shape)
            var mean = Tensor(uninitializedShape: [c]), variance = Tensor(uninitializedShape: [c])
            let meanM = writable(&mean), varM = writable(&variance)
            var args: [(Int32, OneDNNMemory)] = [
                (DNNL_ARG_SRC, x), (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: y.desc, tensor: y)),
                (DNNL_ARG_SCALE, memory(of: scale)), (DNNL_ARG_SHIFT, memory(of: shift)),
                (DNNL_ARG_MEAN, meanM), (DNNL_ARG_VARIANCE, varM)]
            var mask: OneDNNMemory? = nil
            if fuseReLU {
                var wsDesc = p.md(dnnl_query_workspace_md)
                let m = OneDNNMemory(engine: engine, desc: wsDesc,
                                     buffer: pool.take(bytes: dnnl_memory_desc_get_size(&wsDesc)), shape: shape)
                args.append((DNNL_ARG_WORKSPACE, m))
                mask = m
            }
            execute(p, args)
            let ws = BatchNormWorkspace(forward: p, key: key, mean: mean, variance: variance, epsilon: epsilon,
                                        reluMask: mask)
            return BatchNormTrainingResult(output: .native(y), mean: mean, variance: variance, workspace: ws)
        }
    }

    public func batchNormTrainingBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                          workspace: any Sendable) -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        guard let ws = workspace as? BatchNormWorkspace else {
            preconditionFailure("OneDNNBackend.batchNormTrainingBackward: workspace \(type(of: workspace)) is not ours")
        }
        return lock.locked {
            guard let p = batchNormBackwardPrimitive(forward: ws.forward, forwardKey: ws.key, epsilon: ws.epsilon,
                                                     globalStats: false) else {
                preconditionFailure("OneDNNBackend.batchNormTrainingBackward: no backward primitive for \(input.shape)")
            }
            return runBatchNormBackward(p, gradOutput: gradOutput, input: input, scale: scale, mean: ws.mean,
                                        variance: ws.variance, reluMask: ws.reluMask)
        }
    }

    public func batchNormInferenceForward(_ input: KernelTensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                          variance: Tensor, epsilon: Float) -> KernelTensor? {
        let shape = input.shape
        guard shape.count == 4 || shape.count == 2, shape.reduce(1, *) > 0 else { return nil }
        let c = shape[1]
        precondition(scale.shape == [c] && shift.shape == [c] && mean.shape == [c] && variance.shape == [c],
                     "batch norm: parameter shapes \(scale.shape) \(shift.shape) \(mean.shape) \(variance.shape) for \(c) channels")
        return lock.locked { () -> KernelTensor? in
            let x = memory(of: input)
            guard let (p, _) = batchNormForwardPrimitive(shape: shape, layout: x.desc, epsilon: epsilon,
                                                         globalStats: true) else { return nil }
            let y = newTensor(desc: x.desc, shape: shape)
            execute(p, [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, OneDNNMemory(engine: engine, desc: y.desc, tensor: y)),
                        (DNNL_ARG_SCALE, memory(of: scale)), (DNNL_ARG_SHIFT, memory(of: shift)),
                        (DNNL_ARG_MEAN, memory(of: mean)), (DNNL_ARG_VARIANCE, memory(of: variance))])
            return .native(y)
        }
    }

    public func batchNormInferenceBackward(_ gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                                           mean: Tensor, variance: Tensor, epsilon: Float)
        -> (input: KernelTensor, scale: Tensor, shift: Tensor)? {
        let shape = input.shape
        guard shape.count == 4 || shape.count == 2, shape.reduce(1, *) > 0 else { return nil }
        return lock.locked { () -> (input: KernelTensor, scale: Tensor, shift: Tensor)? in
            let x = memory(of: input)
            guard let (f, key) = batchNormForwardPrimitive(shape: shape, layout: x.desc, epsilon: epsilon,
                                                           globalStats: true),
                  let p = batchNormBackwardPrimitive(forward: f, forwardKey: key, epsilon: epsilon, globalStats: true)
            else { return nil }
            return runBatchNormBackward(p, gradOutput: gradOutput, input: input, scale: scale, mean: mean,
                                        variance: variance)
        }
    }

    /// Executes a batch-norm backward: dx in the data layout, dscale and dshift as plain (C) tensors.
    func runBatchNormBackward(_ p: OneDNNPrimitive, gradOutput: KernelTensor, input: KernelTensor, scale: Tensor,
                              mean: Tensor, variance: Tensor,
                              reluMask: OneDNNMemory? = nil) -> (input: KernelTensor, scale: Tensor, shift: Tensor) {
        let layout = p.md(dnnl_query_src_md)
        let x = converted(memory(of: input), to: layout)
        let gy = converted(memory(of: gradOutput), to: p.md(dnnl_query_diff_dst_md))
        let c = input.shape[1]
        let dx = newTensor(desc: p.md(dnnl_query_diff_src_md), shape: input.shape)
        var gscale = Tensor(uninitializedShape: [c]), gshift = Tensor(uninitializedShape: [c])
        let gsM = writable(&gscale), ghM = writable(&gshift)
        // oneDNN 2.6 validates that a `dnnl_use_shift` backward gets a shift argument although the gradients do
        // not depend on it: pass zeros.
        var args: [(Int32, OneDNNMemory)] = [
            (DNNL_ARG_SRC, x), (DNNL_ARG_DIFF_DST, gy), (DNNL_ARG_SCALE, memory(of: scale)),
            (DNNL_ARG_SHIFT, memory(of: Tensor.zeros([c]))),
            (DNNL_ARG_MEAN, memory(of: mean)), (DNNL_ARG_VARIANCE, memory(of: variance)),
            (DNNL_ARG_DIFF_SRC, OneDNNMemory(engine: engine, desc: dx.desc, tensor: dx)),
            (DNNL_ARG_DIFF_SCALE, gsM), (DNNL_ARG_DIFF_SHIFT, ghM)]
        if let reluMask { args.append((DNNL_ARG_WORKSPACE, reluMask)) }
        execute(p, args)
        return (.native(dx), gscale, gshift)
    }

    /// A memory object writing into a freshly allocated, uniquely owned plain tensor.
    func writable(_ t: inout Tensor) -> OneDNNMemory {
        let shape = t.shape
        return t.withUnsafeMutableBufferPointer {
            OneDNNMemory(engine: engine, desc: OneDNNBackend.plainDesc(shape),
                         pointer: UnsafeMutableRawPointer($0.baseAddress!), shape: shape, owner: nil)
        }
    }
}
