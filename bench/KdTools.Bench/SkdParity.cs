using System.Globalization;
using System.Text.Json;
using KdTools.Core.Models;
using KdTools.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// <c>./build.sh bench skd-parity</c>: checks that the segmentation rows of the benchmark time the same computation on
/// both sides. The student, the teacher and SKD's critic are filled deterministically (<see cref="TestNetworks"/>; the same
/// rule in bench_torch.py), fed the same 8×3×64×64 input and label maps (every 13th pixel ignored), and trained for two
/// SKD steps with dropout off and the gradient penalty's weights drawn from a generator seeded with the step's number;
/// every loss term of both steps (ce, pi, pa, ho, their total and the critic's loss) and the parameter counts must agree.
/// Prints a table; exit code 1 when a term differs by more than <see cref="Tolerance"/> (relative).
/// </summary>
internal static class SkdParity
{
    public const double Tolerance = 1e-4;
    private const int Side = 64;

    public static int Run()
    {
        var mine = KdTools();
        Console.WriteLine(JsonSerializer.Serialize(mine));
        var python = PythonTorch.Available(PyTorchReference.FindRepositoryRoot()).OrderByDescending(p => p.Label == "debian13").First();
        var start = python.Start("bench_torch.py");
        start.ArgumentList.Add("--skd-parity");
        start.ArgumentList.Add("--threads");
        start.ArgumentList.Add(torch.get_num_threads().ToString(CultureInfo.InvariantCulture));
        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        string? line, last = null;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            Console.WriteLine(line);
            if (line.StartsWith('{')) last = line;
        }
        process.WaitForExit();
        if (process.ExitCode != 0 || last is null)
        {
            Console.Error.WriteLine($"skd-parity: bench_torch.py ({python.Label}) exited with {process.ExitCode}");
            return 2;
        }
        using var theirs = JsonDocument.Parse(last);
        return Compare(mine, theirs.RootElement);
    }

    private static int Compare(Dictionary<string, object> mine, JsonElement theirs)
    {
        double worst = 0;
        Console.WriteLine();
        Console.WriteLine($"SKD parity, KdTools against PyTorch {theirs.GetProperty("torch").GetString()} (relative difference; tolerance {Tolerance:g})");
        foreach (var key in new[] { "student_parameters", "teacher_parameters", "critic_parameters" })
        {
            long a = (long)mine[key], b = theirs.GetProperty(key).GetInt64();
            Console.WriteLine($"{key,-24} {a,16:N0} {b,16:N0} {(a == b ? "equal" : "DIFFERENT")}");
            if (a != b) worst = double.PositiveInfinity;
        }
        var steps = (List<Dictionary<string, double>>)mine["steps"];
        var theirSteps = theirs.GetProperty("steps").EnumerateArray().ToList();
        for (int i = 0; i < steps.Count; i++)
            foreach (var (term, value) in steps[i])
            {
                double other = theirSteps[i].GetProperty(term).GetDouble();
                double difference = Math.Abs(value - other) / Math.Max(Math.Abs(other), 1e-6);
                worst = Math.Max(worst, difference);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {i + 1} {term,-17} {value,16:G9} {other,16:G9} {difference,10:E2}"));
            }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest relative difference {worst:E2}: {(worst <= Tolerance ? "same computation" : "DIFFERENT")}"));
        return worst <= Tolerance ? 0 : 1;
    }

    private static Dictionary<string, object> KdTools()
    {
        const int batch = SegmentationStepBenchmark.Batch, classes = SegmentationStepBenchmark.Classes;
        using var images = TestNetworks.ParityInput([batch, 3, Side, Side]);
        using var pixels = arange(batch * Side * Side, dtype: ScalarType.Int64);
        using var labels = where(pixels.remainder(13).eq(0), full_like(pixels, 255), pixels.div(7, RoundingMode.floor).remainder(classes))
            .view(batch, Side, Side);
        using var indices = arange(batch, dtype: ScalarType.Int64);
        using var teacher = ArchitectureRegistry.Create(SegmentationStepBenchmark.Teacher, classes, seed: 1);
        TestNetworks.FillDeterministically(teacher);
        teacher.eval();
        using var step = new SegmentationStep("SKD", teacher, null, images);
        TestNetworks.FillDeterministically(step.StudentNet);
        TestNetworks.FillDeterministically(step.Objective.Extras!);
        var steps = new List<Dictionary<string, double>>();
        for (ulong number = 1; number <= 2; number++)
        {
            using var random = new Generator(number);
            steps.Add(step.Run(images, labels, indices, random, dropout: false, readTerms: true)!);
        }
        return new Dictionary<string, object>
        {
            ["framework"] = "kdtools", ["bench"] = "skd_parity", ["steps"] = steps,
            ["student_parameters"] = step.StudentNet.ParameterCount(), ["teacher_parameters"] = teacher.ParameterCount(),
            ["critic_parameters"] = step.Objective.Extras!.parameters().Sum(p => p.numel()),
        };
    }
}
