using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>
/// Input checks shared by the loss functions. A mismatch fails before any math, with the loss name and both shapes,
/// instead of a broadcasting surprise or a native error deep inside libtorch.
/// </summary>
internal static class LossShapeChecks
{
    public static void SameShape(string loss, Tensor student, Tensor teacher)
    {
        if (!student.shape.SequenceEqual(teacher.shape))
            throw Mismatch(loss, $"student and teacher inputs must have the same shape, got {Show(student)} and {Show(teacher)}");
    }

    public static void SameBatch(string loss, Tensor student, Tensor teacher)
    {
        if (student.dim() == 0 || teacher.dim() == 0 || student.shape[0] != teacher.shape[0])
            throw Mismatch(loss, $"student and teacher inputs must share the batch dimension, got {Show(student)} and {Show(teacher)}");
    }

    public static void Rank(string loss, Tensor input, int rank, string layout)
    {
        if (input.dim() != rank)
            throw Mismatch(loss, $"expects {layout} inputs, got {Show(input)}");
    }

    public static void MinimumBatch(string loss, Tensor input, long minimum)
    {
        if (input.shape[0] < minimum)
            throw Mismatch(loss, $"needs a batch of at least {minimum} samples, got {Show(input)}; drop the last partial batch or enlarge it");
    }

    public static void SameCount<T>(string loss, IReadOnlyList<T> student, IReadOnlyList<T> teacher)
    {
        if (student.Count != teacher.Count || student.Count == 0)
            throw Mismatch(loss, $"needs the same, non-zero number of student and teacher layers, got {student.Count} and {teacher.Count}");
    }

    public static KdException Mismatch(string loss, string detail) =>
        new(KdErrorIds.LossShapeMismatch, KdErrorKind.InvalidArgument, $"{loss}: {detail}");

    private static string Show(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
