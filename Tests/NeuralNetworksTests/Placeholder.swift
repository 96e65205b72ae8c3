import Testing
@Test func NeuralNetworksTestsPlaceholder() {}
