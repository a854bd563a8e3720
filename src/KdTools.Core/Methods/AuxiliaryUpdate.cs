using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>
/// A method's second optimisation in every main-stage step (<see cref="DistillationMethod.AuxiliaryUpdate"/>), the
/// alternating update of an adversarial critic: after the student's SGD step the engine clears the gradients of
/// <see cref="Parameters"/>, backpropagates <see cref="Loss"/> and takes a step of this update's own SGD. Its momentum
/// buffers go into resumable checkpoints beside the student's, and its loss is reported as the term
/// <see cref="Name"/>, which is not part of the student's loss.
/// </summary>
/// <param name="Name">The reported term and the checkpoint prefix of its optimizer state (<c>critic</c>).</param>
/// <param name="LearningRate">Base learning rate of its SGD.</param>
/// <param name="Momentum">Its SGD momentum (PyTorch's rule, no Nesterov).</param>
/// <param name="WeightDecay">Its L2 weight decay.</param>
/// <param name="Parameters">
/// The named parameters it trains, all inside the method's <see cref="DistillationMethod.Extras"/>; they are left out of
/// the student's optimizer, so the student's loss never moves them even when it reads their module.
/// </param>
/// <param name="Loss">
/// Its scalar loss for the step, from the same <see cref="StepContext"/> the student's loss saw (outputs computed
/// before the student's update; detach what must not reach the student). Runs inside the step's dispose scope.
/// </param>
public sealed record AuxiliaryUpdate(
    string Name,
    double LearningRate,
    double Momentum,
    double WeightDecay,
    Func<IEnumerable<(string Name, Parameter Parameter)>> Parameters,
    Func<StepContext, Tensor> Loss)
{
    /// <summary>Its schedule over the main stage's steps; constant unless the method says otherwise.</summary>
    public Training.LearningRateSchedule Schedule { get; init; } = Training.LearningRateSchedule.Constant;
}
