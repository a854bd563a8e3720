using KdTools.Core.Data;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Training;

public class TrainingObserverTests
{
    private sealed record SeenStep(string Stage, int Batch, string[] Terms, long[] Indices, Dictionary<string, long[]> DrawShapes,
        long[] FirstColumn);

    /// <summary>Keeps what it is shown: stage, batch, term names, sample indices, the draws' shapes and first columns.</summary>
    private sealed class ListObserver : ITrainingObserver
    {
        public int Started { get; private set; }
        public List<SeenStep> Steps { get; } = [];

        void ITrainingObserver.Started(TrainingJob job) => Started++;

        void ITrainingObserver.StepCompleted(StepTrace trace)
        {
            var draw = trace.Draws.Values.FirstOrDefault();
            Steps.Add(new SeenStep(trace.Stage, trace.Batch, trace.Terms.Select(t => t.Key).ToArray(), trace.Indices.data<long>().ToArray(),
                trace.Draws.ToDictionary(d => d.Key, d => d.Value.shape),
                draw is null ? [] : draw.select(1, 0).data<long>().ToArray()));
        }
    }

    [Fact]
    public void An_observer_sees_every_step_of_every_stage_and_changes_nothing()
    {
        using var data = TinySetup.Dataset(train: 64, test: 16);
        var options = new Dictionary<string, object?> { ["HintEpochs"] = 1 };
        var observed = TinySetup.Job(data, "FitNet", TeacherFor(data), options: options);
        var observer = new ListObserver();
        TinySetup.Train(observed, TinySetup.Settings(epochs: 1), new EngineOptions { Observer = observer });
        var plain = TinySetup.Job(data, "FitNet", TeacherFor(data), options: options);
        TinySetup.Train(plain, TinySetup.Settings(epochs: 1));

        Assert.Equal(1, observer.Started);
        Assert.Equal(["hint", "hint", Trainer.MainStage, Trainer.MainStage], observer.Steps.Select(s => s.Stage));
        Assert.Equal([0, 1, 0, 1], observer.Steps.Select(s => s.Batch));
        Assert.Equal(["hint"], observer.Steps[0].Terms);
        Assert.Equal(["ce", "hint"], observer.Steps[2].Terms);
        Assert.All(observer.Steps, s => Assert.Empty(s.DrawShapes));
        Assert.All(observer.Steps, s => Assert.Equal(32, s.Indices.Length));
        var withObserver = TinySetup.Weights(observed.Student);
        foreach (var (key, values) in TinySetup.Weights(plain.Student)) Assert.Equal(values, withObserver[key]);
    }

    [Fact]
    public void Crd_records_its_negatives_with_the_sample_itself_in_column_zero()
    {
        using var data = TinySetup.Dataset(train: 64, test: 16);
        var observer = new ListObserver();
        TinySetup.Train(TinySetup.Job(data, "CRD", TeacherFor(data)), TinySetup.Settings(epochs: 1), new EngineOptions { Observer = observer });

        Assert.Equal(2, observer.Steps.Count);
        foreach (var step in observer.Steps)
        {
            // Negatives are capped at the training-set size − 1: 63 plus the positive.
            Assert.Equal([32L, 64L], step.DrawShapes["contrast"]);
            Assert.Equal(step.Indices, step.FirstColumn);
        }
    }

    private static ClassifierNet TeacherFor(KdDataset data) => ArchitectureRegistry.Create("resnet8x4", data.Classes, seed: 2);
}
