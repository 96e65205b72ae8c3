import Evaluation
import Tensors
import Testing

@Suite struct TenCropTests {
    /// On a 1×4×5 image whose pixel value is 10·y + x: corners, centre (offsets int(round((H − s)/2)) with
    /// Python's round-half-even: top 1, left 2), then the same five crops of the mirrored image.
    @Test func positionsAndMirroringMatchTorchvision() {
        let image = Tensor(shape: [1, 4, 5], generator: { i in Float(10 * (i / 5) + i % 5) })
        let crops = TenCrop.crops(image, size: 2)
        #expect(crops.count == 10)
        #expect(crops.map { $0.scalars } == [
            [0, 1, 10, 11], [3, 4, 13, 14], [20, 21, 30, 31], [23, 24, 33, 34], [12, 13, 22, 23],
            // torchvision crops the mirrored image: its top-left is the original's top-right, reversed.
            [4, 3, 14, 13], [1, 0, 11, 10], [24, 23, 34, 33], [21, 20, 31, 30], [12, 11, 22, 21],
        ])
    }
}
