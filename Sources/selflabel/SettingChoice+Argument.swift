import ArgumentParser
import NeuralNetworks
import Tensors

extension Kernels.Name: ExpressibleByArgument {}
extension Architecture: ExpressibleByArgument {}
