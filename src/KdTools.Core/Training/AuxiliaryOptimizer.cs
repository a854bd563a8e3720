using KdTools.Core.Methods;
using TorchSharp;

namespace KdTools.Core.Training;

/// <summary>
/// Runs a method's <see cref="AuxiliaryUpdate"/> in the main stage: its own SGD over its parameters (momentum buffers
/// named <c>{update name}.{parameter}</c> in checkpoints), its rate from its own schedule, one update per step after
/// the student's.
/// </summary>
internal sealed class AuxiliaryOptimizer : IDisposable
{
    public AuxiliaryOptimizer(AuxiliaryUpdate update)
    {
        Update = update;
        Optimizer = new SgdOptimizer(update.Parameters().Select(p => ($"{update.Name}.{p.Name}", p.Parameter)),
            update.LearningRate, update.Momentum, update.WeightDecay, nesterov: false);
    }

    public AuxiliaryUpdate Update { get; }
    public SgdOptimizer Optimizer { get; }

    /// <summary>Sets the rate of step <paramref name="batch"/> of epoch <paramref name="epoch"/> of the stage.</summary>
    public void ScheduleAt(int epoch, int epochs, int batch, int batches) =>
        Optimizer.LearningRate = Update.Schedule.RateAt(Update.LearningRate, epoch, epochs, batch, batches);

    /// <summary>
    /// Drops the gradients the student's backward pass left on the parameters, backpropagates the update's loss and
    /// steps; returns the loss. Call inside the step's dispose scope.
    /// </summary>
    public double Step(StepContext context)
    {
        Optimizer.ZeroGrad();
        var loss = Update.Loss(context);
        loss.backward();
        Optimizer.Step();
        return loss.ToDouble();
    }

    public void Dispose() => Optimizer.Dispose();
}
