using static TorchSharp.torch;

namespace KdTools.Core.Losses;

/// <summary>FitNets (Romero et al. 2015) hint loss, as RepDistiller's HintLoss.</summary>
internal static class FitNetLoss
{
    /// <summary>
    /// <c>mean((f_s − f_t)²)</c> over all elements. <paramref name="studentHint"/> is the student feature after its
    /// regressor, so both inputs have the same shape. The teacher hint is treated as a constant.
    /// </summary>
    public static Tensor Compute(Tensor studentHint, Tensor teacherHint)
    {
        LossShapeChecks.SameShape("FitNet", studentHint, teacherHint);
        using var scope = NewDisposeScope();
        return nn.functional.mse_loss(studentHint, teacherHint.detach()).MoveToOuterDisposeScope();
    }
}
