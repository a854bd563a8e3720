using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

/// <summary>
/// The guard against defaults that silently train like the CE baseline: for every registered method, at its default
/// weights and from a trained teacher, the gradient its own terms put on the student's parameters is at least 1 % of
/// the label cross-entropy's in each of the first steps of the main stage. (CC's former default, the Gaussian kernel
/// at β = 0.02, gave 0.02–0.06 % and failed it.)
/// </summary>
public class DistillationGradientTests(DistillationGradientTests.TeacherFixture fixture) : IClassFixture<DistillationGradientTests.TeacherFixture>
{
    /// <summary>
    /// A resnet8 teacher trained to about twice chance accuracy on four synthetic classes (with DIH heads): its outputs
    /// and features carry what a distillation term transfers, which an almost untrained teacher's do not.
    /// </summary>
    public sealed class TeacherFixture : IDisposable
    {
        public TeacherFixture()
        {
            Data = TinySetup.Dataset(train: 384, test: 32);
            var job = TinySetup.Job(Data, student: "resnet8");
            new Trainer(TinySetup.Settings(epochs: 3) with { LearningRate = 0.1 }).Run(job);
            Teacher = job.Student;
            WithHeads = HeadFineTuning.Run(Teacher, null, Data, TinySetup.Settings(epochs: 1) with { LearningRate = 0.1 }).Network as MultiExitNet ?? throw new InvalidOperationException("head fine-tuning returns a multi-exit network");
        }

        public KdDataset Data { get; }
        public ClassifierNet Teacher { get; }
        public MultiExitNet WithHeads { get; }

        public void Dispose() => Data.Dispose();
    }

    private const double MinimumRatio = 0.01;
    private const int Steps = 3;

    /// <summary>
    /// Methods that may fail the guard, each with the words of the reason its help gives (summary or an option's
    /// description) and the ratio it must stay under (an exemption that no longer fails is stale). A method lands here
    /// only when the reference it follows really trains that way.
    /// </summary>
    private static readonly Dictionary<string, (string Reason, double Ceiling)> Exemptions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CE"] = ("cross-entropy on the hard labels only", MinimumRatio),
        ["FSP"] = ("whose main stage has no FSP term", MinimumRatio),
        // Measured 0.007–0.013 over the first 40 steps: weak by design at the reference weight, and said so.
        ["VID"] = ("only about 1 % of the label loss's", 3 * MinimumRatio),
    };

    public static IEnumerable<object[]> Methods() => MethodRegistry.All.Where(m => m.Tasks.Contains(PredictionTask.Classification))
        .Select(m => m.Name).Order().Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Methods))]
    public void Distillation_gradient_is_at_least_a_hundredth_of_the_label_gradient_at_the_defaults(string name)
    {
        var ratios = FirstStepRatios(name);
        if (Exemptions.TryGetValue(name, out var exemption))
        {
            var descriptor = MethodRegistry.Get(name);
            var help = string.Join(" ", descriptor.Options.Select(o => o.Description).Prepend(descriptor.Summary));
            Assert.Contains(exemption.Reason, help, StringComparison.OrdinalIgnoreCase);
            // An exemption whose method now pulls harder than its ceiling is stale: remove it.
            Assert.All(ratios, r => Assert.True(r < exemption.Ceiling, $"{name}: ratio {r:G3} is above its exemption's ceiling {exemption.Ceiling}"));
            return;
        }
        Assert.All(ratios, r => Assert.True(r >= MinimumRatio,
            $"{name}: distillation/CE gradient norm ratios in the first {Steps} steps are {string.Join(", ", ratios.Select(x => x.ToString("G3")))}; " +
            $"at least {MinimumRatio} expected (a default weight that makes the method train like CE)"));
    }

    /// <summary>
    /// Runs the method's pre-stages (shortened to one epoch) through the engine, then takes <see cref="Steps"/> plain SGD
    /// steps of the main stage, measuring before each one ‖∇ distillation terms‖ / ‖∇ CE‖ over the student's parameters.
    /// </summary>
    private List<double> FirstStepRatios(string name)
    {
        using var method = MethodRegistry.Create(name, ShortPreStages.For(name));
        var data = fixture.Data;
        var student = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 5);
        ClassifierNet? teacher = !method.NeedsTeacher ? null : name == "DIH" ? fixture.WithHeads : fixture.Teacher;
        // No main-stage epochs: the engine only initialises the method's modules and runs its pre-stages.
        new Trainer(TinySetup.Settings(epochs: 0)).Run(new TrainingJob { Student = student, Teacher = teacher, Method = method, Dataset = data });

        var studentParameters = student.parameters().ToList();
        var trainable = studentParameters.Concat(method.Extras?.parameters() ?? []).ToList();
        var loader = new BatchLoader(data.Train, 32, shuffle: true);
        var ratios = new List<double>();
        using var orderScope = NewDisposeScope();
        var order = loader.EpochOrder(13);
        student.train();
        method.Extras?.train();
        method.PrepareEpoch(Trainer.MainStage);
        teacher?.eval();
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            using var random = new Generator((ulong)(100 + step));
            var batch = loader.GetBatch(order, step % loader.BatchCount);
            var inputs = BatchAugmentation.Prepare(batch.Images, data.Mean, data.Std, augment: false);
            ModelOutput? teacherOutput = null;
            if (teacher is not null)
                using (no_grad()) teacherOutput = teacher.Run(inputs);
            var output = student.Run(inputs);
            var terms = new LossTerms();
            method.AddLosses(new StepContext(inputs, batch.Labels, batch.Indices, output, teacherOutput, epoch: 0,
                epochs: new TrainingSettings().Epochs, random), terms);
            var distillation = terms.Items.Where(t => t.Key != "ce").Select(t => t.Value).ToList();
            var crossEntropy = nn.functional.cross_entropy(output.Logits, batch.Labels);

            var labelGradient = Gradients(crossEntropy, trainable, retainGraph: true);
            if (distillation.Count == 0)
            {
                ratios.Add(0);
                continue;
            }
            var distillationGradient = Gradients(distillation.Aggregate((a, b) => a + b), trainable, retainGraph: false);
            ratios.Add(Norm(distillationGradient.Take(studentParameters.Count)) / Norm(labelGradient.Take(studentParameters.Count)));

            // The step the engine would take on the same terms (task loss with the method's weight), without momentum.
            using (no_grad())
                for (int i = 0; i < trainable.Count; i++)
                    trainable[i].sub_((method.TaskLossWeight * labelGradient[i] + distillationGradient[i]) * 0.05);
        }
        return ratios;
    }

    /// <summary>The gradient of <paramref name="loss"/> for each parameter; zeros where the loss does not reach it.</summary>
    private static List<Tensor> Gradients(Tensor loss, List<TorchSharp.Modules.Parameter> parameters, bool retainGraph)
    {
        foreach (var p in parameters) p.grad = null;
        loss.backward(retain_graph: retainGraph);
        return parameters.Select(p => p.grad is { } g ? g.clone() : zeros_like(p)).ToList();
    }

    private static double Norm(IEnumerable<Tensor> gradients) =>
        Math.Sqrt(gradients.Sum(g => g.square().sum().ToDouble()));
}
