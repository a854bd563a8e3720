// Tests share libtorch's global RNG, thread pool and live-tensor count (the determinism, resume and leak tests read
// them), and the machine has two cores: run test classes one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
