import Tensors

/// torchvision's `TenCrop(size)`: the four corner crops and the centre crop of an image, then the same five
/// of its horizontal mirror, in that order (top-left, top-right, bottom-left, bottom-right, centre). Works on a
/// normalised (C, H, W) tensor — normalisation is per channel, so it commutes with cropping and flipping.
public enum TenCrop {
    /// The ten crops of `image` (C, H, W), each (C, size, size); requires H, W ≥ size.
    public static func crops(_ image: Tensor, size: Int) -> [Tensor] {
        precondition(image.rank == 3 && image.shape[1] >= size && image.shape[2] >= size,
                     "TenCrop: image \(image.shape) smaller than \(size)")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let src = image.contiguous()
        // torchvision's centre crop rounds the offsets like int(round((H − size) / 2)).
        let ct = Int((Double(h - size) / 2).rounded(.toNearestOrEven)), cl = Int((Double(w - size) / 2).rounded(.toNearestOrEven))
        let origins = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), (ct, cl)]
        var out: [Tensor] = []
        for flip in [false, true] {
            for (top, left) in origins {
                var t = Tensor(uninitializedShape: [c, size, size])
                t.withUnsafeMutableBufferPointer { dst in
                    src.withUnsafeBufferPointer { s in
                        for ch in 0..<c {
                            for y in 0..<size {
                                let row = (ch * h + top + y) * w
                                for x in 0..<size {
                                    // Mirroring the whole image first: column x of the crop at `left` of the
                                    // mirror is column w − 1 − (left + x) of the original.
                                    let sx = flip ? w - 1 - (left + x) : left + x
                                    dst[(ch * size + y) * size + x] = s[row + sx]
                                }
                            }
                        }
                    }
                }
                out.append(t)
            }
        }
        return out
    }
}
