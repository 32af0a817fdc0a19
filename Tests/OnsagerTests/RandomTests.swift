import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite(.serialized) struct RandomTests {
    @Test func seededDrawsAreReproducibleAndSeedsDiffer() {
        let a = Tensor<Float>.uniform([1000], generator: RandomGenerator(seed: 42))
        let b = Tensor<Float>.uniform([1000], generator: RandomGenerator(seed: 42))
        let c = Tensor<Float>.uniform([1000], generator: RandomGenerator(seed: 43))
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars)
        let g = RandomGenerator(seed: 1)
        let first = Tensor<Double>.normal([5], generator: g), second = Tensor<Double>.normal([5], generator: g)
        #expect(first.scalars != second.scalars, "draws advance the stream")
    }

    @Test func momentsMatchTheDistributions() {
        let g = RandomGenerator(seed: 3)
        let n = 200_000
        let u = Tensor<Double>.uniform([n], low: -1, high: 3, generator: g)
        #expect(Swift.abs(u.mean().item - 1) < 0.02)
        #expect(Swift.abs(u.variance().item - 16.0 / 12) < 0.02)
        #expect(u.min().item >= -1 && u.max().item < 3)
        let z = Tensor<Double>.normal([n], mean: 2, std: 0.5, generator: g)
        #expect(Swift.abs(z.mean().item - 2) < 0.01)
        #expect(Swift.abs(z.variance().item.squareRoot() - 0.5) < 0.01)
        let p = Tensor<Float>(repeating: 0.3, shape: [n])
        let b = Tensor<Float>.bernoulli(p, generator: g)
        #expect(Swift.abs(b.mean().item - 0.3) < 0.01)
        #expect(Set(b.scalars) == [0, 1])
        let perm = g.permutation(1000)
        #expect(perm.sorted() == Array(0..<1000) && perm != Array(0..<1000))
    }

    @Test func manualSeedResetsTheDefaultGenerator() {
        RandomGenerator.manualSeed(99)
        let a = Tensor<Float>.normal([10])
        RandomGenerator.manualSeed(99)
        let b = Tensor<Float>.normal([10])
        #expect(a.scalars == b.scalars)
    }
}
