using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Core.Tests.Methods;

/// <summary>
/// OFD's and TOFD's references distill with the teacher in train mode (issue 23's audit; TOFD found by the
/// reproduction's official driver): the default runs a private copy of the teacher with batch statistics, so the
/// objective differs from eval mode while the caller's teacher stays untouched.
/// </summary>
public class TeacherModeTests
{
    [Theory]
    [InlineData("OFD", "ofd")]
    [InlineData("TOFD", "feature")]
    public void The_default_train_mode_uses_batch_statistics_on_a_copy_and_leaves_the_callers_teacher_unchanged(string method, string term)
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        // Running averages far from any batch's statistics: eval and train mode then see different teacher features.
        using (torch.no_grad())
            foreach (var (name, buffer) in teacher.named_buffers().Where(b => b.name.EndsWith("running_mean")))
                buffer.fill_(0.5);
        var before = TinySetup.Weights(teacher);

        DistillationResult Run(string? mode)
        {
            var options = new Dictionary<string, object?>();
            if (mode is not null) options["TeacherMode"] = mode;
            if (method == "TOFD") options["HeadEpochs"] = 1;
            return Distillation.Run(new DistillationRequest
            {
                Dataset = data, StudentArchitecture = "resnet8", Teacher = teacher, MethodName = method,
                MethodOptions = options, Settings = TinySetup.Settings(1),
            });
        }
        var byDefault = Run(null);
        var eval = Run("Eval");

        Assert.Contains("TeacherMode=Train", byDefault.MethodOptions);
        // The main stage's epoch (TOFD's head stage comes first and has no such term).
        double Term(DistillationResult result) => result.TrainEpochs.Single(e => e.Terms.ContainsKey(term)).Terms[term];
        Assert.NotEqual(Term(eval), Term(byDefault));
        var after = TinySetup.Weights(teacher);
        Assert.All(before, b => Assert.Equal(b.Value, after[b.Key]));
    }
}
