/// Stride and zero padding of a 2-D convolution (PyTorch `nn.Conv2d(stride:, padding:)`, dilation 1, groups 1).
///
/// With input (N, C, H, W) and weight (O, C, KH, KW) the output is (N, O, OH, OW) with
/// `OH = (H + 2·padding.h − KH) / stride.h + 1` (integer division, as PyTorch).
public struct Conv2dGeometry: Hashable, Sendable, CustomStringConvertible {
    /// Vertical and horizontal step.
    public var strideH: Int, strideW: Int
    /// Zeros added on each side (top and bottom, left and right).
    public var paddingH: Int, paddingW: Int

    /// Square stride and padding.
    public init(stride: Int = 1, padding: Int = 0) {
        self.init(strideH: stride, strideW: stride, paddingH: padding, paddingW: padding)
    }

    /// Separate vertical/horizontal stride and padding.
    public init(strideH: Int, strideW: Int, paddingH: Int, paddingW: Int) {
        precondition(strideH >= 1 && strideW >= 1 && paddingH >= 0 && paddingW >= 0,
                     "Conv2dGeometry: stride (\(strideH), \(strideW)) must be >= 1, padding (\(paddingH), \(paddingW)) >= 0")
        self.strideH = strideH; self.strideW = strideW; self.paddingH = paddingH; self.paddingW = paddingW
    }

    /// Output shape for an input shape (N, C, H, W) and weight shape (O, C, KH, KW).
    public func outputShape(input: [Int], weight: [Int]) -> [Int] {
        precondition(input.count == 4 && weight.count == 4 && input[1] == weight[1],
                     "conv2d: input \(input) and weight \(weight) must be (N, C, H, W) and (O, C, KH, KW) with equal C")
        let oh = (input[2] + 2 * paddingH - weight[2]) / strideH + 1
        let ow = (input[3] + 2 * paddingW - weight[3]) / strideW + 1
        precondition(input[2] + 2 * paddingH >= weight[2] && input[3] + 2 * paddingW >= weight[3],
                     "conv2d: kernel \(weight[2])x\(weight[3]) larger than padded input \(input) (\(self))")
        return [input[0], weight[0], oh, ow]
    }

    public var description: String { "stride (\(strideH), \(strideW)), padding (\(paddingH), \(paddingW))" }
}

/// Window, stride and padding of a 2-D pooling (PyTorch `MaxPool2d`/`AvgPool2d`, floor mode, dilation 1).
///
/// `OH = (H + 2·padding.h − kernel.h) / stride.h + 1` (floor). Padding must be at most half the kernel, as in
/// PyTorch. Max pooling treats padding as −∞; average pooling counts the padded zeros in the divisor
/// (`count_include_pad=True`, PyTorch's default).
public struct Pool2dGeometry: Hashable, Sendable, CustomStringConvertible {
    /// Window extent.
    public var kernelH: Int, kernelW: Int
    /// Window step.
    public var strideH: Int, strideW: Int
    /// Implicit padding on each side.
    public var paddingH: Int, paddingW: Int

    /// Square window; `stride` defaults to the kernel size (PyTorch's default).
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelH: kernel, kernelW: kernel, strideH: stride ?? kernel, strideW: stride ?? kernel,
                  paddingH: padding, paddingW: padding)
    }

    /// Fully general window.
    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, paddingH: Int, paddingW: Int) {
        precondition(kernelH >= 1 && kernelW >= 1 && strideH >= 1 && strideW >= 1,
                     "Pool2dGeometry: kernel (\(kernelH), \(kernelW)) and stride (\(strideH), \(strideW)) must be >= 1")
        precondition(paddingH >= 0 && paddingW >= 0 && 2 * paddingH <= kernelH && 2 * paddingW <= kernelW,
                     "Pool2dGeometry: padding (\(paddingH), \(paddingW)) must be in 0...kernel/2 (kernel \(kernelH)x\(kernelW))")
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.paddingH = paddingH; self.paddingW = paddingW
    }

    /// Output shape for an input (N, C, H, W).
    public func outputShape(input: [Int]) -> [Int] {
        precondition(input.count == 4, "pool2d: input must be (N, C, H, W), got \(input)")
        precondition(input[2] + 2 * paddingH >= kernelH && input[3] + 2 * paddingW >= kernelW,
                     "pool2d: window \(kernelH)x\(kernelW) larger than padded input \(input)")
        return [input[0], input[1], (input[2] + 2 * paddingH - kernelH) / strideH + 1,
                (input[3] + 2 * paddingW - kernelW) / strideW + 1]
    }

    public var description: String {
        "kernel (\(kernelH), \(kernelW)), stride (\(strideH), \(strideW)), padding (\(paddingH), \(paddingW))"
    }
}
