using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>
/// Watches the engine step by step, for checks that replay a run elsewhere (the PyTorch parity tests). Off by default:
/// without an observer (<see cref="Trainer.Observer"/>) the engine does no extra work.
/// </summary>
internal interface ITrainingObserver
{
    /// <summary>
    /// Called once, after the method's <c>Initialize</c>, the move to the device and any resume, right before the first
    /// step, so the student's, teacher's and method modules' starting weights can be read.
    /// </summary>
    void Started(TrainingJob job);

    /// <summary>Called after every step's update. The trace's tensors die with the step: copy what you keep.</summary>
    void StepCompleted(StepTrace trace);

    /// <summary>
    /// Called once when the run ends, with the job as it ran: its teacher is the network that computed the teacher's
    /// outputs (a train-mode method's private copy, whose BatchNorm averages moved).
    /// </summary>
    void Finished(TrainingJob job)
    {
    }
}

/// <summary>What one training step consumed and produced.</summary>
/// <param name="Stage">The stage's name (<see cref="Trainer.MainStage"/> or a pre-stage's).</param>
/// <param name="Epoch">0-based epoch within the stage.</param>
/// <param name="Epochs">The stage's length in epochs.</param>
/// <param name="Batch">0-based batch within the epoch.</param>
/// <param name="LearningRate">The rate the update used.</param>
/// <param name="Inputs">The network input: normalised and augmented, on the training device.</param>
/// <param name="Labels">Class labels, int64 [B].</param>
/// <param name="Indices">Positions of the samples in the training split, int64 [B].</param>
/// <param name="Terms">Every weighted loss term, in the order the step added them (their sum was backpropagated).</param>
/// <param name="Draws">The method's random draws of the step (<see cref="Methods.StepContext.RecordDraw"/>), by name.</param>
internal sealed record StepTrace(
    string Stage, int Epoch, int Epochs, int Batch, double LearningRate, Tensor Inputs, Tensor Labels, Tensor Indices,
    IReadOnlyList<KeyValuePair<string, double>> Terms, IReadOnlyDictionary<string, Tensor> Draws);
