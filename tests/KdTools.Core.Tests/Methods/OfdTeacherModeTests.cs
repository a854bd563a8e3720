using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Core.Tests.Methods;

/// <summary>
/// OFD's references distill with the teacher in train mode (issue 23's audit): the default runs a private copy of the
/// teacher with batch statistics, so the objective differs from eval mode while the caller's teacher stays untouched.
/// </summary>
public class OfdTeacherModeTests
{
    [Fact]
    public void The_default_train_mode_uses_batch_statistics_on_a_copy_and_leaves_the_callers_teacher_unchanged()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        // Running averages far from any batch's statistics: eval and train mode then see different teacher features.
        using (torch.no_grad())
            foreach (var (name, buffer) in teacher.named_buffers().Where(b => b.name.EndsWith("running_mean")))
                buffer.fill_(0.5);
        var before = TinySetup.Weights(teacher);

        DistillationResult Run(string mode) => Distillation.Run(new DistillationRequest
        {
            Dataset = data, StudentArchitecture = "resnet8", Teacher = teacher, MethodName = "OFD",
            MethodOptions = new Dictionary<string, object?> { ["TeacherMode"] = mode }, Settings = TinySetup.Settings(1),
        });
        var train = Run("Train");
        var eval = Run("Eval");

        Assert.Contains("TeacherMode=Train", train.MethodOptions);
        Assert.NotEqual(eval.TrainEpochs.Single().Terms["ofd"], train.TrainEpochs.Single().Terms["ofd"]);
        var after = TinySetup.Weights(teacher);
        Assert.All(before, b => Assert.Equal(b.Value, after[b.Key]));
    }
}
