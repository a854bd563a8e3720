using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// A batched thin SVD whose gradient follows the KD-SVD authors' (sseung0703's <c>nets/SVP.py</c>, used by their
/// KD-SVD and KD_methods_with_TF code) rather than the plain SVD's. The plain gradient divides by s_i² − s_j², which is
/// 0 for equal singular values (a rank-deficient map: dead or repeated channels, as a grayscale image gives), and by
/// s_i, which is 0 for a missing rank; its non-finite values poison the weights and the next forward pass fails inside
/// the decomposition. The authors override the gradient and zero the non-finite entries of the 1/(s_i² − s_j²)
/// matrix (and remove non-finite values from s, U and V, which <see cref="SvdDistillationLoss"/> does).
/// </summary>
/// <remarks>
/// Implemented without a custom autograd node: the decomposition runs without gradient, and each output gets the
/// first-order change that the input's change causes (Uᵀ·dX·V gives ds = diag, and dV = V·(F ∘ (S·P + Pᵀ·S)) with
/// F_ij = 1/(s_j² − s_i²), plus (I − VVᵀ)·dXᵀ·U·S⁻¹ for a wide matrix), added as <c>t − t.detach()</c>. The values are
/// the decomposition's; the gradient is that linear map's adjoint, which is the SVD's own gradient wherever the
/// singular values are distinct and non-zero. Singular values at the matrix's numerical zero (at most
/// max(m, n)·ε·s_max, LAPACK's rank tolerance) count as 0, so that float rounding cannot turn the authors' exact
/// ties into huge finite factors. Unlike the authors' code, the gradient is not doubled (their <c>2·S·msym(…)</c> is twice
/// TensorFlow's own SVD gradient), so that a run with distinct singular values trains as RepDistiller's
/// <c>torch.svd</c> port does (the parity replay checks that).
/// </remarks>
internal static class SvdWithAuthorsGradient
{
    /// <summary>The singular values [B, k] and right singular vectors [B, n, k] of each [m, n] matrix, k = min(m, n).</summary>
    public static (Tensor Values, Tensor Vectors) Decompose(Tensor matrix)
    {
        using var scope = NewDisposeScope();
        Tensor u, s, v;
        using (no_grad())
        {
            var (left, values, vh) = linalg.svd(matrix.detach(), fullMatrices: false);
            (u, s, v) = (left, values, vh.transpose(1, 2));
        }
        if (!matrix.requires_grad) return (s.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());

        long m = matrix.shape[1], n = matrix.shape[2];
        double epsilon = matrix.dtype == ScalarType.Float64 ? 2.220446049250313e-16 : 1.1920928955078125e-07;
        var tolerance = s.narrow(1, 0, 1) * (Math.Max(m, n) * epsilon);
        var rankS = where(s > tolerance, s, zeros_like(s));
        var squares = rankS.pow(2);
        var pairs = Finite(1 / (squares.unsqueeze(1) - squares.unsqueeze(2)));
        pairs = pairs * (1 - eye(pairs.shape[1], dtype: pairs.dtype, device: pairs.device));

        var projected = u.transpose(1, 2).bmm(matrix).bmm(v);
        var vectorsChange = v.bmm(pairs * (rankS.unsqueeze(2) * projected + projected.transpose(1, 2) * rankS.unsqueeze(1)));
        if (m < n)
        {
            var xu = matrix.transpose(1, 2).bmm(u);
            vectorsChange = vectorsChange + (xu - v.bmm(v.transpose(1, 2).bmm(xu))) * Finite(1 / rankS).unsqueeze(1);
        }
        var valuesChange = projected.diagonal(0, 1, 2);
        return ((s + valuesChange - valuesChange.detach()).MoveToOuterDisposeScope(),
            (v + vectorsChange - vectorsChange.detach()).MoveToOuterDisposeScope());
    }

    private static Tensor Finite(Tensor x) => where(x.isfinite(), x, zeros_like(x));
}
