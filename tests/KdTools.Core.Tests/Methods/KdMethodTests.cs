using KdTools.Core.Losses;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

public class KdMethodTests
{
    [Fact]
    public void KD_run_reports_ce_and_kd_terms_and_leaves_the_teacher_untouched()
    {
        using var data = TinySetup.Dataset(train: 128, test: 64);
        var teacherJob = TinySetup.Job(data, student: "resnet14");
        new Trainer(TinySetup.Settings(epochs: 1)).Run(teacherJob);
        var teacher = teacherJob.Student;
        var before = TinySetup.Weights(teacher);
        var buffersBefore = teacher.state_dict().Where(kv => kv.Key.EndsWith("num_batches_tracked")).ToDictionary(kv => kv.Key, kv => kv.Value.item<long>());

        var job = TinySetup.Job(data, method: "KD", teacher: teacher);
        var result = new Trainer(TinySetup.Settings(epochs: 1)).Run(job);

        var epoch = result.TrainEpochs.Single();
        Assert.Equal(new[] { "ce", "kd" }, epoch.Terms.Keys);
        Assert.Equal(epoch.TrainLoss, epoch.Terms.Values.Sum(), 6);
        var after = TinySetup.Weights(teacher);
        foreach (var key in before.Keys) Assert.Equal(before[key], after[key]);
        foreach (var (key, count) in buffersBefore) Assert.Equal(count, teacher.state_dict()[key].item<long>());
        Assert.False(teacher.training);
    }

    [Fact]
    public void KD_loss_is_one_minus_alpha_CE_plus_alpha_KD_term()
    {
        using var method = MethodRegistry.Create("KD", new Dictionary<string, object?> { ["Alpha"] = 0.25, ["Temperature"] = 3 });
        using var scope = torch.NewDisposeScope();
        var student = torch.tensor(new double[] { 1, 2, 0.5, -1, 0, 3 }, 2, 3).requires_grad_(true);
        var teacher = torch.tensor(new double[] { 2, 1, 0, 0, 1, 2 }, 2, 3);
        var labels = torch.tensor(new long[] { 0, 2 });
        var terms = new LossTerms();
        var context = new StepContext(student, labels, labels, new ModelOutput(student, new()), new ModelOutput(teacher, new()), 0);
        method.AddLosses(context, terms);

        var expected = 0.25 * KdLoss.Compute(student, teacher, 3);
        Assert.Equal(expected.item<double>(), terms.Items.Single(t => t.Key == "kd").Value.item<double>(), 12);
        Assert.Equal(0.75, method.TaskLossWeight);
    }

    [Fact]
    public void Methods_that_need_a_teacher_refuse_to_run_without_one()
    {
        using var data = TinySetup.Dataset(train: 32, test: 8);
        var ex = Assert.Throws<KdException>(() => TinySetup.Train(TinySetup.Job(data, method: "KD"), TinySetup.Settings(epochs: 1)));
        Assert.Equal(KdErrorIds.MethodNeedsTeacher, ex.ErrorId);
    }

    [Fact]
    public void Teacher_and_student_class_counts_must_agree()
    {
        using var data = TinySetup.Dataset(train: 32, test: 8, classes: 4);
        var teacher = ArchitectureRegistry.Create("resnet8", 10);
        var ex = Assert.Throws<KdException>(() => TinySetup.Train(TinySetup.Job(data, method: "KD", teacher: teacher), TinySetup.Settings(epochs: 1)));
        Assert.Equal(KdErrorIds.ClassCountMismatch, ex.ErrorId);
        Assert.Contains("10 classes", ex.Message);
    }
}
