using System.Text.Json;
using System.Text.Json.Serialization;
using KdTools.Core.Checkpoints;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>
/// Observes a real training run and keeps what its PyTorch replay needs: the initial states (after the method's
/// Initialize), every step's inputs, labels, indices, draws, learning rate and loss terms, the final states, and
/// anything else the replay needs (<see cref="Keep"/>: the training split's labels, which CRD's negatives are checked against).
/// </summary>
internal sealed class TrainingRecorder : ITrainingObserver, IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _tensors = [];
    private readonly List<object> _steps = [];

    public int Steps => _steps.Count;

    public void Started(TrainingJob job) => Capture("initial", job);

    public void StepCompleted(StepTrace trace)
    {
        string prefix = $"step{_steps.Count}/";
        Keep(prefix + "inputs", trace.Inputs);
        Keep(prefix + "labels", trace.Labels);
        Keep(prefix + "indices", trace.Indices);
        foreach (var (name, draw) in trace.Draws) Keep($"{prefix}draw/{name}", draw);
        _steps.Add(new
        {
            stage = trace.Stage,
            epoch = trace.Epoch,
            epochs = trace.Epochs,
            batch = trace.Batch,
            learning_rate = trace.LearningRate,
            terms = trace.Terms.Select(t => new object[] { t.Key, t.Value }).ToList(),
        });
    }

    /// <summary>
    /// Keeps the states after the run, with the teacher that ran: it must not have changed, except a train-mode
    /// method's copy (OFD), whose BatchNorm averages moved as PyTorch's do.
    /// </summary>
    public void Finished(TrainingJob job) => Capture("final", job);

    /// <summary>Writes <c>run.json</c> (<paramref name="run"/> plus the steps) and <c>tensors.safetensors</c>.</summary>
    public void Write(string folder, IDictionary<string, object?> run)
    {
        Directory.CreateDirectory(folder);
        run["steps"] = _steps;
        File.WriteAllText(Path.Combine(folder, "run.json"), JsonSerializer.Serialize(run, new JsonSerializerOptions
        {
            WriteIndented = true,
            // Enum options (CRD's Sampling, KDSVD's Layout) by name, as the PyTorch side reads them.
            Converters = { new JsonStringEnumConverter() },
        }));
        SafeTensorsFile.Write(Path.Combine(folder, "tensors.safetensors"), _tensors, new Dictionary<string, string>());
    }

    public void Dispose()
    {
        foreach (var (_, tensor) in _tensors) tensor.Dispose();
    }

    private void Capture(string moment, TrainingJob job)
    {
        var modules = new (string Role, nn.Module? Module)[] { ("student", job.Student), ("teacher", job.Teacher), ("extras", job.Method.Extras) };
        foreach (var (role, module) in modules.Where(m => m.Module is not null))
            foreach (var (key, value) in module!.state_dict()) Keep($"{moment}/{role}/{key}", value);
    }

    /// <summary>Keeps a copy of <paramref name="tensor"/> for the export under <paramref name="name"/>.</summary>
    public void Keep(string name, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        _tensors.Add(new(name, tensor.detach().cpu().clone().DetachFromDisposeScope()));
    }
}
