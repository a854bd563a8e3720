using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace KdTools.Core.Losses;

/// <summary>
/// Structured knowledge distillation for dense prediction (Liu et al., official code): a pixel-wise term on the
/// class-score maps and a pair-wise term on the similarities between pooled feature-map nodes. Teacher inputs are
/// treated as constants.
/// </summary>
internal static class StructuredKdLoss
{
    /// <summary>The reference's pooling scale for the pair-wise term.</summary>
    public const double DefaultPoolScale = 0.5;

    /// <summary>Keeps an all-zero node's normalisation finite, as in the reference.</summary>
    private const double NormEpsilon = 1e-8;

    /// <summary>
    /// <c>Σ −softmax(teacher)·log_softmax(student) / (H·W)</c> over the classes of all N·H·W pixels. It is the
    /// cross-entropy, not the KL divergence (identical maps give the teacher's entropy), with no temperature, and it is
    /// divided by H·W only, not by N.
    /// </summary>
    /// <param name="studentScores">[N, C, H, W] class scores (logits).</param>
    /// <param name="teacherScores">Same shape; detached here.</param>
    public static Tensor PixelWise(Tensor studentScores, Tensor teacherScores)
    {
        if (studentScores.dim() != 4 || !studentScores.shape.SequenceEqual(teacherScores.shape))
            throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                $"pixel-wise distillation needs student and teacher score maps of one shape [N, C, H, W], got [{Dims(studentScores)}] and " +
                $"[{Dims(teacherScores)}]; resize the student's map to the teacher's before the loss");
        using var scope = NewDisposeScope();
        var teacherProbs = softmax(teacherScores.detach(), 1);
        var crossEntropy = -(teacherProbs * log_softmax(studentScores, 1)).sum();
        return (crossEntropy / (studentScores.shape[2] * studentScores.shape[3])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Both maps are max-pooled with kernel = stride = <c>(int(H·scale), int(W·scale))</c> (ceil mode, so a partial
    /// last window is kept) into M nodes; each node's channel vector is divided by its L2 norm + 1e-8, and
    /// <c>loss = Σ (simᵀ − simˢ)² / M² / N</c> with <c>sim = FᵀF</c>, the M×M node similarities. Channel counts may differ.
    /// </summary>
    /// <remarks>
    /// As in the reference, the norm is a constant in the backward pass, for the student too, so the gradient is not
    /// the full derivative of the loss; kept so that training follows the published method.
    /// </remarks>
    /// <param name="studentFeature">[N, Cs, H, W].</param>
    /// <param name="teacherFeature">[N, Ct, H, W]; detached here.</param>
    /// <param name="poolScale">Pooling window as a fraction of the map, in (0, 1].</param>
    public static Tensor PairWise(Tensor studentFeature, Tensor teacherFeature, double poolScale = DefaultPoolScale)
    {
        if (studentFeature.dim() != 4 || teacherFeature.dim() != 4
            || studentFeature.shape[0] != teacherFeature.shape[0]
            || !studentFeature.shape[2..].SequenceEqual(teacherFeature.shape[2..]))
            throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                $"pair-wise distillation needs feature maps [N, C, H, W] with equal N, H and W, got [{Dims(studentFeature)}] and " +
                $"[{Dims(teacherFeature)}]; resize the student's feature to the teacher's spatial size before the loss");
        var window = PoolWindow(teacherFeature.shape[2], teacherFeature.shape[3], poolScale);

        using var scope = NewDisposeScope();
        var teacherSimilarity = NodeSimilarity(max_pool2d(teacherFeature.detach(), window, window, ceil_mode: true));
        var studentSimilarity = NodeSimilarity(max_pool2d(studentFeature, window, window, ceil_mode: true));
        long nodes = teacherSimilarity.shape[1];
        var loss = (teacherSimilarity - studentSimilarity).square().sum() / (nodes * nodes) / studentFeature.shape[0];
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>[N, C, h, w] pooled map → [N, M, M] dot products of the norm-scaled node vectors (norm detached).</summary>
    private static Tensor NodeSimilarity(Tensor pooled)
    {
        var norm = pooled.detach().square().sum(1, keepdim: true).sqrt() + NormEpsilon;
        var nodes = (pooled / norm).flatten(2);
        return nodes.transpose(1, 2).bmm(nodes);
    }

    /// <summary>Python's <c>int(H·scale)</c>: truncation, which the reference uses for the window.</summary>
    private static long[] PoolWindow(long height, long width, double poolScale)
    {
        long windowHeight = (long)(height * poolScale), windowWidth = (long)(width * poolScale);
        if (poolScale is not (> 0 and <= 1) || windowHeight < 1 || windowWidth < 1)
            throw new KdException(KdErrorIds.MethodOptionInvalid, KdErrorKind.InvalidArgument,
                $"pool scale {poolScale} gives a {windowHeight}x{windowWidth} pooling window on a {height}x{width} feature map; " +
                $"use a scale in (0, 1] that is at least 1/{Math.Min(height, width)}", poolScale);
        return [windowHeight, windowWidth];
    }

    private static string Dims(Tensor t) => string.Join(", ", t.shape);
}
