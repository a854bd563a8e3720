using KdTools.Core.Training;

namespace KdTools.Core.Tests.Training;

/// <summary>
/// Each run owns its generators: the same seed gives bit-identical weights alone, one after another, and on two threads
/// at once in one process (a ForEach-Object -Parallel sweep), where model creation, the method's modules and every
/// step's draws of both runs interleave.
/// </summary>
public class ReproducibilityTests
{
    [Theory]
    [InlineData("CRD")]
    [InlineData("BYOT")]
    public void Same_seed_gives_bit_identical_weights_alone_and_in_parallel(string method)
    {
        using var data = TinySetup.Dataset(train: 96, test: 32);
        var teacher = Distillation.Run(Request(data, "CE", teacher: null)).Network;
        var options = method == "CRD" ? new Dictionary<string, object?> { ["Negatives"] = 64 } : null;
        DistillationResult Run() => Distillation.Run(Request(data, method, teacher, options));

        var alone = Weights(Run());
        var again = Weights(Run());
        var parallel = new[] { Task.Run(Run), Task.Run(Run) }.Select(t => Weights(t.Result)).ToList();

        foreach (var other in parallel.Prepend(again))
        {
            Assert.Equal(alone.Keys, other.Keys);
            foreach (var key in alone.Keys) Assert.True(alone[key].SequenceEqual(other[key]), $"{method}: {key} differs");
        }
    }

    private static DistillationRequest Request(Core.Data.KdDataset data, string method, Core.Models.ClassifierNet? teacher,
        IReadOnlyDictionary<string, object?>? options = null) => new()
    {
        Dataset = data,
        StudentArchitecture = "resnet8",
        Teacher = teacher,
        MethodName = method,
        MethodOptions = options,
        Settings = TinySetup.Settings(epochs: 1),
    };

    private static Dictionary<string, float[]> Weights(DistillationResult result) => TinySetup.Weights(result.Network);
}
