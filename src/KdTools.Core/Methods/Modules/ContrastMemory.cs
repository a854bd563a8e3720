using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// CRD's memory bank: one L2-normalised embedding per training sample for each side, updated with momentum, plus the
/// normalisation constants Z estimated on the first batch. Buffers, so checkpoints carry them and resume is exact.
/// </summary>
internal sealed class ContrastMemory : nn.Module
{
    private readonly Tensor memory_s;
    private readonly Tensor memory_t;
    private readonly Tensor normalizers;

    /// <param name="random">The initial rows' draws (the run's, never libtorch's global generator).</param>
    public ContrastMemory(long samples, long dimension, Generator random) : base(nameof(ContrastMemory))
    {
        // RepDistiller's initialisation: uniform in ±1/sqrt(D/3).
        double bound = 1.0 / Math.Sqrt(dimension / 3.0);
        memory_s = torch.rand(samples, dimension, generator: random).mul_(2 * bound).add_(-bound);
        memory_t = torch.rand(samples, dimension, generator: random).mul_(2 * bound).add_(-bound);
        normalizers = torch.full(2, double.NaN);
        RegisterComponents();
    }

    public long Samples => memory_s.shape[0];

    /// <summary>Rows of the student (side 0) or teacher (side 1) memory for [B, K + 1] indices: [B, K + 1, D].</summary>
    public Tensor Rows(int side, Tensor indices) =>
        (side == 0 ? memory_s : memory_t).index_select(0, indices.flatten()).view(indices.shape[0], indices.shape[1], -1);

    /// <summary>Z of a side, computed by <paramref name="estimate"/> the first time it is asked for, then kept.</summary>
    public double Normalizer(int side, Func<double> estimate)
    {
        using var noGrad = torch.no_grad();
        double z = normalizers[side].ToDouble();
        if (double.IsNaN(z))
        {
            z = estimate();
            normalizers[side].fill_(z);
        }
        return z;
    }

    /// <summary>Writes the batch's updated rows back (in place, no gradient).</summary>
    public void Update(int side, Tensor indices, Tensor rows)
    {
        using var noGrad = torch.no_grad();
        (side == 0 ? memory_s : memory_t).index_copy_(0, indices, rows);
    }
}
