import Foundation
import Onsager

/// CD-1, PCD, and EMF training with the mean-field, TAP2 and TAP3 free energies, side by side on
/// the embedded 4×4 bars-and-stripes set, with exact log-likelihoods (the model is small enough
/// to enumerate).
func runBarsAndStripes(seed: UInt64, updates: Int) {
    let data: Tensor<Double> = BarsAndStripes.patterns(size: 4, as: Double.self)
    print("RBMs on bars-and-stripes 4×4 (30 patterns, embedded): 16 visible, 16 hidden, Double, seed \(seed)")
    print("SGD lr 0.05/(1 + t/2000), momentum 0.5, full batch, \(updates) updates each")
    print("CD-1; PCD-1 with 100 chains; EMF (loss F(v) − G(m*), envelope gradient) with 3 damped sweeps from the data")
    print("(data-initialised magnetizations: with 30 patterns, persistent ones collapse onto few modes)")
    print("exact mean log-likelihood per pattern (nats; the best possible is ln(1/30) = \(String(format: "%.3f", -log(30.0))))\n")
    let methods: [RBMTrainingMethod] = [.cd(k: 1), .pcd(k: 1, chains: 100), .emf(order: .meanField, iterations: 3, persistentAfter: nil),
                                         .emf(order: .tap2, iterations: 3, persistentAfter: nil), .emf(order: .tap3, iterations: 3, persistentAfter: nil)]
    let names = methods.map(\.description)
    var models: [RBM<Double>] = [], trainers: [any RBMTrainer<Double>] = [], opts: [SGD<Double>] = []
    for method in methods {
        let g = RandomGenerator(seed: seed)
        models.append(RBM<Double>(visible: 16, hidden: 16, weightStd: 0.01, data: data, generator: g))
        trainers.append(method.makeTrainer(visible: 16, l2: 0, generator: g))
        opts.append(SGD<Double>(learningRate: 0.05, momentum: 0.5))
    }
    print("  update " + names.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined(separator: " "))
    func row(_ t: Int) {
        print(String(format: "  %6d ", t) + models.map { String(format: "%-9.3f", $0.logLikelihood(data)) }.joined(separator: " "))
    }
    row(0)
    let start = Date()
    var seconds = [Double](repeating: 0, count: names.count)
    for t in 1...updates {
        for i in models.indices {
            let t0 = Date()
            opts[i].learningRate = 0.05 / (1 + Double(t - 1) / 2000)
            trainers[i].step(&models[i], batch: data, optimizer: &opts[i])
            seconds[i] += Date().timeIntervalSince(t0)
        }
        if t % Swift.max(1, updates / 5) == 0 { row(t) }
    }
    print(String(format: "\ntrained all five in %.1f s (", Date().timeIntervalSince(start)) +
          zip(names, seconds).map { "\($0) \(String(format: "%.1f", $1)) s" }.joined(separator: ", ") + ")")
    print("exact pseudo-log-likelihood: " + zip(names, models).map { "\($0) \(String(format: "%.3f", $1.pseudoLogLikelihood(data).mean().item))" }.joined(separator: ", "))
    let tap = TAPSolver(order: .tap2, iterations: 50)
    print("TAP2 estimate of ln Z vs exact, trained TAP2 model: " + String(format: "%.4f vs %.4f",
          models[3].tapLogPartition(from: TAPSolver.start(from: data, model: models[3]), solver: tap).mean().item, models[3].exactLogPartition()))
}

/// The MNIST version: 500 hidden units, CD-1 and PCD, AIS test log-likelihood.
func runMNISTRBM(path: String?, seed: UInt64, epochs: Int, aisRuns: Int) {
    do {
        let dir = try MNIST<Float>.locate("mnist", explicit: path)
        let g = RandomGenerator(seed: seed)
        let train = try MNIST<Float>(directory: dir, split: .train).images.stochasticallyBinarized(generator: g)
        let test = try MNIST<Float>(directory: dir, split: .test).images.stochasticallyBinarized(generator: g)
        print("RBM on MNIST (\(dir)): 784 visible, 500 hidden, stochastically binarised (seed \(seed)), batch 100, \(epochs) epoch(s)")
        print("SGD lr 0.02/(1 + epoch/5), momentum 0.5, L2 2e-4 (tutorial 02's settings); PCD with 100 chains; \(Kernels.threadCount) thread(s)\n")
        let base = AnnealedImportanceSampling.baseRateBiases(data: train)
        for (name, persistent) in [("CD-1", false), ("PCD-1", true)] {
            let mg = RandomGenerator(seed: seed &+ 1)
            var model = RBM<Float>(visible: 784, hidden: 500, weightStd: 0.01, data: train, generator: mg)
            var cd: ContrastiveDivergence<Float> = persistent ? .pcd(k: 1, chains: 100, visible: 784, l2: 2e-4, generator: mg) : .cd(k: 1, l2: 2e-4, generator: mg)
            var opt = SGD<Float>(learningRate: 0.02, momentum: 0.5)
            let start = Date()
            for e in 1...epochs {
                opt.learningRate = 0.02 / (1 + Double(e - 1) / 5)
                try cd.trainEpoch(&model, data: train, batchSize: 100, optimizer: &opt)
                print(String(format: "  %@ epoch %d: %.1f s, test pseudo-LL (first %d) %.2f", name, e, Date().timeIntervalSince(start),
                             Swift.min(1000, test.shape[0]), model.pseudoLogLikelihood(test.sliced(axis: 0, 0..<Swift.min(1000, test.shape[0]))).mean().item))
            }
            let t0 = Date()
            let ais = AnnealedImportanceSampling(runs: aisRuns).logPartition(of: model, baseBiases: base, generator: mg)
            let ll = -withoutGrad { model.freeEnergy(test) }.mean().item
            print(String(format: "  %@: AIS %@ in %.1f s; test log-likelihood %.2f nats per image (band %.2f to %.2f)\n", name, ais.description,
                         Date().timeIntervalSince(t0), Double(ll) - ais.logZ, Double(ll) - ais.logZUpper, Double(ll) - ais.logZLower))
        }
    } catch {
        FileHandle.standardError.write(Data("onsager rbm: \(error)\n".utf8))
        exit(1)
    }
}
